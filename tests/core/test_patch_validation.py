"""Every PATCH/PUT body of the API, field by field: ``null`` for a field that needs a value, and
a value of the wrong type, are a 422 naming that field, and nothing is stored.

The routes and their body models are discovered from the application, and the fields from the
models, so a route or field added later is covered without touching this file (a new route
fails :func:`test_every_patch_route_is_covered` until it gets a record to patch below).
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from beanie import Document
from litestar.routes import HTTPRoute
from pydantic import BaseModel, ValidationError

from appcenter.models import AppListing
from gnews.accounts.models import User
from gnews.agencies.models import Agency
from gnews.app import create_app
from gnews.config import load_settings
from gnews.core.persistence import object_id
from gnews.core.schemas import NoNullsPatch
from gnews.devices.models import Device
from gnews.news.models import NewsItem
from gnews.notifications.models import Notification
from gnews.plugins import build_plugin_manager
from gnews.sources.models import Source
from tests.news.test_editorial import make_item
from tests.news.test_editorial import make_source as make_news_source
from tests.support.api import assert_error
from tests.support.devices import device_auth, register
from tests.support.gac import create as create_listing
from tests.support.gac import make_agency

WRITE_METHODS = {"PATCH", "PUT"}
# Tried in turn: the first one the field's own validation refuses is sent as "the wrong type".
WRONG_VALUES: tuple[Any, ...] = ({"not": "this"}, ["not", "this"], 12345, True, "not-a-value")


def patch_routes() -> dict[type[BaseModel], str]:
    """Each PATCH/PUT body model of the application and its route's path."""
    settings = load_settings(
        mongodb_uri="mongodb://127.0.0.1:9",
        redis_url="redis://127.0.0.1:9",
        mongodb_db="unused",
        data_dir=Path("/nonexistent"),
        plugins=[],
    )
    app = create_app(
        settings, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    routes: dict[type[BaseModel], str] = {}
    for route in app.routes:
        if not isinstance(route, HTTPRoute):
            continue
        for handler in route.route_handlers:
            data = handler.parsed_data_field
            if WRITE_METHODS & set(handler.http_methods) and data is not None:
                routes[data.annotation] = route.path
    return routes


ROUTES = patch_routes()


@dataclass
class Target:
    """A stored record a PATCH may change: its URL, who may change it, how to read it raw."""

    url: str
    headers: dict[str, str]
    model: type[Document]
    query: dict[str, Any]

    async def stored(self) -> dict[str, Any] | None:
        return await self.model.get_pymongo_collection().find_one(self.query)


async def _agency(client, auth_headers) -> Target:
    await make_agency("dopa")
    return Target("/api/v1/agencies/dopa", await auth_headers("admin"), Agency, {"code": "dopa"})


async def _user(client, auth_headers, make_user) -> Target:
    user = await make_user("agency", agency="dopa")
    return Target(f"/api/v1/users/{user.id}", await auth_headers("admin"), User, {"_id": user.id})


async def _source(client, auth_headers) -> Target:
    await make_agency("dopa")
    source = await make_news_source()
    return Target(
        f"/api/v1/sources/{source.id}", await auth_headers("admin"), Source, {"_id": source.id}
    )


async def _item(client, auth_headers) -> Target:
    item = await make_item(await make_news_source())
    return Target(
        f"/api/v1/editorial/items/{item.id}",
        await auth_headers("editor"),
        NewsItem,
        {"_id": item.id},
    )


async def _device(client, auth_headers) -> Target:
    device = await register(client)
    return Target(
        f"/api/v1/devices/{device['id']}",
        device_auth(device["secret"]),
        Device,
        {"_id": object_id(device["id"])},
    )


async def _draft(client, auth_headers) -> Target:
    headers = await auth_headers("editor")
    body = {
        "title_th": "ประกาศ",
        "body_th": "เนื้อหา",
        "audience": {"provinces": ["TH-60"]},
        "draft": True,
    }
    created = await client.post("/api/v1/notifications", headers=headers, json=body)
    assert created.status_code == 201, created.text
    draft = await Notification.get(created.json()["id"])
    return Target(f"/api/v1/notifications/{draft.id}", headers, Notification, {"_id": draft.id})


async def _listing(client, auth_headers) -> Target:
    await make_agency("dopa")
    headers = await auth_headers("admin")
    listing = await create_listing(client, headers)
    stored = await AppListing.get(listing["id"])
    return Target(f"/api/v1/gac/listings/{stored.id}", headers, AppListing, {"_id": stored.id})


TARGETS: dict[str, Callable[..., Awaitable[Target]]] = {
    "AgencyPatch": _agency,
    "UserPatch": _user,
    "SourcePatch": _source,
    "ItemPatch": _item,
    "DevicePatch": _device,
    "DraftChangesIn": _draft,
    "ListingPatch": _listing,
}


def test_every_patch_route_is_covered() -> None:
    assert ROUTES, "no PATCH/PUT route found"
    for model, path in ROUTES.items():
        assert issubclass(model, NoNullsPatch), f"{path}: {model.__name__} is not a NoNullsPatch"
        assert model.__name__ in TARGETS, f"{path}: add a record to patch for {model.__name__}"


def wrong_value(model: type[BaseModel], field: str) -> Any:
    """A value of ``field`` that the model's own validation refuses."""
    for value in WRONG_VALUES:
        try:
            model.model_validate({field: value})
        except ValidationError as error:
            if any(e["loc"] == (field,) for e in error.errors()):
                return value
    raise AssertionError(f"{model.__name__}.{field}: no wrong value found among {WRONG_VALUES}")


@pytest.mark.parametrize("model", list(ROUTES), ids=lambda model: model.__name__)
async def test_null_and_wrong_types_are_refused_and_nothing_is_stored(
    client: httpx.AsyncClient, auth_headers, make_user, model: type[NoNullsPatch]
) -> None:
    make = TARGETS[model.__name__]
    extra = {"make_user": make_user} if make is _user else {}
    target = await make(client, auth_headers, **extra)
    before = await target.stored()
    assert before is not None
    sent = 0
    for field in model.model_fields:
        bodies = [] if field in model.nullable_fields else [{field: None}]
        bodies.append({field: wrong_value(model, field)})
        for body in bodies:
            response = await client.patch(target.url, headers=target.headers, json=body)
            assert_error(response, 422, field=field)
            sent += 1
    assert sent >= len(model.model_fields)
    assert await target.stored() == before

"""``/api/v1/devices``: phones register, read and change their own device, and read their feed.

Authentication: ``POST /api/v1/devices`` answers the device's ``id`` and ``secret`` (shown once;
registering the same push token again updates that device and issues a new secret, see
:mod:`gnews.devices.service`). Every other call names the device in the path and sends
``Authorization: Device <secret>``:

* no ``Authorization: Device …`` header → 401;
* a wrong secret, an unknown or malformed id, a deactivated device → 404, the same answer in
  every case, so nobody learns whether a device exists.

A device sees and changes only itself: another device's id with one's own secret is a 404.
Registration spends the ``registrations`` budget of the client address, every other call the
``reads`` budget (:mod:`gnews.core.rate_limit`); 429 with ``Retry-After`` beyond.
"""

from __future__ import annotations

import re
from collections.abc import Callable
from typing import Annotated

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromQuery, JSONBody
from pydantic import (
    AfterValidator,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    ValidationInfo,
    field_validator,
)

from gnews.core.clock import UtcDateTime
from gnews.core.http_cache import encode, json_response
from gnews.core.localisation import Language, choose_language
from gnews.core.pagination import Cursor, Limit, check_limit
from gnews.core.rate_limit import READS, REGISTRATIONS, rate_limited
from gnews.core.schemas import NoNullsPatch
from gnews.devices import service
from gnews.devices.models import Device, Platform
from gnews.geo.provinces import all_provinces, check_province_code
from gnews.news import feed
from gnews.news.categories import check_category
from gnews.news.controllers import FeaturedFirst, SearchQuery, Since
from gnews.news.search import check_query
from gnews.specs import AGENCY_CODE_PATTERN

DEVICE_SECRET = [{"DeviceSecret": []}]
"""OpenAPI security requirement of the routes a device calls with its secret."""

AUTH_SCHEME = "device"
MAX_CATEGORIES = 30
MAX_AGENCIES = 100
NO_STORE = CacheControlHeader(no_store=True)


def _each(check: Callable[[str], str]) -> AfterValidator:
    """A list validator: ``check`` (raising ValueError) on every item, naming the list field
    and the item's index; duplicates dropped."""

    def validate(values: list[str]) -> list[str]:
        checked = []
        for index, value in enumerate(values):
            try:
                checked.append(check(value))
            except ValueError as error:
                raise ValueError(f"item {index}: {error}") from None
        return list(dict.fromkeys(checked))

    return AfterValidator(validate)


def _agency_code(value: str) -> str:
    if not re.fullmatch(AGENCY_CODE_PATTERN, value):
        raise ValueError(f"not an agency code: {value!r}")
    return value


Provinces = Annotated[
    list[str],
    Field(max_length=len(all_provinces()), description="ISO 3166-2:TH codes, e.g. TH-60"),
    _each(check_province_code),
]
Categories = Annotated[
    list[str],
    Field(max_length=MAX_CATEGORIES, description="category codes (GET /api/v1/news/categories)"),
    _each(check_category),
]
Agencies = Annotated[
    list[str],
    Field(max_length=MAX_AGENCIES, description="codes of active agencies"),
    _each(_agency_code),
]
PushToken = Annotated[
    str,
    StringConstraints(max_length=4096),
    Field(description="FCM registration token (android) or APNs device token in hex (ios)"),
]
AppVersion = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]


class DeviceIn(BaseModel):
    """An install of the app registering (or re-registering) its push token."""

    model_config = ConfigDict(extra="forbid")

    platform: Platform
    push_token: PushToken
    provinces: Provinces = []
    categories: Categories = []
    agencies: Agencies = []
    language: Language = "th"
    app_version: AppVersion | None = None

    @field_validator("push_token")
    @classmethod
    def _check_token(cls, value: str, info: ValidationInfo) -> str:
        platform = info.data.get("platform")
        if platform is None:  # the platform is invalid; that error is reported
            return value
        return service.check_push_token(platform, value)


class DevicePatch(NoNullsPatch):
    """Changes to a device; omitted fields stay as they are, ``null`` is refused."""

    push_token: PushToken | None = None
    provinces: Provinces | None = None
    categories: Categories | None = None
    agencies: Agencies | None = None
    language: Language | None = None
    app_version: AppVersion | None = None


class DeviceOut(BaseModel):
    """A device as its own app sees it (never its secret)."""

    id: str
    platform: Platform
    push_token: str
    provinces: list[str]
    categories: list[str]
    agencies: list[str]
    language: Language
    app_version: str | None
    created_at: UtcDateTime
    updated_at: UtcDateTime
    last_seen_at: UtcDateTime

    @classmethod
    def of(cls, device: Device) -> DeviceOut:
        """Convert a stored device."""
        return cls(id=str(device.id), **device.model_dump(include=set(cls.model_fields) - {"id"}))


class RegisteredDeviceOut(DeviceOut):
    """A registered device and its secret, which is shown only in this response."""

    secret: str = Field(description="send `Authorization: Device <secret>`; shown only once")


async def provide_device(request: Request) -> Device:
    """Dependency ``device``: the device of the path, authenticated by its secret (401 without
    an ``Authorization: Device <secret>`` header, 404 for anything that does not match)."""
    scheme, _, secret = request.headers.get("authorization", "").partition(" ")
    if scheme.lower() != AUTH_SCHEME or not secret.strip():
        raise NotAuthorizedException(
            "send the device secret: Authorization: Device <secret>",
            headers={"WWW-Authenticate": "Device"},
        )
    device = await service.authenticate(request.path_params["device_id"], secret.strip())
    if device is None:
        raise NotFoundException("no such device")
    return device


_DEVICE_FEED = {
    200: ResponseSpec(data_container=feed.NewsPage, description="a page of the device's news")
}


class DeviceController(Controller):
    """Register a device; read, change and deactivate it; read its feed."""

    path = "/api/v1/devices"
    tags = ["devices"]
    dependencies = {"device": Provide(provide_device)}

    @post(
        "/",
        summary="Register a device (or re-register its push token)",
        guards=[rate_limited(REGISTRATIONS)],
        cache_control=NO_STORE,
    )
    async def register(self, data: JSONBody[DeviceIn]) -> RegisteredDeviceOut:
        """201 with the device and its secret (shown once). A push token already registered
        updates that device and issues a new secret (the old one stops working). 422 naming
        the field for an unknown province, category or agency, a malformed token, too long a
        list."""
        device, secret = await service.register(data.model_dump(mode="json"))
        return RegisteredDeviceOut(**DeviceOut.of(device).model_dump(), secret=secret)

    @get(
        "/{device_id:str}",
        summary="The device",
        guards=[rate_limited(READS)],
        security=DEVICE_SECRET,
        cache_control=NO_STORE,
    )
    async def get_device(self, device: NamedDependency[Device]) -> DeviceOut:
        """401 without the device secret; 404 for a wrong one or an unknown device."""
        return DeviceOut.of(device)

    @patch(
        "/{device_id:str}",
        summary="Change subscriptions, language, app version or push token",
        guards=[rate_limited(READS)],
        security=DEVICE_SECRET,
        cache_control=NO_STORE,
    )
    async def update_device(
        self, device: NamedDependency[Device], data: JSONBody[DevicePatch]
    ) -> DeviceOut:
        """Only the fields sent change (lists are replaced). A new push token must fit the
        device's platform (422) and not be another device's (409)."""
        changes = data.model_dump(mode="json", exclude_unset=True)
        return DeviceOut.of(await service.update(device, changes))

    @delete(
        "/{device_id:str}",
        summary="Deactivate the device",
        guards=[rate_limited(READS)],
        security=DEVICE_SECRET,
    )
    async def delete_device(self, device: NamedDependency[Device]) -> None:
        """204; no more pushes, and the secret stops working. Registering the push token again
        revives the device with a new secret."""
        await service.deactivate(device)

    @get(
        "/{device_id:str}/feed",
        summary="The device's news feed",
        guards=[rate_limited(READS)],
        security=DEVICE_SECRET,
        responses=_DEVICE_FEED,
    )
    async def device_feed(
        self,
        request: Request,
        device: NamedDependency[Device],
        agency: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        lang: FromQuery[Language | None] = None,
        since: Since = None,
        q: SearchQuery = None,
        featured_first: FeaturedFirst = False,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Response[bytes]:
        """``GET /api/v1/news`` shaped by the device's subscriptions: news of its provinces
        plus national news (every province's when it follows none), of its categories or
        agencies (any when it follows none). The query's filters narrow it further. Names are
        in ``lang``, else ``Accept-Language``, else the device's language. ETag / 304; private,
        revalidated on every use."""
        size = check_limit(limit)
        criteria = feed.feed_criteria(
            provinces=device.provinces,
            category=category,
            agency=agency,
            language=lang,
            since=feed.parse_since(since),
            followed_categories=device.categories,
            followed_agencies=device.agencies,
        )
        search = check_query(q)
        language = choose_language(lang, request.headers.get("accept-language"), device.language)
        page = await feed.news_page(
            criteria, size, cursor, language, q=search, featured_first=featured_first
        )
        return json_response(request, encode(page), max_age=0, public=False)

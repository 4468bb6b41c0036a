"""Push platforms follow the loaded plugins: the built-in ones are listed and served, a
platform no plugin serves is refused naming ``platform``, and a plugin's own platform registers
with its own token rule."""

from __future__ import annotations

from collections.abc import AsyncIterator

import httpx
import pytest

from gnews.app import create_app
from gnews.config import Settings
from gnews.core.persistence import mongo_client
from gnews.devices.platforms import load_platforms
from gnews.plugins import build_plugin_manager
from tests.support.api import assert_error, serve_app
from tests.support.devices import register
from tests.support.line import line_user_id
from tests.support.push import apns_token, fcm_token


@pytest.fixture
async def line_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API with the LINE test plugin loaded (this test's database)."""
    plugins = build_plugin_manager(entry_points=False)
    plugins.load_module("tests.support.line", "test")
    async with serve_app(create_app(settings, plugins=plugins, setup_logging=False)) as http:
        yield http
    cleanup = mongo_client(settings.mongodb_uri or "")
    await cleanup.drop_database(settings.mongodb_db)
    await cleanup.close()
    # Later tests' apps install their own platforms; a service test without an app gets the
    # default plugins' again.
    create_app(settings, plugins=build_plugin_manager(entry_points=False), setup_logging=False)


async def test_the_built_in_platforms_are_listed_with_their_limits(client):
    response = await client.get("/api/v1/devices/platforms")
    assert response.status_code == 200, response.text
    platforms = {p["name"]: p for p in response.json()}
    assert {"android", "ios"} <= set(platforms)
    assert platforms["ios"]["max_payload_bytes"] == 3800
    assert platforms["android"]["max_payload_bytes"] is None
    assert platforms["android"]["label_th"] and platforms["ios"]["label_en"] == "iOS (APNs)"


async def test_a_platform_no_plugin_serves_is_a_422_listing_the_known_ones(client, auth_headers):
    response = await client.post(
        "/api/v1/devices", json={"platform": "line", "push_token": line_user_id()}
    )
    error = assert_error(response, 422, field="platform")
    (problem,) = [f for f in error["fields"] if f["field"] == "platform"]
    assert "'line'" in problem["message"] and "android" in problem["message"]
    assert "ios" in problem["message"]
    # The audience of a notification is held to the same platforms.
    preview = await client.post(
        "/api/v1/notifications/preview",
        json={"audience": {"platforms": ["line"]}},
        headers=await auth_headers("editor"),
    )
    assert_error(preview, 422, field="audience.platforms.0")


async def test_a_plugin_platform_registers_with_its_own_token_rule(line_client):
    body = await register(line_client, platform="line", push_token=f" {line_user_id(3)} ")
    assert body["platform"] == "line" and body["push_token"] == line_user_id(3)

    wrong = await line_client.post(
        "/api/v1/devices", json={"platform": "line", "push_token": fcm_token()}
    )
    error = assert_error(wrong, 422, field="push_token")
    assert "LINE user id" in error["fields"][0]["message"]
    # The built-in platforms keep theirs.
    assert (await register(line_client, platform="ios", push_token=apns_token(1)))["id"]

    listed = (await line_client.get("/api/v1/devices/platforms")).json()
    assert [p["name"] for p in listed][:1] == ["line"]  # plugins before the built-in ones
    line = listed[0]
    assert (line["label_th"], line["max_title_chars"]) == ("ไลน์", 100)

    schema = (await line_client.get("/schema/openapi.json")).json()
    platform = schema["components"]["schemas"]["DeviceIn"]["properties"]["platform"]
    assert platform["type"] == "string" and "enum" not in platform
    assert "line" in platform["examples"] and "android" in platform["examples"]


def test_a_broken_declaration_is_reported_with_its_plugin_and_skipped():
    class Broken:
        from gnews.hookspecs import hookimpl

        @hookimpl
        def gnews_push_platforms(self):
            return ["android"]

    manager = build_plugin_manager(entry_points=False)
    manager.register_safely(Broken(), "broken", "test")
    registry = load_platforms(manager)
    assert {"android", "ios"} <= set(registry.names)
    assert "broken" in manager.failed_plugins()

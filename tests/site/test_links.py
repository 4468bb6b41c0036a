"""Shared links: the well-known files from settings, and the https item URL beside the deep link
in a push message and an inbox entry."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest

from gnews.app import create_app
from gnews.config import ConfigurationError, load_settings
from gnews.notifications.message import push_message
from gnews.notifications.models import InboxEntry, Notification
from gnews.plugins import build_plugin_manager
from tests.support.api import serve_app
from tests.support.devices import device_auth, register
from tests.support.news import news_item

FINGERPRINT = ":".join(["AB"] * 32)
SITE = "https://news.example.go.th"


@pytest.fixture
async def site_client(settings):
    """The app with the site and both apps configured."""
    configured = settings.model_copy(
        update={
            "public_base_url": SITE,
            "android_package": "th.go.ega.gnews",
            "android_cert_fingerprints": [FINGERPRINT],
            "ios_app_ids": ["ABCDE12345.th.go.ega.gnews"],
        }
    )
    app = create_app(
        configured, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    async with serve_app(app) as http:
        yield http


async def test_well_known_files_name_the_configured_apps(site_client):
    android = await site_client.get("/.well-known/assetlinks.json")
    assert android.status_code == 200
    assert android.headers["content-type"].startswith("application/json")
    [statement] = android.json()
    assert statement["relation"] == ["delegate_permission/common.handle_all_urls"]
    assert statement["target"] == {
        "namespace": "android_app",
        "package_name": "th.go.ega.gnews",
        "sha256_cert_fingerprints": [FINGERPRINT],
    }
    ios = await site_client.get("/.well-known/apple-app-site-association")
    assert ios.status_code == 200
    assert ios.headers["content-type"].startswith("application/json")
    [details] = ios.json()["applinks"]["details"]
    assert details["appIDs"] == ["ABCDE12345.th.go.ega.gnews"]
    assert {"/": "/news/*"} in details["components"]


async def test_without_fingerprints_no_android_statement(client):
    assert (await client.get("/.well-known/assetlinks.json")).json() == []


def test_app_link_settings_are_checked():
    with pytest.raises(ConfigurationError, match="GNEWS_ANDROID_CERT_FINGERPRINTS"):
        load_settings(android_cert_fingerprints="AB:CD")
    with pytest.raises(ConfigurationError, match="GNEWS_IOS_APP_IDS"):
        load_settings(ios_app_ids="th.go.ega.gnews")
    with pytest.raises(ConfigurationError, match="GNEWS_PUBLIC_BASE_URL"):
        load_settings(public_base_url="news.example.go.th")
    assert load_settings(public_base_url=f"{SITE}/").public_origin() == SITE


async def test_a_push_message_carries_the_item_url_beside_the_deep_link(settings):
    at = datetime.now(UTC)
    notification = Notification(
        title_th="น้ำท่วม",
        body_th="ระดับน้ำสูงขึ้น",
        news_item_id="65a000000000000000000001",
        deep_link="gnews://news/65a000000000000000000001",
        expires_at=at + timedelta(hours=1),
    )
    configured = settings.model_copy(update={"public_base_url": SITE})
    message = push_message(notification, "th", at, configured.public_origin())
    assert message.deep_link == "gnews://news/65a000000000000000000001"
    assert message.data["url"] == f"{SITE}/news/65a000000000000000000001"


async def test_an_inbox_entry_carries_the_item_url(site_client, auth_headers):
    item = await news_item(provinces=["TH-60"])
    device = await register(site_client, provinces=["TH-60"])
    editor = await auth_headers("editor")
    sent = await site_client.post(
        f"/api/v1/editorial/items/{item.id}/notify", headers=editor, json={}
    )
    assert sent.status_code in (200, 201), sent.text
    # the inbox entry the fan-out writes for the device
    await InboxEntry(device_id=device["id"], notification_id=sent.json()["id"]).insert()
    inbox = await site_client.get(
        f"/api/v1/devices/{device['id']}/notifications", headers=device_auth(device["secret"])
    )
    [entry] = inbox.json()["items"]
    assert entry["deep_link"] == f"gnews://news/{item.id}"
    assert entry["url"] == f"{SITE}/news/{item.id}"

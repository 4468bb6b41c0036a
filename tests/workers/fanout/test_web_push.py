"""Browsers as devices of platform ``web``, end to end: registration through the device API,
a notification to a province through the notifications API, the real arq worker and the real
Web Push transport, the Web Push service emulator decrypting every payload; a subscription the
service says is gone deactivates its device through the normal send path."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import pytest

from gnews.config import Settings
from gnews.devices.models import Device
from tests.support.notifications import note
from tests.support.push import FAST, web_subscription
from tests.workers.fanout.conftest import running_worker, settled
from workers.push.webpush import WebPushTransport


@pytest.fixture
def web_settings(push_settings: Settings, emulators) -> Settings:
    """The fan-out tests' settings with the development VAPID key: the worker's plugin makes
    the ``web`` transport from them."""
    env = emulators.webpush_env()
    return push_settings.model_copy(
        update={
            "webpush_vapid_key_file": Path(env["GNEWS_WEBPUSH_VAPID_KEY_FILE"]),
            "webpush_vapid_subject": env["GNEWS_WEBPUSH_VAPID_SUBJECT"],
        }
    )


async def fast_web_transport(ctx: dict[str, Any]) -> None:
    """Worker start-up hook: the ``web`` transport the plugin made, with fast retries."""
    made = ctx["push_transports"]["web"]
    assert isinstance(made, WebPushTransport)  # the plugin made it from the settings
    await made.aclose()
    settings: Settings = ctx["settings"]
    assert settings.webpush_vapid_key_file and settings.webpush_vapid_subject
    ctx["push_transports"]["web"] = WebPushTransport(
        settings.webpush_vapid_key_file, settings.webpush_vapid_subject, policy=FAST
    )


async def register_browser(client, token: str, **values: Any) -> dict[str, Any]:
    body = {"platform": "web", "push_token": token, "provinces": ["TH-60"], **values}
    response = await client.post("/api/v1/devices", json=body)
    assert response.status_code == 201, response.text
    return response.json()


async def test_browsers_register_as_web_devices_with_one_spelling_of_their_subscription(
    client, emulators
):
    token = web_subscription(emulators.webpush, emulators.webpush_env())
    subscription = json.loads(token)
    as_browsers_send_it = json.dumps({**subscription, "expirationTime": None}, indent=2)
    first = await register_browser(client, as_browsers_send_it)
    assert first["platform"] == "web" and first["provinces"] == ["TH-60"]
    assert json.loads(first["push_token"]) == {
        "endpoint": subscription["endpoint"],
        "keys": subscription["keys"],
    }
    again = await register_browser(client, token, provinces=["TH-60", "TH-10"])
    assert again["id"] == first["id"]  # the same subscription is the same device
    platforms = await client.get("/api/v1/devices/platforms")
    web = next(p for p in platforms.json() if p["name"] == "web")
    assert web["max_payload_bytes"] == 3993
    insecure = {**subscription, "endpoint": "http://push.example.org/push/1"}
    refused = await client.post(
        "/api/v1/devices",
        json={"platform": "web", "push_token": json.dumps(insecure), "provinces": ["TH-60"]},
    )
    assert refused.status_code == 422
    assert "push_token" in refused.text and "https" in refused.text


async def test_a_province_notification_reaches_its_browsers_and_a_gone_one_is_deactivated(
    client, web_settings, emulators, auth_headers
):
    env = emulators.webpush_env()
    tokens = [web_subscription(emulators.webpush, env) for _ in range(4)]
    here = [await register_browser(client, token) for token in tokens[:3]]
    elsewhere = await register_browser(client, tokens[3], provinces=["TH-10"])
    gone = here[2]
    emulators.webpush.unsubscribe(json.loads(gone["push_token"])["endpoint"])
    headers = await auth_headers("editor")
    response = await client.post(
        "/api/v1/notifications", json=note(audience={"provinces": ["TH-60"]}), headers=headers
    )
    assert response.status_code == 201, response.text
    notification_id = response.json()["id"]
    async with running_worker(web_settings, startup=fast_web_transport):
        notification = await settled(notification_id)
    assert (notification.stats.targeted, notification.stats.sent) == (3, 2)
    assert notification.stats.deactivated == 1
    assert notification.stats.failed_by_reason == {"Gone": 1}
    assert (await Device.get(gone["id"])).active is False
    assert (await Device.get(here[0]["id"])).active is True
    for device in here[:2]:
        [received] = emulators.webpush.recorder.for_token(
            json.loads(device["push_token"])["endpoint"]
        )
        assert received.payload["title"] == "ประกาศจังหวัดนครสวรรค์"
        assert received.payload["body"] == "น้ำท่วมถนนสายหลัก โปรดหลีกเลี่ยง"
        assert received.payload["notification_id"] == notification_id
    assert not emulators.webpush.recorder.for_token(json.loads(elsewhere["push_token"])["endpoint"])

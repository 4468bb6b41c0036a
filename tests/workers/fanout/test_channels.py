"""Push channels beyond FCM and APNs, end to end: devices register for them through the API, a
province notification targets them, the real worker sends through the channel's transport to a
loopback emulator of its gateway, and a token the gateway refuses deactivates its device.

Huawei (HMS Push Kit) is built in; LINE is a plugin-only platform (``tests/support/line.py``,
the channel ``docs/plugins.md`` walks through), loaded by dotted path as an operator would."""

from __future__ import annotations

import json
from collections.abc import AsyncIterator

import httpx
import pytest
from pydantic import SecretStr

from gnews.app import create_app
from gnews.config import Settings
from gnews.core.persistence import mongo_client
from gnews.dev.emulators.suite import PushEmulators
from gnews.devices.models import Device
from gnews.devices.platforms import install_platforms, load_platforms
from gnews.notifications.models import InboxEntry, NotificationStatus
from gnews.plugins import build_plugin_manager
from tests.support.api import login, serve_app
from tests.support.devices import register
from tests.support.line import LineEmulator, line_user_id
from tests.support.notifications import note
from tests.support.push import fcm_token, hms_token
from tests.workers.fanout.conftest import running_worker, settled

LINE_PLUGIN = "tests.support.line"


def with_hms(settings: Settings, emulators: PushEmulators) -> Settings:
    """``settings`` with the HMS transport pointed at the emulator."""
    env = emulators.env()
    return settings.model_copy(
        update={
            "hms_app_id": env["GNEWS_HMS_APP_ID"],
            "hms_client_id": env["GNEWS_HMS_CLIENT_ID"],
            "hms_client_secret": SecretStr(env["GNEWS_HMS_CLIENT_SECRET"]),
            "hms_token_endpoint": env["GNEWS_HMS_TOKEN_ENDPOINT"],
            "hms_push_endpoint": env["GNEWS_HMS_PUSH_ENDPOINT"],
        }
    )


async def test_a_province_notification_reaches_its_huawei_devices_through_hms(
    client, push_settings, emulators, auth_headers
):
    nakhon_sawan = [
        await register(client, platform="huawei", push_token=hms_token(n), provinces=["TH-60"])
        for n in range(4)
    ]
    bangkok = await register(
        client, platform="huawei", push_token=hms_token(9), provinces=["TH-10"]
    )
    android = await register(client, push_token=fcm_token(1), provinces=["TH-60"])
    gone = nakhon_sawan[3]  # uninstalled: Push Kit calls its token illegal
    emulators.hms.faults.update({"unregistered": [gone["push_token"]], "retry_after": 0})
    emulators.hms.faults.update({"fail_next": [503, 429]})  # flow control, then it goes
    headers = await auth_headers("editor")

    preview = await client.post(
        "/api/v1/notifications/preview",
        json={"audience": {"provinces": ["TH-60"]}},
        headers=headers,
    )
    assert preview.status_code == 200, preview.text
    assert preview.json()["by_platform"] == {"android": 1, "ios": 0, "huawei": 4, "web": 0}

    created = await client.post("/api/v1/notifications", json=note(), headers=headers)
    assert created.status_code == 201, created.text
    notification_id = created.json()["id"]
    async with running_worker(with_hms(push_settings, emulators)):
        finished = await settled(notification_id)

    reached = {m.token for m in emulators.hms.recorder.messages}
    assert reached == {device["push_token"] for device in nakhon_sawan[:3]}
    assert bangkok["push_token"] not in reached
    [message] = emulators.hms.recorder.for_token(nakhon_sawan[0]["push_token"])
    assert message.payload["notification"]["title"] == note()["title_th"]
    assert json.loads(message.payload["data"])["notification_id"] == notification_id
    assert emulators.fcm.recorder.for_token(android["push_token"])
    counts = emulators.hms.recorder.counts
    assert (counts["503"], counts["429"], counts["80100000"]) == (1, 1, 1)

    assert finished.status is NotificationStatus.DONE
    assert (finished.stats.targeted, finished.stats.sent) == (5, 4)
    assert (finished.stats.failed, finished.stats.deactivated) == (1, 1)
    stored = await Device.get(gone["id"])
    assert stored is not None and not stored.active
    inboxes = {e.device_id for e in await InboxEntry.find({}).to_list()}
    assert inboxes == {d["id"] for d in [*nakhon_sawan[:3], android]}


@pytest.fixture
async def line_client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """The API with the LINE plugin loaded, as ``GNEWS_PLUGINS=tests.support.line`` does."""
    plugins = build_plugin_manager([LINE_PLUGIN], entry_points=False)
    async with serve_app(create_app(settings, plugins=plugins, setup_logging=False)) as http:
        yield http
    cleanup = mongo_client(settings.mongodb_uri or "")
    await cleanup.drop_database(settings.mongodb_db)
    await cleanup.close()
    # The next tests' services see the default platforms again.
    install_platforms(load_platforms(build_plugin_manager(entry_points=False)))


async def test_a_plugin_only_platform_registers_is_targeted_and_receives(
    line_client, push_settings, make_user, monkeypatch
):
    async with LineEmulator() as line:
        for name, value in line.env().items():
            monkeypatch.setenv(name, value)
        friend = await register(
            line_client, platform="line", push_token=line_user_id(1), provinces=["TH-60"]
        )
        blocked = await register(
            line_client, platform="line", push_token=line_user_id(2), provinces=["TH-60"]
        )
        elsewhere = await register(
            line_client, platform="line", push_token=line_user_id(3), provinces=["TH-10"]
        )
        line.unknown.add(blocked["push_token"])  # blocked the official account
        line.fail_next = [500]
        editor = await make_user("editor")
        headers = await login(line_client, editor)

        only_line = {"audience": {"provinces": ["TH-60"], "platforms": ["line"]}}
        preview = await line_client.post(
            "/api/v1/notifications/preview", json=only_line, headers=headers
        )
        assert preview.json() == {"total": 2, "by_platform": {"line": 2}}
        too_long = await line_client.post(
            "/api/v1/notifications",
            json=note(title_th="ก" * 101, **only_line),
            headers=headers,
        )
        assert too_long.status_code == 422, too_long.text
        assert too_long.json()["error"]["fields"][0]["field"] == "title_th"  # LINE's 100

        created = await line_client.post(
            "/api/v1/notifications", json=note(data={"url": "https://gnews.go.th/n/1"}),
            headers=headers,
        )  # fmt: skip
        assert created.status_code == 201, created.text
        settings = push_settings.model_copy(update={"plugins": [LINE_PLUGIN]})
        async with running_worker(settings):
            finished = await settled(created.json()["id"])

        [message] = line.for_user(friend["push_token"])
        assert message == {
            "type": "text",
            "text": f"{note()['title_th']}\n{note()['body_th']}\nhttps://gnews.go.th/n/1",
        }
        assert not line.for_user(elsewhere["push_token"])
        assert not line.for_user(blocked["push_token"])
        assert line.requests == 3  # 500, then 400 naming the blocked id, then the rest
    assert (finished.stats.sent, finished.stats.deactivated) == (1, 1)
    stored = await Device.get(blocked["id"])
    assert stored is not None and not stored.active

"""The delivery breakdown the console draws: devices sent to by province (counted per batch by
the send job, exact once settled) and per second, and opens per hour."""

from __future__ import annotations

from collections import Counter

from gnews.notifications.models import Notification, PushBatch
from tests.support.devices import device_auth, register
from tests.support.notifications import note
from tests.support.push import fcm_token
from tests.workers.fanout.conftest import add_devices, fast_transports, running_worker, settled


async def test_sent_by_province_counts_only_devices_reached(
    client, push_settings, emulators, auth_headers
):
    devices = await add_devices(
        70, provinces=[["TH-60"], ["TH-60", "TH-10"], ["TH-10"], ["TH-50"]], seed=7
    )
    targeted = [d for d in devices if {"TH-60", "TH-10"} & set(d.provinces)]
    refused = [d for d in targeted if d.platform == "android"][:3]
    emulators.fcm.faults.unregistered = {d.push_token for d in refused}
    expected: Counter[str] = Counter()
    for device in targeted:
        if device not in refused:
            expected.update(device.provinces)
    async with running_worker(push_settings, startup=fast_transports):
        created = await client.post(
            "/api/v1/notifications",
            json=note(audience={"provinces": ["TH-60", "TH-10"]}),
            headers=await auth_headers("editor"),
        )
        notification = await settled(created.json()["id"])
    stats = notification.stats
    assert stats.sent == len(targeted) - 3 and stats.failed == 3
    assert stats.sent_by_province == dict(expected)  # TH-50 followers were never targeted
    assert "TH-50" not in stats.sent_by_province
    assert sum(stats.sent_by_second.values()) == stats.sent  # every pass on the timeline
    batches = await PushBatch.find({"notification_id": str(notification.id)}).count()
    assert len(stats.sent_by_second) <= batches  # one key per batch pass at most
    shown = await client.get(
        f"/api/v1/notifications/{notification.id}", headers=await auth_headers("editor")
    )
    assert shown.json()["stats"]["sent_by_province"] == dict(expected)


async def test_an_open_is_counted_in_its_hour(client, push_settings, emulators, auth_headers):
    device = await register(client, push_token=fcm_token(5), provinces=["TH-60"])
    async with running_worker(push_settings, startup=fast_transports):
        created = await client.post(
            "/api/v1/notifications", json=note(), headers=await auth_headers("editor")
        )
        nid = created.json()["id"]
        await settled(nid)
    path = f"/api/v1/devices/{device['id']}/notifications/{nid}/opened"
    for _ in range(2):
        assert (await client.post(path, headers=device_auth(device["secret"]))).status_code == 204
    stats = (await Notification.get(nid)).stats
    assert stats.opened == 1
    assert list(stats.opened_by_hour.values()) == [1]
    assert int(next(iter(stats.opened_by_hour))) % 3600 == 0

"""Fan-out and delivery end to end: the API, a real arq worker (in-process), MongoDB, Redis, the
real FCM and APNs transports and the two gateway emulators. Batches of 20 devices, leases of
2 s and a reconciler every second keep these tests short."""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from gnews.core.clock import utcnow
from gnews.core.persistence import redis_client, update_one
from gnews.dev.emulators.suite import PushEmulators
from gnews.devices.models import Device
from gnews.geo.provinces import provinces_in_region
from gnews.notifications import lifecycle
from gnews.notifications.models import (
    BatchStatus,
    InboxEntry,
    Notification,
    NotificationStatus,
    PushBatch,
)
from tests.support.devices import device_auth
from tests.support.news import news_item
from tests.support.notifications import note
from tests.support.push import apns_token, fcm_token
from tests.workers.fanout.conftest import (
    TEST_BATCH_SIZE,
    add_devices,
    eventually,
    fast_transports,
    received,
    running_worker,
    settled,
)
from workers.jobs.fanout import Fanout, Stopped

PROVINCES = [["TH-60"], ["TH-61"], ["TH-10"], ["TH-50"], ["TH-57", "TH-60"], ["TH-90"], []]


def by_notification(emulators: PushEmulators) -> Counter[tuple[str, str]]:
    """(token, notification id) → messages received."""
    pairs = [
        (m.token, m.payload["data"]["notification_id"]) for m in emulators.fcm.recorder.messages
    ]
    pairs += [(m.token, m.payload["notification_id"]) for m in emulators.apns.recorder.messages]
    return Counter(pairs)


def payloads_of(emulators: PushEmulators, notification_id: str) -> dict[str, dict]:
    """token → the payload it received for this notification."""
    found = {
        m.token: m.payload
        for m in emulators.fcm.recorder.messages
        if m.payload["data"]["notification_id"] == notification_id
    }
    found.update(
        {
            m.token: m.payload
            for m in emulators.apns.recorder.messages
            if m.payload["notification_id"] == notification_id
        }
    )
    return found


def title_of(payload: dict) -> str:
    """The title of an FCM or APNs payload."""
    if "aps" in payload:
        return payload["aps"]["alert"]["title"]
    return payload["notification"]["title"]


async def create(client, headers, **changes) -> str:
    response = await client.post("/api/v1/notifications", json=note(**changes), headers=headers)
    assert response.status_code == 201, response.text
    return response.json()["id"]


async def test_every_matching_device_gets_it_exactly_once_and_no_other(
    client, push_settings, emulators, auth_headers
):
    devices = await add_devices(700, provinces=PROVINCES, seed=11)
    dead = await add_devices(30, start=5000, provinces=[["TH-60"]], active=False)
    north = {p.code for p in provinces_in_region("north")}
    headers = await auth_headers("editor")
    audiences = {
        # The example: Nakhon Sawan and Uthai Thani, in Thai and English.
        "provinces": (
            {"audience": {"provinces": ["TH-60", "TH-61"]}, "title_en": "EN", "body_en": "B"},
            lambda d: {"TH-60", "TH-61"} & set(d.provinces),
        ),
        # A region, a province, iOS only, English devices only.
        "combined": (
            {"audience": {"regions": ["north"], "provinces": ["TH-90"], "platforms": ["ios"],
                          "languages": ["en"]}},
            lambda d: (north | {"TH-90"}) & set(d.provinces)
            and d.platform == "ios"
            and d.language == "en",
        ),
        "android": (
            {"audience": {"everyone": True, "platforms": ["android"]}},
            lambda d: d.platform == "android",
        ),
    }  # fmt: skip
    ids = {name: await create(client, headers, **body) for name, (body, _) in audiences.items()}
    async with running_worker(push_settings):
        finished = {name: await settled(nid) for name, nid in ids.items()}

    got = by_notification(emulators)
    for name, (_, matches) in audiences.items():
        nid = ids[name]
        expected = {d.push_token for d in devices if matches(d)}
        reached = {token for token, n in got if n == nid}
        assert reached == expected, name
        assert all(got[(token, nid)] == 1 for token in expected), name
        notification = finished[name]
        assert notification.status is NotificationStatus.DONE
        stats = notification.stats
        assert (stats.targeted, stats.sent, stats.failed, stats.skipped) == (
            len(expected),
            len(expected),
            0,
            0,
        )
        # Batches: at most 20 devices, one platform and one language each, all sent.
        batches = await PushBatch.find({"notification_id": nid}).to_list()
        assert sum(b.size for b in batches) == len(expected)
        assert all(b.size <= TEST_BATCH_SIZE and b.status is BatchStatus.DONE for b in batches)
        assert sorted(b.seq for b in batches) == list(range(len(batches)))
        assert notification.batches_total == notification.batches_done == len(batches)
        # Each device reached has it in its inbox, once.
        entries = await InboxEntry.find({"notification_id": nid}).to_list()
        assert len(entries) == len(expected)
        assert {e.device_id for e in entries} == {str(d.id) for d in devices if matches(d)}
    assert not {d.push_token for d in dead} & {token for token, _ in got}
    # English devices got the English text (the notification has one), Thai devices Thai.
    texts = payloads_of(emulators, ids["provinces"])
    for device in devices:
        if audiences["provinces"][1](device):
            expected_title = "EN" if device.language == "en" else note()["title_th"]
            assert title_of(texts[device.push_token]) == expected_title


async def test_the_device_sees_it_in_its_inbox_with_the_deep_link(
    client, push_settings, emulators, auth_headers
):
    item = await news_item("ega")
    phone = await client.post(
        "/api/v1/devices",
        json={"platform": "android", "push_token": fcm_token(1), "provinces": ["TH-60"]},
    )
    iphone = await client.post(
        "/api/v1/devices",
        json={"platform": "ios", "push_token": apns_token(2), "provinces": ["TH-60"],
              "language": "en"},
    )  # fmt: skip
    elsewhere = await client.post(
        "/api/v1/devices",
        json={"platform": "android", "push_token": fcm_token(3), "provinces": ["TH-10"]},
    )
    response = await client.post(
        f"/api/v1/editorial/items/{item.id}/notify", headers=await auth_headers("editor")
    )
    assert response.status_code == 201, response.text
    nid = response.json()["id"]
    async with running_worker(push_settings):
        await settled(nid)
    [android] = emulators.fcm.recorder.for_token(fcm_token(1))
    assert android.payload["data"] == {
        "news_item_id": str(item.id),
        "notification_id": nid,
        "deep_link": f"gnews://news/{item.id}",
        # the item's page beside the deep link (the site's origin: GNEWS_PUBLIC_BASE_URL)
        "url": f"{push_settings.public_origin()}/news/{item.id}",
    }
    assert android.payload["android"]["collapse_key"] == nid
    assert android.payload["notification"]["image"] == item.image_url
    [ios] = emulators.apns.recorder.for_token(apns_token(2))
    assert ios.payload["deep_link"] == f"gnews://news/{item.id}"
    assert ios.payload["url"] == f"{push_settings.public_origin()}/news/{item.id}"
    assert ios.headers["apns-collapse-id"] == nid
    assert emulators.fcm.recorder.for_token(fcm_token(3)) == []
    for device, expected in ((phone, [nid]), (iphone, [nid]), (elsewhere, [])):
        body = device.json()
        inbox = await client.get(
            f"/api/v1/devices/{body['id']}/notifications", headers=device_auth(body["secret"])
        )
        items = inbox.json()["items"]
        assert [entry["id"] for entry in items] == expected
        if items:
            assert items[0]["deep_link"] == f"gnews://news/{item.id}"
            assert items[0]["url"] == f"http://testserver/news/{item.id}"  # the request's origin


async def test_a_scheduled_notification_goes_out_at_send_at(
    client, push_settings, emulators, auth_headers
):
    devices = await add_devices(40, provinces=[["TH-60"]])
    # A margin that a loaded machine (creating the notification, starting the worker) meets.
    send_at = datetime.now(UTC) + timedelta(seconds=8)
    nid = await create(client, await auth_headers("editor"), send_at=send_at.isoformat())
    async with running_worker(push_settings) as worker:
        await eventually(lambda: asyncio.sleep(0, "send_slots" in worker.ctx))  # started
        await asyncio.sleep(1.5)  # the reconciler (every second) has looked at it
        assert datetime.now(UTC) < send_at, "the machine is too slow for this test's margin"
        assert (await Notification.get(nid)).status is NotificationStatus.SCHEDULED
        assert emulators.fcm.recorder.counts["accepted"] == 0
        assert emulators.apns.recorder.counts["accepted"] == 0
        notification = await settled(nid)
    assert notification.status is NotificationStatus.DONE
    assert notification.started_at >= send_at.replace(microsecond=0)
    times = [m.at for m in emulators.fcm.recorder.messages] + [
        m.at for m in emulators.apns.recorder.messages
    ]
    assert len(times) == len(devices) and min(times) >= send_at.timestamp()


async def test_a_scheduled_notification_whose_job_was_lost_is_started_by_the_reconciler(
    client, push_settings, emulators, auth_headers, settings
):
    await add_devices(10, provinces=[["TH-60"]])
    nid = await create(client, await auth_headers("editor"))
    redis = Redis.from_url(settings.redis_url)
    await redis.flushdb()  # Redis lost the fan-out job
    await redis.aclose()
    async with running_worker(push_settings):
        notification = await settled(nid)
    assert notification.status is NotificationStatus.DONE and notification.stats.sent == 10


async def test_cancel_mid_fanout_stops_every_batch_not_yet_sent(
    client, push_settings, emulators, auth_headers
):
    # 150 batches: writing them takes longer than sending the first (slow gateways, 2 slots).
    await add_devices(3000, provinces=[["TH-60"]], seed=5)
    emulators.fcm.faults.latency = emulators.apns.faults.latency = 0.3
    headers = await auth_headers("editor")
    nid = await create(client, headers)
    settings = push_settings.model_copy(update={"push_send_concurrency": 2})
    async with running_worker(settings):

        async def a_batch_is_sent():
            return await PushBatch.find_one({"notification_id": nid, "status": "done"})

        await eventually(a_batch_is_sent)
        before = await Notification.get(nid)
        cancelled = await client.post(f"/api/v1/notifications/{nid}/cancel", headers=headers)
        assert cancelled.status_code == 200, cancelled.text
        assert cancelled.json()["status"] == "cancelled"
        notification = await settled(nid)
        await asyncio.sleep(1)  # nothing more is sent afterwards
    assert before.status is NotificationStatus.FANNING_OUT  # cancelled mid-fan-out
    assert notification.status is NotificationStatus.CANCELLED
    batches = await PushBatch.find({"notification_id": nid}).to_list()
    assert len(batches) < 150  # the fan-out stopped too
    assert {b.status for b in batches} == {BatchStatus.DONE, BatchStatus.CANCELLED}
    sent_batches = [b for b in batches if b.status is BatchStatus.DONE]
    total_received = sum(received(emulators).values())
    stats = notification.stats
    assert total_received == stats.sent == sum(b.result.sent for b in sent_batches)
    assert stats.skipped == sum(b.size for b in batches if b.status is BatchStatus.CANCELLED) > 0
    assert stats.targeted == stats.sent + stats.failed + stats.skipped
    assert await InboxEntry.find({"notification_id": nid}).count() == stats.sent
    again = await client.post(f"/api/v1/notifications/{nid}/cancel", headers=headers)
    assert again.status_code == 200


async def test_nothing_is_sent_after_expiry(client, push_settings, emulators, auth_headers):
    await add_devices(300, provinces=[["TH-60"]], seed=3)
    headers = await auth_headers("editor")
    # Expired before any worker saw it: nothing at all is sent.
    early = await create(client, headers, ttl_seconds=600)
    await update_one(
        Notification,
        {"_id": (await Notification.get(early)).id},
        set={"expires_at": utcnow() - timedelta(seconds=1)},
    )
    # Expires while sending: the batches not yet sent are not sent.
    emulators.fcm.faults.latency = emulators.apns.faults.latency = 0.3
    late = await create(client, headers, ttl_seconds=600)
    settings = push_settings.model_copy(update={"push_send_concurrency": 2})
    async with running_worker(settings):
        expired_early = await settled(early)

        async def a_batch_is_sent():
            return await PushBatch.find_one({"notification_id": late, "status": "done"})

        await eventually(a_batch_is_sent)
        expiry = time.time()
        await update_one(
            Notification,
            {"_id": (await Notification.get(late)).id},
            set={"expires_at": datetime.fromtimestamp(expiry, UTC)},
        )
        expired_late = await settled(late)
    assert expired_early.status is NotificationStatus.EXPIRED
    assert expired_early.stats.targeted == expired_early.stats.sent == 0
    assert expired_late.status is NotificationStatus.EXPIRED
    stats = expired_late.stats
    assert 0 < stats.sent < 300 and stats.skipped > 0
    assert stats.targeted == stats.sent + stats.skipped
    messages = list(emulators.fcm.recorder.messages) + list(emulators.apns.recorder.messages)
    assert len(messages) == stats.sent
    # Those accepted after the expiry were already in flight: their batches were claimed
    # before it, and at most the batches two send slots hold.
    assert sum(m.at > expiry for m in messages) <= 2 * TEST_BATCH_SIZE
    # The gateways were told to drop it at the expiry: APNs apns-expiration, FCM ttl.
    ios = [m for m in emulators.apns.recorder.messages]
    assert ios and all(
        abs(int(m.headers["apns-expiration"]) - (expired_late.send_at.timestamp() + 600)) <= 2
        for m in ios
    )
    fcm = [m for m in emulators.fcm.recorder.messages]
    assert fcm and all(int(m.payload["android"]["ttl"].rstrip("s")) <= 600 for m in fcm)


async def test_transient_failures_are_retried_honouring_retry_after(
    client, push_settings, emulators, auth_headers
):
    devices = await add_devices(30, provinces=[["TH-60"]], seed=2)
    emulators.fcm.faults.update({"fail_next": [429], "retry_after": 1})
    emulators.apns.faults.update({"fail_next": [503, 500]})
    nid = await create(client, await auth_headers("editor"))
    async with running_worker(push_settings, startup=fast_transports):
        notification = await settled(nid)
    assert notification.status is NotificationStatus.DONE
    assert notification.stats.sent == len(devices) and notification.stats.failed == 0
    assert set(received(emulators)) == {d.push_token for d in devices}
    times = list(emulators.fcm.recorder.request_times)
    assert times[-1] - times[0] >= 1.0  # every FCM request waited out the Retry-After
    assert emulators.fcm.recorder.counts["429"] == 1
    apns = emulators.apns.recorder.counts
    assert apns["ServiceUnavailable"] == apns["InternalServerError"] == 1


async def test_a_long_retry_after_defers_the_batch_and_failures_are_counted_by_reason(
    client, push_settings, emulators, auth_headers
):
    android = await add_devices(10, provinces=[["TH-60"]], platform="android", seed=4)
    ios = await add_devices(10, start=100, provinces=[["TH-60"]], platform="ios", seed=4)
    # FCM asks for 3 s, more than the transport waits (2 s): the batch is put back for then.
    emulators.fcm.faults.update({"fail_next": [429], "retry_after": 3})
    # APNs keeps failing: after the capped attempts those devices are failed.
    emulators.apns.faults.update({"rate_503": 1.0})
    nid = await create(client, await auth_headers("editor"))
    async with running_worker(push_settings, startup=fast_transports):
        notification = await settled(nid)
    stats = notification.stats
    assert (stats.sent, stats.failed, stats.skipped) == (10, 10, 0)
    assert stats.failed_by_reason == {"ServiceUnavailable": 10}
    [failed] = await PushBatch.find({"notification_id": nid, "platform": "ios"}).to_list()
    assert {f.device_id for f in failed.failures} == {str(d.id) for d in ios}
    assert {(f.reason, f.deactivated) for f in failed.failures} == {("ServiceUnavailable", False)}
    assert notification.status is NotificationStatus.DONE
    assert received(emulators) == Counter({d.push_token: 1 for d in android})
    assert emulators.apns.recorder.counts["ServiceUnavailable"] == 30  # 3 attempts each
    [deferred] = await PushBatch.find({"notification_id": nid, "platform": "android"}).to_list()
    assert deferred.deferrals == 1 and deferred.result.sent == 10
    for device in ios:  # a failure is no reason to deactivate
        assert (await Device.get(device.id)).active


async def test_permanent_token_errors_deactivate_the_device(
    client, push_settings, emulators, auth_headers
):
    good = await add_devices(20, provinces=[["TH-60"]], seed=9)
    gone_android = await add_devices(2, start=200, provinces=[["TH-60"]], platform="android")
    gone_ios = await add_devices(1, start=300, provinces=[["TH-60"]], platform="ios")
    bad_ios = await add_devices(
        1, start=400, provinces=[["TH-60"]], platform="ios", push_token="z" * 64
    )
    bad_android = await add_devices(
        1, start=500, provinces=[["TH-60"]], platform="android", push_token="bad!" * 30
    )
    emulators.fcm.faults.update({"unregistered": [d.push_token for d in gone_android]})
    emulators.apns.faults.update({"unregistered": [d.push_token for d in gone_ios]})
    invalid = gone_android + gone_ios + bad_ios + bad_android
    headers = await auth_headers("editor")
    first = await create(client, headers)
    async with running_worker(push_settings):
        notification = await settled(first)
        assert notification.stats.deactivated == 5
        assert notification.stats.failed_by_reason == {
            "UNREGISTERED": 2,
            "Unregistered": 1,
            "BadDeviceToken": 1,
            "INVALID_ARGUMENT": 1,
        }
        assert (notification.stats.sent, notification.stats.failed) == (20, 5)
        for device in invalid:
            assert (await Device.get(device.id)).active is False
        # Each device not reached is kept on its batch, with the gateway's reason.
        failures = [
            failure
            for batch in await PushBatch.find({"notification_id": first}).to_list()
            for failure in batch.failures
        ]
        assert {(f.device_id, f.deactivated) for f in failures} == {
            (str(d.id), True) for d in invalid
        }
        reasons = {f.device_id: f.reason for f in failures}
        assert reasons[str(bad_ios[0].id)] == "BadDeviceToken"
        assert reasons[str(gone_android[0].id)].startswith("UNREGISTERED")
        # Never targeted again…
        second = await settled(await create(client, headers))
        assert second.stats.targeted == second.stats.sent == 20
        # …until it registers again.
        again = await client.post(
            "/api/v1/devices",
            json={"platform": "android", "push_token": gone_android[0].push_token,
                  "provinces": ["TH-60"]},
        )  # fmt: skip
        assert again.status_code == 201
        emulators.fcm.faults.update({"unregistered": []})
        third = await settled(await create(client, headers))
        assert third.stats.targeted == third.stats.sent == 21
    counts = received(emulators)
    assert counts[gone_android[0].push_token] == 1 and counts[gone_android[1].push_token] == 0
    assert all(counts[d.push_token] == 3 for d in good)
    assert await InboxEntry.find({"device_id": str(gone_ios[0].id)}).count() == 0
    staff = await client.get(f"/api/v1/notifications/{first}", headers=headers)
    assert staff.json()["stats"]["deactivated"] == 5


async def test_a_fanout_that_died_midway_resumes_without_writing_a_device_twice(
    client, push_settings, emulators, auth_headers
):
    devices = await add_devices(500, provinces=[["TH-60"], ["TH-61"], ["TH-10"]], seed=21)
    headers = await auth_headers("editor")
    nid = await create(
        client,
        headers,
        title_en="EN",
        body_en="B",
        audience={"provinces": ["TH-60", "TH-61"]},
    )
    expected = {str(d.id) for d in devices if {"TH-60", "TH-61"} & set(d.provinces)}

    class DiesAfterFiveBatches(Fanout):
        async def write(self, key, batch):
            if self.written == 5:
                raise RuntimeError("the worker died")
            await super().write(key, batch)

    # A first run claims the fan-out, writes 5 batches and dies (no worker sends them yet).
    notification = await lifecycle.claim_fanout(nid, lease=2)
    redis = redis_client(push_settings.redis_url)
    with contextlib.suppress(RuntimeError):
        await DiesAfterFiveBatches(notification, redis, TEST_BATCH_SIZE, 2).run()
    await redis.aclose()
    assert await PushBatch.find({"notification_id": nid}).count() == 5
    assert (await Notification.get(nid)).status is NotificationStatus.FANNING_OUT
    # The worker's reconciler sees the lease expire and starts a second run, which resumes.
    async with running_worker(push_settings):
        finished = await settled(nid)
    assert finished.fanout_runs == 2
    batches = await PushBatch.find({"notification_id": nid}).to_list()
    written = Counter(device for b in batches for device in b.device_ids)
    assert not written  # emptied once sent; count through the inbox and the gateways
    inbox = Counter(e.device_id for e in await InboxEntry.find({"notification_id": nid}).to_list())
    assert set(inbox) == expected and set(inbox.values()) == {1}
    assert finished.stats.targeted == finished.stats.sent == len(expected)
    assert sum(b.size for b in batches) == len(expected)
    tokens = {d.push_token for d in devices if str(d.id) in expected}
    assert received(emulators) == Counter(dict.fromkeys(tokens, 1))


async def test_a_stopped_run_stops_at_its_next_write(client, push_settings, auth_headers):
    await add_devices(60, provinces=[["TH-60"]])
    nid = await create(client, await auth_headers("editor"))
    notification = await lifecycle.claim_fanout(nid, lease=30)
    assert await lifecycle.claim_fanout(nid, lease=30) is None  # held: not claimable twice
    await lifecycle.end(nid, NotificationStatus.CANCELLED)
    redis = redis_client(push_settings.redis_url)
    fanout = Fanout(notification, redis, TEST_BATCH_SIZE, 30)
    try:
        await fanout.run()
        raise AssertionError("a cancelled fan-out must stop")
    except Stopped:
        pass
    finally:
        await redis.aclose()
    # It wrote one batch, found the notification cancelled when counting it, and stopped; the
    # reconciler cancels that batch.
    assert fanout.written == 0
    assert await PushBatch.find({"notification_id": nid}).count() == 1

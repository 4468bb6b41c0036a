"""Retention (workers/jobs/retention.py): the push batches of settled notifications finished
long ago and old inbox entries are deleted, in chunks; the notifications and everything recent
stay."""

from __future__ import annotations

import time
from datetime import UTC, datetime, timedelta, timezone

from gnews.core.clock import utcnow
from gnews.jobs import FEEDS_QUEUE
from gnews.notifications.models import (
    BatchFailure,
    BatchStatus,
    InboxEntry,
    Notification,
    NotificationStats,
    NotificationStatus,
    PushBatch,
)
from tests.support.devices import device_auth, register
from workers.jobs import retention
from workers.jobs.retention import delete_old_push_data, retention_job
from workers.settings import worker_settings

DAY = 86400.0
BANGKOK = timezone(timedelta(hours=7))  # no daylight saving in Thailand
BATCHES_EACH = 3


async def notification(
    status: NotificationStatus, *, settled: bool, finished_days_ago: float | None
) -> str:
    """A notification with ``BATCHES_EACH`` sent batches (one device not reached in each)."""
    finished_at = (
        None
        if finished_days_ago is None
        else datetime.fromtimestamp(time.time() - finished_days_ago * DAY, UTC)
    )
    note = await Notification(
        title_th="แจ้งเตือน",
        body_th="เนื้อหา",
        status=status,
        settled=settled,
        finished_at=finished_at,
        stats=NotificationStats(targeted=6, sent=3, failed=3),
    ).insert()
    nid = str(note.id)
    await PushBatch.insert_many(
        [
            PushBatch(
                notification_id=nid,
                seq=seq,
                platform="android",
                device_ids=[],
                tokens=[],
                size=2,
                last_device_id=f"{seq:024x}",
                status=BatchStatus.DONE,
                failures=[BatchFailure(device_id=f"{seq:024x}", reason="UNREGISTERED")],
            )
            for seq in range(BATCHES_EACH)
        ]
    )
    return nid


async def batches_of(notification_id: str) -> int:
    return await PushBatch.find({"notification_id": notification_id}).count()


async def test_batches_of_settled_notifications_finished_long_ago_are_deleted(client, monkeypatch):
    monkeypatch.setattr(retention, "NOTIFICATIONS_PER_CHUNK", 2)  # 3 old ones: 2 chunks
    old = [
        await notification(NotificationStatus.DONE, settled=True, finished_days_ago=31),
        await notification(NotificationStatus.FAILED, settled=True, finished_days_ago=60),
        await notification(NotificationStatus.CANCELLED, settled=True, finished_days_ago=400),
    ]
    kept = [
        await notification(NotificationStatus.DONE, settled=True, finished_days_ago=29),
        # Cancelled long ago, but batches were still in flight: not settled yet.
        await notification(NotificationStatus.CANCELLED, settled=False, finished_days_ago=45),
        await notification(NotificationStatus.SENDING, settled=False, finished_days_ago=None),
    ]

    deleted = await delete_old_push_data(batch_retention_days=30, inbox_retention_days=90)

    assert deleted == {"push_batches": 3 * BATCHES_EACH, "inbox_entries": 0}
    assert [await batches_of(nid) for nid in old] == [0, 0, 0]
    assert [await batches_of(nid) for nid in kept] == [BATCHES_EACH] * 3
    for nid in old + kept:  # the record stays, with its figures
        note = await Notification.get(nid)
        assert note is not None
        assert (note.stats.targeted, note.stats.sent, note.stats.failed) == (6, 3, 3)
    again = await delete_old_push_data(batch_retention_days=30, inbox_retention_days=90)
    assert again == {"push_batches": 0, "inbox_entries": 0}


async def inbox_entries(device_id: str, days_ago: list[float]) -> None:
    """Entries of ``device_id`` written ``days_ago`` (notification ids ``n0``, ``n1``…)."""
    now = utcnow()
    await InboxEntry.insert_many(
        [
            InboxEntry(
                device_id=device_id,
                notification_id=f"n{n}",
                created_at=now - timedelta(days=days),
            )
            for n, days in enumerate(days_ago)
        ]
    )


async def notification_ids(device_id: str) -> list[str]:
    return sorted(
        e.notification_id for e in await InboxEntry.find({"device_id": device_id}).to_list()
    )


async def test_created_at_is_a_date_that_range_queries_find(client):
    await inbox_entries("d1", [100, 95, 1])
    stored = await InboxEntry.get_pymongo_collection().find_one({"notification_id": "n0"})
    assert isinstance(stored["created_at"], datetime)  # a BSON date, not a string
    cutoff = utcnow() - timedelta(days=90)
    old = await InboxEntry.find({"created_at": {"$lt": cutoff}}).to_list()
    assert sorted(entry.notification_id for entry in old) == ["n0", "n1"]


async def test_old_inbox_entries_are_deleted_in_chunks(client, monkeypatch):
    monkeypatch.setattr(retention, "INBOX_ENTRIES_PER_CHUNK", 3)  # 8 old entries: 3 chunks
    await inbox_entries("d1", [91, 120, 365, 91, 100, 200, 95, 89, 30, 0])
    await inbox_entries("d2", [91, 1])

    deleted = await delete_old_push_data(batch_retention_days=30, inbox_retention_days=90)

    assert deleted == {"push_batches": 0, "inbox_entries": 8}
    assert await notification_ids("d1") == ["n7", "n8", "n9"]
    assert await notification_ids("d2") == ["n1"]


async def test_the_inbox_no_longer_lists_a_deleted_entry(client):
    phone = await register(client)
    for days in (100, 1):
        note = await Notification(
            title_th=f"{days} วัน", body_th="เนื้อหา", status=NotificationStatus.DONE, settled=True
        ).insert()
        await InboxEntry(
            device_id=phone["id"],
            notification_id=str(note.id),
            created_at=utcnow() - timedelta(days=days),
        ).insert()
    path = f"/api/v1/devices/{phone['id']}/notifications"
    listed = await client.get(path, headers=device_auth(phone["secret"]))
    assert [item["title"] for item in listed.json()["items"]] == ["1 วัน", "100 วัน"]

    await delete_old_push_data(batch_retention_days=30, inbox_retention_days=90)

    listed = await client.get(path, headers=device_auth(phone["secret"]))
    assert listed.status_code == 200, listed.text
    assert [item["title"] for item in listed.json()["items"]] == ["1 วัน"]
    assert await Notification.count() == 2


async def test_zero_days_keeps_for_good(client):
    old = await notification(NotificationStatus.DONE, settled=True, finished_days_ago=5000)
    await inbox_entries("d1", [5000])

    deleted = await delete_old_push_data(batch_retention_days=0, inbox_retention_days=0)

    assert deleted == {"push_batches": 0, "inbox_entries": 0}
    assert await batches_of(old) == BATCHES_EACH
    assert await InboxEntry.count() == 1


async def test_the_job_reads_its_settings(client, settings):
    old = await notification(NotificationStatus.DONE, settled=True, finished_days_ago=10)
    await inbox_entries("d1", [10, 3])
    ctx = {
        "settings": settings.model_copy(
            update={"push_batch_retention_days": 7, "inbox_retention_days": 5}
        )
    }

    assert await retention_job(ctx) == {"push_batches": BATCHES_EACH, "inbox_entries": 1}
    assert await batches_of(old) == 0


def test_the_retention_cron_runs_daily_at_3_17_in_bangkok(settings):
    options = worker_settings(settings, FEEDS_QUEUE)
    (job,) = [job for job in options["cron_jobs"] if job.coroutine is retention_job]
    assert job.unique and job.timeout_s and job.max_tries == 1
    job.calculate_next(datetime(2025, 1, 1, 12, 0, tzinfo=options["timezone"]))
    first = job.next_run
    job.calculate_next(first)
    assert job.next_run - first == timedelta(days=1)
    bangkok = first.astimezone(BANGKOK)
    assert (bangkok.date().isoformat(), bangkok.hour, bangkok.minute) == ("2025-01-02", 3, 17)
    assert first.utcoffset() == timedelta(0) and options["timezone"] is UTC

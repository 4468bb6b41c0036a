"""Retention of push data: an arq cron job (``retention_job``, once a day at 03:17 Bangkok time)
that deletes what a sent notification leaves behind once it is old enough.

* The push batches of settled notifications finished more than
  ``GNEWS_PUSH_BATCH_RETENTION_DAYS`` ago (30 by default). The notification itself, with its
  ``stats``, is kept for good: it is the record of what was sent; only the per-batch detail
  (counts and the devices not reached, ``failures``) goes.
* The inbox entries written more than ``GNEWS_INBOX_RETENTION_DAYS`` ago (90 by default): a
  device's inbox then no longer lists those notifications.

``0`` keeps that kind of data for good. The work goes in bounded chunks (the batches of 100
notifications, then 5,000 inbox entries, at a time), so that a run never holds the database
for long; a run cut short (time-out, restart) leaves the rest to the next day's.
"""

from __future__ import annotations

from datetime import datetime, timedelta
from typing import Any

import structlog

from gnews.core.clock import utcnow
from gnews.notifications.models import InboxEntry, Notification, PushBatch

log = structlog.get_logger(__name__)

NOTIFICATIONS_PER_CHUNK = 100
INBOX_ENTRIES_PER_CHUNK = 5000


async def retention_job(ctx: dict[str, Any]) -> dict[str, int]:
    """One retention run (arq cron ``retention_job``); what it deleted, by kind."""
    settings = ctx["settings"]
    return await delete_old_push_data(
        batch_retention_days=settings.push_batch_retention_days,
        inbox_retention_days=settings.inbox_retention_days,
    )


async def delete_old_push_data(
    *, batch_retention_days: int, inbox_retention_days: int
) -> dict[str, int]:
    """Delete the push batches and inbox entries past their retention (see the module
    docstring; 0 days: keep). What was deleted: ``push_batches``, ``inbox_entries``."""
    now = utcnow()
    deleted = {"push_batches": 0, "inbox_entries": 0}
    if batch_retention_days:
        cutoff = now - timedelta(days=batch_retention_days)
        deleted["push_batches"] = await delete_old_batches(cutoff)
    if inbox_retention_days:
        cutoff = now - timedelta(days=inbox_retention_days)
        deleted["inbox_entries"] = await delete_old_inbox_entries(cutoff)
    log.info(
        "old push data deleted",
        batch_retention_days=batch_retention_days,
        inbox_retention_days=inbox_retention_days,
        **deleted,
    )
    return deleted


async def delete_old_batches(finished_before: datetime) -> int:
    """Delete the push batches of the settled notifications finished before ``finished_before``,
    those of ``NOTIFICATIONS_PER_CHUNK`` notifications at a time. Returns how
    many were deleted. Notifications stay, so each run goes over all the old ones again: for
    those already emptied that is a delete matching nothing, on the ``notification_id`` index."""
    deleted = 0
    chunk: list[str] = []
    # One condition per query (served by the "settled" index on every server); the time is
    # checked here.
    settled = Notification.get_pymongo_collection().find({"settled": True}, {"finished_at": 1})
    async for note in settled:
        finished_at = note.get("finished_at")
        if finished_at is None or finished_at >= finished_before:
            continue
        chunk.append(str(note["_id"]))
        if len(chunk) == NOTIFICATIONS_PER_CHUNK:
            deleted += await _delete_batches_of(chunk)
            chunk = []
    return deleted + await _delete_batches_of(chunk)


async def _delete_batches_of(notification_ids: list[str]) -> int:
    if not notification_ids:  # nothing to delete: no query
        return 0
    batches = PushBatch.get_pymongo_collection()
    result = await batches.delete_many({"notification_id": {"$in": notification_ids}})
    return result.deleted_count


async def delete_old_inbox_entries(created_before: datetime) -> int:
    """Delete the inbox entries created before ``created_before``, ``INBOX_ENTRIES_PER_CHUNK``
    at a time: their ids are looked up, then deleted by id, so that no one delete can grow with
    the millions of entries one notification to everyone writes. Returns how many were deleted."""
    entries = InboxEntry.get_pymongo_collection()
    old = {"created_at": {"$lt": created_before}}
    deleted = 0
    while True:
        found = entries.find(old, {"_id": 1}).limit(INBOX_ENTRIES_PER_CHUNK)
        ids = [entry["_id"] async for entry in found]
        if ids:
            deleted += (await entries.delete_many({"_id": {"$in": ids}})).deleted_count
        if len(ids) < INBOX_ENTRIES_PER_CHUNK:
            return deleted

"""The delivery state of notifications and push batches: every change of it, shared by the API
(cancel) and the worker's jobs (fan-out, send, reconcile in ``workers/``).

Each change is one atomic, conditional update, so any number of jobs and workers may act at
once and a job run twice does no harm:

* the fan-out claims a notification (``scheduled`` and due, or ``fanning_out`` with its lease
  expired) by incrementing ``fanout_runs``; later writes are conditional on that run, so a run
  that lost its lease stops at its next write;
* a send job claims a batch (``pending``, or ``claimed`` with its lease expired) by
  incrementing ``attempts``, keeps the lease alive while it sends, and records the outcome only
  if it still holds that claim (``attempts`` unchanged);
* a batch is marked done before the notification's counters are incremented, and a notification
  is finished only once no batch of it is pending or claimed, with its ``stats`` then set to the
  exact totals of its batches (``settled``): the live counters can be off while sending (a
  worker killed between the two writes), the final ones cannot.

Times are epoch seconds (:func:`now`), as leases are written with ``$set`` (see
:mod:`gnews.notifications.models`).
"""

from __future__ import annotations

import asyncio
import contextlib
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from typing import Any

import structlog
from bson import ObjectId
from pymongo import ReturnDocument
from pymongo.errors import BulkWriteError

from gnews.core.clock import utcnow
from gnews.core.pagination import time_key
from gnews.core.persistence import object_id
from gnews.devices.models import Device
from gnews.notifications.models import (
    ACTIVE_STATUSES,
    CANCELLABLE_STATUSES,
    BatchStatus,
    InboxEntry,
    Notification,
    NotificationStatus,
    PushBatch,
    reason_key,
)

log = structlog.get_logger(__name__)

DUPLICATE_KEY = 11000
OPEN_BATCH_STATUSES = [BatchStatus.PENDING.value, BatchStatus.CLAIMED.value]
_ACTIVE = [status.value for status in ACTIVE_STATUSES]
_CANCELLABLE = [status.value for status in CANCELLABLE_STATUSES]


def now() -> float:
    """The time as the delivery state stores it: epoch seconds."""
    return time.time()


def _notifications():
    return Notification.get_pymongo_collection()


def _batches():
    return PushBatch.get_pymongo_collection()


# -- leases ---------------------------------------------------------------------------------------


@contextlib.asynccontextmanager
async def lease_keeper(renew: Callable[[], Awaitable[bool]], every: float) -> AsyncIterator[None]:
    """Call ``renew`` every ``every`` seconds while the block runs (a lease's heartbeat); a
    failed renewal is logged and retried at the next beat."""

    async def beat() -> None:
        while True:
            await asyncio.sleep(every)
            try:
                if not await renew():
                    log.warning("lease lost while working")
            except Exception as error:  # MongoDB away for a moment: try again next beat
                log.warning("lease renewal failed", error=repr(error))

    task = asyncio.create_task(beat())
    try:
        yield
    finally:
        task.cancel()
        with contextlib.suppress(asyncio.CancelledError):
            await task


# -- fan-out --------------------------------------------------------------------------------------


async def claim_fanout(notification_id: str, lease: float) -> Notification | None:
    """Claim the notification's fan-out: ``scheduled`` and due, or ``fanning_out`` whose lease
    expired (its fan-out died). None when there is nothing to claim (already claimed, not due,
    finished, cancelled). An expired notification is marked so instead."""
    oid = object_id(notification_id)
    if oid is None:
        return None
    at = now()
    claimable = {
        "_id": oid,
        "$or": [
            {"status": NotificationStatus.SCHEDULED.value, "send_at": {"$lte": at}},
            {"status": NotificationStatus.FANNING_OUT.value, "fanout_lease_until": {"$lt": at}},
        ],
    }
    claimed = await _notifications().find_one_and_update(
        claimable,
        {
            "$set": {
                "status": NotificationStatus.FANNING_OUT.value,
                "fanout_lease_until": at + lease,
            },
            "$inc": {"fanout_runs": 1},
        },
        return_document=ReturnDocument.AFTER,
    )
    if claimed is None:
        return None
    notification = Notification.model_validate(claimed)
    if notification.expires_at <= at:
        await end(str(oid), NotificationStatus.EXPIRED)
        return None
    if notification.started_at is None:
        await _notifications().update_one(
            {"_id": oid, "started_at": None}, {"$set": {"started_at": at}}
        )
    return notification


def _run_filter(notification: Notification) -> dict[str, Any]:
    return {
        "_id": notification.id,
        "status": NotificationStatus.FANNING_OUT.value,
        "fanout_runs": notification.fanout_runs,
    }


async def renew_fanout(notification: Notification, lease: float) -> bool:
    """Extend this fan-out run's lease; False when it is no longer this run's."""
    result = await _notifications().update_one(
        _run_filter(notification), {"$set": {"fanout_lease_until": now() + lease}}
    )
    return result.matched_count == 1


async def resume_fanout(
    notification: Notification, batches: int, targeted: int, lease: float
) -> bool:
    """Set the counters from the batches an earlier run wrote; False when not this run's."""
    result = await _notifications().update_one(
        _run_filter(notification),
        {
            "$set": {
                "batches_total": batches,
                "stats.targeted": targeted,
                "fanout_lease_until": now() + lease,
            }
        },
    )
    return result.matched_count == 1


async def batch_written(notification: Notification, size: int, lease: float) -> bool:
    """Count a batch the fan-out wrote (and renew its lease); False when the run must stop:
    cancelled, expired, or taken over by another run."""
    result = await _notifications().update_one(
        _run_filter(notification),
        {
            "$inc": {"batches_total": 1, "stats.targeted": size},
            "$set": {"fanout_lease_until": now() + lease},
        },
    )
    return result.matched_count == 1


async def fanout_complete(notification: Notification) -> bool:
    """Every batch is written: ``sending``, and finished at once if every batch was sent."""
    result = await _notifications().update_one(
        _run_filter(notification),
        {"$set": {"status": NotificationStatus.SENDING.value, "fanout_lease_until": 0.0}},
    )
    if result.matched_count != 1:
        return False
    await finish_if_complete(str(notification.id))
    return True


# -- batches --------------------------------------------------------------------------------------


async def claim_batch(batch_id: str, lease: float) -> PushBatch | None:
    """Claim a batch for sending: ``pending``, or ``claimed`` with its lease expired (the send
    job holding it died). None when it is not claimable (done, cancelled, held)."""
    oid = object_id(batch_id)
    if oid is None:
        return None
    at = now()
    claimed = await _batches().find_one_and_update(
        {
            "_id": oid,
            "$or": [
                {"status": BatchStatus.PENDING.value},
                {"status": BatchStatus.CLAIMED.value, "lease_until": {"$lt": at}},
            ],
        },
        {
            "$set": {"status": BatchStatus.CLAIMED.value, "lease_until": at + lease},
            "$inc": {"attempts": 1},
        },
        return_document=ReturnDocument.AFTER,
    )
    return PushBatch.model_validate(claimed) if claimed is not None else None


def _claim_filter(batch: PushBatch) -> dict[str, Any]:
    return {"_id": batch.id, "status": BatchStatus.CLAIMED.value, "attempts": batch.attempts}


async def renew_batch(batch: PushBatch, lease: float) -> bool:
    """Extend this claim's lease; False when the batch is no longer held by this claim."""
    result = await _batches().update_one(
        _claim_filter(batch), {"$set": {"lease_until": now() + lease}}
    )
    return result.matched_count == 1


@dataclass
class Tally:
    """What one pass over a batch did."""

    sent: int = 0
    failed: int = 0
    deactivated: int = 0
    failed_by_reason: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)  # BatchFailure documents

    def fail(self, device_id: str, reason: str | None, *, deactivated: bool = False) -> None:
        """Count one device not reached, and keep why."""
        self.failed += 1
        self.deactivated += deactivated
        self.failed_by_reason[reason_key(reason)] += 1
        self.failures.append(
            {"device_id": device_id, "reason": (reason or "")[:300], "deactivated": deactivated}
        )

    def increments(self, prefix: str) -> dict[str, int]:
        """``$inc`` of these counts under ``prefix`` (``result`` or ``stats``)."""
        values = {
            f"{prefix}.sent": self.sent,
            f"{prefix}.failed": self.failed,
            f"{prefix}.deactivated": self.deactivated,
        }
        for reason, count in self.failed_by_reason.items():
            values[f"{prefix}.failed_by_reason.{reason}"] = count
        return {key: value for key, value in values.items() if value}


def _failures(batch: PushBatch, tally: Tally) -> list[dict[str, Any]]:
    """The batch's failures with this pass's, written whole: nx-27017 turns ``$push``-ed
    documents into strings (the claim holder is the only writer, so nothing is lost)."""
    return [failure.model_dump() for failure in batch.failures] + tally.failures


async def complete_batch(batch: PushBatch, tally: Tally) -> bool:
    """Record that this claim sent the batch; then count it on the notification, and finish the
    notification if it was the last. False (nothing counted) when the claim was lost."""
    update: dict[str, Any] = {
        "$set": {
            "status": BatchStatus.DONE.value,
            "lease_until": 0.0,
            "tokens": [],
            "device_ids": [],
        }
    }
    if increments := tally.increments("result"):
        update["$inc"] = increments
    if tally.failures:
        update["$set"]["failures"] = _failures(batch, tally)
    result = await _batches().update_one(_claim_filter(batch), update)
    if result.matched_count != 1:
        return False
    counted = await _notifications().find_one_and_update(
        {"_id": object_id(batch.notification_id)},
        {"$inc": {**tally.increments("stats"), "batches_done": 1}},
        projection={"status": 1, "batches_done": 1, "batches_total": 1},
        return_document=ReturnDocument.AFTER,
    )
    if (
        counted is not None
        and counted["status"] == NotificationStatus.SENDING.value
        and counted["batches_done"] >= counted["batches_total"]
    ):
        await finish_if_complete(batch.notification_id)
    return True


async def defer_batch(batch: PushBatch, tally: Tally, keep: list[int], delay: float) -> bool:
    """Count what this pass did and put the batch back, with only the devices at indexes
    ``keep`` (refused with a long Retry-After), for a send ``delay`` seconds from now. False
    when the claim was lost."""
    update: dict[str, Any] = {
        "$set": {
            "status": BatchStatus.PENDING.value,
            "lease_until": 0.0,
            "not_before": now() + delay,
            "device_ids": [batch.device_ids[i] for i in keep],
            "tokens": [batch.tokens[i] for i in keep],
        },
        "$inc": {"deferrals": 1, **tally.increments("result")},
    }
    if tally.failures:
        update["$set"]["failures"] = _failures(batch, tally)
    result = await _batches().update_one(_claim_filter(batch), update)
    if result.matched_count != 1:
        return False
    if increments := tally.increments("stats"):
        await _notifications().update_one(
            {"_id": object_id(batch.notification_id)}, {"$inc": increments}
        )
    return True


async def skip_batch(batch: PushBatch) -> bool:
    """This claim will not send the batch (the notification is cancelled or expired)."""
    result = await _batches().update_one(
        _claim_filter(batch),
        {
            "$set": {
                "status": BatchStatus.CANCELLED.value,
                "lease_until": 0.0,
                "tokens": [],
                "device_ids": [],
            }
        },
    )
    if result.matched_count != 1:
        return False
    await _notifications().update_one(
        {"_id": object_id(batch.notification_id)}, {"$inc": {"stats.skipped": len(batch.tokens)}}
    )
    return True


async def cancel_pending_batches(notification_id: str) -> int:
    """Cancel the notification's batches no send job holds; how many."""
    result = await _batches().update_many(
        {"notification_id": notification_id, "status": BatchStatus.PENDING.value},
        {"$set": {"status": BatchStatus.CANCELLED.value, "tokens": [], "device_ids": []}},
    )
    return result.modified_count


async def open_batches(notification_id: str | None = None) -> list[dict[str, Any]]:
    """Pending and claimed batches (of one notification, or of all), without their tokens."""
    projection = {
        "notification_id": 1,
        "seq": 1,
        "status": 1,
        "lease_until": 1,
        "attempts": 1,
        "not_before": 1,
    }
    # One condition only: nx-27017 scans the whole collection for combined conditions.
    found = await _batches().find({"status": {"$in": OPEN_BATCH_STATUSES}}, projection).to_list()
    if notification_id is None:
        return found
    return [batch for batch in found if batch["notification_id"] == notification_id]


# -- devices and inboxes --------------------------------------------------------------------------


async def record_inbox(device_ids: Iterable[str], notification_id: str) -> None:
    """Put the notification in these devices' inboxes (once each: a repeat is ignored)."""
    at = utcnow()
    entries = [
        {
            "_id": (entry_id := ObjectId()),
            "device_id": device_id,
            "notification_id": notification_id,
            "created_at": at,
            "opens": 0,
            "opened_at": None,
            "sort_key": time_key(at, entry_id),
        }
        for device_id in device_ids
    ]
    if not entries:
        return
    try:
        await InboxEntry.get_pymongo_collection().insert_many(entries, ordered=False)
    except BulkWriteError as error:  # a batch sent again after a crash: already there
        others = [e for e in error.details.get("writeErrors", []) if e.get("code") != DUPLICATE_KEY]
        if others:
            raise


async def deactivate_devices(device_ids: list[str]) -> int:
    """Stop targeting these devices (the gateway refused their tokens for good) until they
    register again; how many were active."""
    oids = [oid for device_id in device_ids if (oid := object_id(device_id)) is not None]
    if not oids:
        return 0
    result = await Device.get_pymongo_collection().update_many(
        {"_id": {"$in": oids}}, {"$set": {"active": False}}
    )
    return result.modified_count


# -- the end of a notification --------------------------------------------------------------------


async def end(notification_id: str, status: NotificationStatus) -> Notification | None:
    """Cancel (an active one or a draft) or expire (an active one) a notification: no batch not
    yet claimed will be sent (those in flight finish). The notification as it now is, or None
    when it was not active (or a draft, for a cancel)."""
    oid = object_id(notification_id)
    if oid is None:
        return None
    endable = _CANCELLABLE if status is NotificationStatus.CANCELLED else _ACTIVE
    ended = await _notifications().find_one_and_update(
        {"_id": oid, "status": {"$in": endable}},
        {"$set": {"status": status.value, "finished_at": now(), "fanout_lease_until": 0.0}},
        return_document=ReturnDocument.AFTER,
    )
    if ended is None:
        return None
    await cancel_pending_batches(notification_id)
    await settle(notification_id)
    return await Notification.get(oid)


async def finish_if_complete(notification_id: str) -> bool:
    """Finish a ``sending`` notification whose batches are all sent: ``done`` (or ``failed``
    when not one device was reached), with its exact totals. False when not finished."""
    if await open_batches(notification_id):
        return False
    totals = await batch_totals(notification_id)
    status = NotificationStatus.DONE
    if totals["stats.targeted"] and not totals["stats.sent"]:
        status = NotificationStatus.FAILED
    result = await _notifications().update_one(
        {"_id": object_id(notification_id), "status": NotificationStatus.SENDING.value},
        {
            "$set": {
                **totals,
                "batches_done": totals["batches_total"],
                "status": status.value,
                "finished_at": now(),
                "settled": True,
            }
        },
    )
    return result.modified_count == 1


async def settle(notification_id: str) -> bool:
    """Set the exact totals of a cancelled or expired notification once no batch of it is in
    flight any more. False when it is not time yet (or nothing to do)."""
    if await open_batches(notification_id):
        return False
    totals = await batch_totals(notification_id)
    result = await _notifications().update_one(
        {
            "_id": object_id(notification_id),
            "status": {
                "$in": [NotificationStatus.CANCELLED.value, NotificationStatus.EXPIRED.value]
            },
            "settled": False,
        },
        {"$set": {**totals, "settled": True}},
    )
    return result.modified_count == 1


async def batch_totals(notification_id: str) -> dict[str, Any]:
    """The notification's counters summed over its batches (``$set``-ready, ``stats.opened``
    left alone): a device of a batch that was not sent counts as skipped."""
    targeted = sent = failed = deactivated = batches = 0
    reasons: Counter[str] = Counter()
    cursor = _batches().find(
        {"notification_id": notification_id}, {"size": 1, "result": 1, "status": 1}
    )
    async for batch in cursor:
        result = batch.get("result") or {}
        batches += 1
        targeted += batch["size"]
        sent += result.get("sent", 0)
        failed += result.get("failed", 0)
        deactivated += result.get("deactivated", 0)
        reasons.update(result.get("failed_by_reason") or {})
    return {
        "batches_total": batches,
        "stats.targeted": targeted,
        "stats.sent": sent,
        "stats.failed": failed,
        "stats.failed_by_reason": dict(reasons),
        "stats.deactivated": deactivated,
        "stats.skipped": targeted - sent - failed,
    }

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

Times are datetimes. Leases and due times are compared with the database's clock
(:func:`now`, :func:`gnews.core.persistence.database_now`), not each worker's own: a lease
written by one worker and judged by another is measured on one clock.
"""

from __future__ import annotations

import asyncio
import contextlib
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable, Iterable
from dataclasses import dataclass, field
from datetime import datetime, timedelta
from typing import Any

import structlog
from pymongo.asynchronous.collection import AsyncCollection

from gnews.core import metrics
from gnews.core.persistence import (
    Each,
    database_now,
    find_one_and_update,
    insert_many,
    object_id,
    update_many,
    update_one,
)
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

OPEN_BATCH_STATUSES = [BatchStatus.PENDING.value, BatchStatus.CLAIMED.value]
_ACTIVE = [status.value for status in ACTIVE_STATUSES]
_CANCELLABLE = [status.value for status in CANCELLABLE_STATUSES]


async def now() -> datetime:
    """The database's current time: what leases and due times are compared with."""
    return await database_now(Notification)


def _seconds(lease: float) -> timedelta:
    return timedelta(seconds=lease)


def _batches() -> AsyncCollection[Any]:
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
    at = await now()
    claimable = {
        "_id": oid,
        "$or": [
            {"status": NotificationStatus.SCHEDULED.value, "send_at": {"$lte": at}},
            {"status": NotificationStatus.FANNING_OUT.value, "fanout_lease_until": {"$lt": at}},
        ],
    }
    notification = await find_one_and_update(
        Notification,
        claimable,
        set={"status": NotificationStatus.FANNING_OUT, "fanout_lease_until": at + _seconds(lease)},
        inc={"fanout_runs": 1},
    )
    if notification is None:
        return None
    if notification.expires_at is None or notification.expires_at <= at:
        await end(str(oid), NotificationStatus.EXPIRED)
        return None
    if notification.started_at is None:
        await update_one(Notification, {"_id": oid, "started_at": None}, set={"started_at": at})
    return notification


def _run_filter(notification: Notification) -> dict[str, Any]:
    return {
        "_id": notification.id,
        "status": NotificationStatus.FANNING_OUT.value,
        "fanout_runs": notification.fanout_runs,
    }


async def renew_fanout(notification: Notification, lease: float) -> bool:
    """Extend this fan-out run's lease; False when it is no longer this run's."""
    until = await now() + _seconds(lease)
    return await update_one(
        Notification, _run_filter(notification), set={"fanout_lease_until": until}
    )


async def resume_fanout(
    notification: Notification, batches: int, targeted: int, lease: float
) -> bool:
    """Set the counters from the batches an earlier run wrote; False when not this run's."""
    return await update_one(
        Notification,
        _run_filter(notification),
        set={
            "batches_total": batches,
            "stats.targeted": targeted,
            "fanout_lease_until": await now() + _seconds(lease),
        },
    )


async def batch_written(notification: Notification, size: int, lease: float) -> bool:
    """Count a batch the fan-out wrote (and renew its lease); False when the run must stop:
    cancelled, expired, or taken over by another run."""
    return await update_one(
        Notification,
        _run_filter(notification),
        inc={"batches_total": 1, "stats.targeted": size},
        set={"fanout_lease_until": await now() + _seconds(lease)},
    )


async def fanout_complete(notification: Notification) -> bool:
    """Every batch is written: ``sending``, and finished at once if every batch was sent."""
    sending = await update_one(
        Notification,
        _run_filter(notification),
        set={"status": NotificationStatus.SENDING},
        unset=["fanout_lease_until"],
    )
    if not sending:
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
    at = await now()
    return await find_one_and_update(
        PushBatch,
        {
            "_id": oid,
            "$or": [
                {"status": BatchStatus.PENDING.value},
                {"status": BatchStatus.CLAIMED.value, "lease_until": {"$lt": at}},
            ],
        },
        set={"status": BatchStatus.CLAIMED, "lease_until": at + _seconds(lease)},
        inc={"attempts": 1},
    )


def _claim_filter(batch: PushBatch) -> dict[str, Any]:
    return {"_id": batch.id, "status": BatchStatus.CLAIMED.value, "attempts": batch.attempts}


async def renew_batch(batch: PushBatch, lease: float) -> bool:
    """Extend this claim's lease; False when the batch is no longer held by this claim."""
    until = await now() + _seconds(lease)
    return await update_one(PushBatch, _claim_filter(batch), set={"lease_until": until})


@dataclass
class Tally:
    """What one pass over a batch did."""

    sent: int = 0
    failed: int = 0
    deactivated: int = 0
    failed_by_reason: Counter[str] = field(default_factory=Counter)
    failures: list[dict[str, Any]] = field(default_factory=list)  # BatchFailure documents
    sent_by_province: Counter[str] = field(default_factory=Counter)  # see provinces_of()
    at: datetime | None = None  # when the pass was recorded: its second of the timeline

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
        for province, count in self.sent_by_province.items():
            values[f"{prefix}.sent_by_province.{province}"] = count
        if prefix == "stats" and self.at is not None:
            values[f"stats.sent_by_second.{int(self.at.timestamp())}"] = self.sent
        return {key: value for key, value in values.items() if value}


async def provinces_of(device_ids: list[str]) -> Counter[str]:
    """How many of these devices follow each province (one indexed ``_id`` query for a batch's
    devices, at most the batch size): the per-province delivery counts of a batch pass."""
    oids = [oid for device_id in device_ids if (oid := object_id(device_id)) is not None]
    counts: Counter[str] = Counter()
    if not oids:
        return counts
    cursor = Device.get_pymongo_collection().find({"_id": {"$in": oids}}, {"provinces": 1})
    async for device in cursor:
        counts.update(dict.fromkeys(device.get("provinces") or [], 1))
    return counts


async def complete_batch(batch: PushBatch, tally: Tally) -> bool:
    """Record that this claim sent the batch; then count it on the notification, and finish the
    notification if it was the last. False (nothing counted) when the claim was lost."""
    done = await update_one(
        PushBatch,
        _claim_filter(batch),
        set={"status": BatchStatus.DONE, "tokens": [], "device_ids": []},
        unset=["lease_until"],
        inc=tally.increments("result"),
        push={"failures": Each(tally.failures)} if tally.failures else None,
    )
    if not done:
        return False
    counted = await find_one_and_update(
        Notification,
        {"_id": object_id(batch.notification_id)},
        inc={**tally.increments("stats"), "batches_done": 1},
    )
    if counted is not None and counted.batches_done == 1:
        metrics.observe_delivery_lag("first", counted.send_at)
    if (
        counted is not None
        and counted.status is NotificationStatus.SENDING
        and counted.batches_done >= counted.batches_total
    ):
        await finish_if_complete(batch.notification_id)
    return True


async def defer_batch(batch: PushBatch, tally: Tally, keep: list[int], delay: float) -> bool:
    """Count what this pass did and put the batch back, with only the devices at indexes
    ``keep`` (refused with a long Retry-After), for a send ``delay`` seconds from now. False
    when the claim was lost."""
    deferred = await update_one(
        PushBatch,
        _claim_filter(batch),
        set={
            "status": BatchStatus.PENDING,
            "not_before": await now() + _seconds(delay),
            "device_ids": [batch.device_ids[i] for i in keep],
            "tokens": [batch.tokens[i] for i in keep],
        },
        unset=["lease_until"],
        inc={"deferrals": 1, **tally.increments("result")},
        push={"failures": Each(tally.failures)} if tally.failures else None,
    )
    if not deferred:
        return False
    if increments := tally.increments("stats"):
        await update_one(Notification, {"_id": object_id(batch.notification_id)}, inc=increments)
    return True


async def skip_batch(batch: PushBatch) -> bool:
    """This claim will not send the batch (the notification is cancelled or expired)."""
    skipped = await update_one(
        PushBatch,
        _claim_filter(batch),
        set={"status": BatchStatus.CANCELLED, "tokens": [], "device_ids": []},
        unset=["lease_until"],
    )
    if not skipped:
        return False
    await update_one(
        Notification,
        {"_id": object_id(batch.notification_id)},
        inc={"stats.skipped": len(batch.tokens)},
    )
    return True


async def cancel_pending_batches(notification_id: str) -> int:
    """Cancel the notification's batches no send job holds; how many."""
    return await update_many(
        PushBatch,
        {"notification_id": notification_id, "status": BatchStatus.PENDING.value},
        set={"status": BatchStatus.CANCELLED, "tokens": [], "device_ids": []},
    )


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
    # One condition: served by the status index on both servers.
    found = await _batches().find({"status": {"$in": OPEN_BATCH_STATUSES}}, projection).to_list()
    if notification_id is None:
        return found
    return [batch for batch in found if batch["notification_id"] == notification_id]


# -- devices and inboxes --------------------------------------------------------------------------


async def record_inbox(device_ids: Iterable[str], notification_id: str) -> None:
    """Put the notification in these devices' inboxes (once each: a repeat is ignored)."""
    at = await now()
    entries = [
        InboxEntry(device_id=device_id, notification_id=notification_id, created_at=at)
        for device_id in device_ids
    ]
    # Unordered, duplicates skipped: a batch sent again after a crash finds its entries there.
    await insert_many(InboxEntry, entries)


async def deactivate_devices(device_ids: list[str]) -> int:
    """Stop targeting these devices (the gateway refused their tokens for good) until they
    register again; how many were active."""
    oids = [oid for device_id in device_ids if (oid := object_id(device_id)) is not None]
    if not oids:
        return 0
    return await update_many(Device, {"_id": {"$in": oids}, "active": True}, set={"active": False})


# -- the end of a notification --------------------------------------------------------------------


async def end(notification_id: str, status: NotificationStatus) -> Notification | None:
    """Cancel (an active one or a draft) or expire (an active one) a notification: no batch not
    yet claimed will be sent (those in flight finish). The notification as it now is, or None
    when it was not active (or a draft, for a cancel)."""
    oid = object_id(notification_id)
    if oid is None:
        return None
    endable = _CANCELLABLE if status is NotificationStatus.CANCELLED else _ACTIVE
    ended = await update_one(
        Notification,
        {"_id": oid, "status": {"$in": endable}},
        set={"status": status, "finished_at": await now()},
        unset=["fanout_lease_until"],
    )
    if not ended:
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
    finished = await find_one_and_update(
        Notification,
        {"_id": object_id(notification_id), "status": NotificationStatus.SENDING.value},
        set={
            **totals,
            "batches_done": totals["batches_total"],
            "status": status,
            "finished_at": await now(),
            "settled": True,
        },
    )
    if finished is None:
        return False
    metrics.observe_delivery_lag("last", finished.send_at)
    return True


async def settle(notification_id: str) -> bool:
    """Set the exact totals of a cancelled or expired notification once no batch of it is in
    flight any more. False when it is not time yet (or nothing to do)."""
    if await open_batches(notification_id):
        return False
    totals = await batch_totals(notification_id)
    return await update_one(
        Notification,
        {
            "_id": object_id(notification_id),
            "status": {
                "$in": [NotificationStatus.CANCELLED.value, NotificationStatus.EXPIRED.value]
            },
            "settled": False,
        },
        set={**totals, "settled": True},
    )


async def batch_totals(notification_id: str) -> dict[str, Any]:
    """The notification's counters summed over its batches (``$set``-ready, ``stats.opened``
    left alone): a device of a batch that was not sent counts as skipped."""
    targeted = sent = failed = deactivated = batches = 0
    reasons: Counter[str] = Counter()
    provinces: Counter[str] = Counter()
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
        provinces.update(result.get("sent_by_province") or {})
    return {
        "batches_total": batches,
        "stats.targeted": targeted,
        "stats.sent": sent,
        "stats.failed": failed,
        "stats.failed_by_reason": dict(reasons),
        "stats.sent_by_province": dict(provinces),
        "stats.deactivated": deactivated,
        "stats.skipped": targeted - sent - failed,
    }

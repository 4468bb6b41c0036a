"""The reconciler: an arq cron job (every ``GNEWS_PUSH_RECONCILE_SECONDS``, 15 by default) that
makes the delivery state in MongoDB happen whatever was lost in Redis or in a dead worker.

Each run, for the notifications not yet settled:

* expires those past ``expires_at`` (batches not yet claimed are cancelled);
* enqueues the fan-out of those due (``scheduled``, ``send_at`` passed: scheduled sending, or a
  fan-out job lost with Redis) and of those whose fan-out lease expired (its worker died);

for the pending and claimed push batches:

* enqueues again a batch whose claim expired (its worker died), under a new job id;
* enqueues again a batch pending for a few seconds under the same job id: a no-op while its job
  is queued, and its job again when Redis lost it;
* cancels the pending batches of a cancelled or expired notification;

and finishes the ``sending`` notifications without pending or claimed batches (and settles the
totals of cancelled and expired ones). A job that a worker took from the queue and died with
before claiming anything keeps its id in Redis; after :func:`rescue_after` seconds the job is
enqueued under a new id (``…:r1``, ``…:r2``).
"""

from __future__ import annotations

from collections import Counter
from datetime import datetime
from typing import Any

import structlog
from redis.exceptions import RedisError

from gnews.core.clock import as_utc
from gnews.core.persistence import update_one
from gnews.jobs import FANOUT, enqueue, fanout_job_id
from gnews.notifications import lifecycle
from gnews.notifications.models import (
    ACTIVE_STATUSES,
    BatchStatus,
    Notification,
    NotificationStatus,
    PushBatch,
)
from workers.jobs.send import enqueue_send

log = structlog.get_logger(__name__)

STALE_PENDING_SECONDS = 5.0
ENDED = (NotificationStatus.CANCELLED, NotificationStatus.EXPIRED)


def _seconds_past(moment: datetime | None, at: datetime) -> float:
    """Seconds from ``moment`` to ``at`` (negative: still ahead); a missing moment is long past."""
    if moment is None:
        return float("inf")
    return (at - as_utc(moment)).total_seconds()


def rescue_after(lease: float) -> float:
    """Seconds after which a job that should have started gets a new id (see the docstring)."""
    return max(10.0, 4 * lease)


def _rescue(overdue: float, lease: float) -> int:
    return int(max(0.0, overdue) // rescue_after(lease))


async def reconcile_job(ctx: dict[str, Any]) -> dict[str, int]:
    """One reconciliation (arq cron ``reconcile_job``); what it did, by kind."""
    return await reconcile(ctx["redis"], ctx["settings"].push_lease_seconds)


async def reconcile(redis: Any, lease: float) -> dict[str, int]:
    """See the module docstring."""
    at = await lifecycle.now()
    done: Counter[str] = Counter()
    statuses: dict[str, str] = {}
    unsettled = Notification.get_pymongo_collection().find(
        {"settled": False},
        {"status": 1, "send_at": 1, "expires_at": 1, "fanout_runs": 1, "fanout_lease_until": 1},
    )
    async for note in unsettled:
        nid, status = str(note["_id"]), note["status"]
        statuses[nid] = status
        if status in ACTIVE_STATUSES and _seconds_past(note.get("expires_at"), at) >= 0:
            if ended := await lifecycle.end(nid, NotificationStatus.EXPIRED):
                statuses[nid] = ended.status
                done["expired"] += 1
            continue
        due = _seconds_past(note.get("send_at"), at)
        lease_past = _seconds_past(note.get("fanout_lease_until"), at)
        if status == NotificationStatus.SCHEDULED and due >= 0:
            overdue = due
        elif status == NotificationStatus.FANNING_OUT and lease_past > 0:
            overdue = lease_past
        else:
            continue
        job_id = fanout_job_id(nid, note["fanout_runs"], _rescue(overdue, lease))
        try:
            if await enqueue(redis, FANOUT, nid, job_id=job_id):
                done["fanouts_enqueued"] += 1
        except (RedisError, OSError) as error:
            log.warning("reconciler cannot enqueue", error=repr(error))
            return dict(done)

    busy: set[str] = set()
    for batch in await lifecycle.open_batches():
        nid = batch["notification_id"]
        busy.add(nid)
        if statuses.get(nid) in ENDED and batch["status"] == BatchStatus.PENDING:
            await update_one(
                PushBatch,
                {"_id": batch["_id"], "status": BatchStatus.PENDING.value},
                set={"status": BatchStatus.CANCELLED, "tokens": [], "device_ids": []},
            )
            done["batches_cancelled"] += 1
            continue
        lease_past = _seconds_past(batch.get("lease_until"), at)
        waiting = _seconds_past(batch.get("not_before"), at)
        if batch["status"] == BatchStatus.CLAIMED and lease_past > 0:
            overdue, kind = lease_past, "leases_expired"
        elif batch["status"] == BatchStatus.PENDING and waiting >= STALE_PENDING_SECONDS:
            overdue, kind = waiting, "pending_enqueued"
        else:
            continue
        enqueued = await enqueue_send(
            redis,
            str(batch["_id"]),
            nid,
            batch["seq"],
            batch["attempts"],
            rescue=_rescue(overdue - STALE_PENDING_SECONDS, lease),
        )
        if enqueued:
            done[kind] += 1

    for nid, status in statuses.items():
        if nid in busy:
            continue
        if status == NotificationStatus.SENDING and await lifecycle.finish_if_complete(nid):
            done["finished"] += 1
        elif status in ENDED and await lifecycle.settle(nid):
            done["settled"] += 1
    if done:
        log.info("push reconciled", **done)
    return dict(done)

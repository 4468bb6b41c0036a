"""The send job: one push batch through its platform's transport (``send_batch``).

A send job claims its batch with a lease (renewed while it works), skips it when the
notification was cancelled or has expired, sends the message in the batch's language to its
tokens (the transport retries transient failures: back-off, jitter, Retry-After, capped
attempts), then records the outcome.

Per device (kept on the batch: counts in ``result``, the devices not reached in ``failures``):

* ``sent``: counted, and the notification goes into the device's inbox;
* ``invalid_token`` (FCM ``UNREGISTERED`` or an invalid token, APNs 410 / ``BadDeviceToken``):
  counted as failed by reason, and the device is deactivated at once (never targeted again
  until it registers again);
* ``failed``: counted by reason (the inbox still gets it); when the gateway asked to wait longer
  than the transport would (a Retry-After beyond its ``max_retry_after``), those devices are
  deferred instead: the batch goes back to ``pending`` with only them, for after the
  Retry-After (at most :data:`MAX_DEFERRALS` times, and never past the expiry).

Then the batch is marked done and the notification's counters incremented (see
:mod:`gnews.notifications.lifecycle` for the order and why it is safe). A worker killed while
sending leaves its batches ``claimed``: once their leases expire the reconciler enqueues them
again, so the devices of the batches in flight may get the message twice (it collapses on the
phone: the notification id is the collapse key), and no device is left out.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

import structlog
from redis.exceptions import RedisError

from gnews.core import metrics
from gnews.core.persistence import object_id
from gnews.jobs import SEND_BATCH, enqueue, send_job_id
from gnews.notifications import lifecycle
from gnews.notifications.message import push_message
from gnews.notifications.models import (
    ACTIVE_STATUSES,
    Notification,
    NotificationStatus,
    PushBatch,
)
from gnews.specs import PushOutcome, PushTransport

log = structlog.get_logger(__name__)

MAX_DEFERRALS = 3
MAX_CLAIMS = 5  # a batch claimed this often without being recorded is failed (a poison batch)
DEFAULT_MAX_RETRY_AFTER = 60.0  # a transport without a retry policy is assumed to wait this long
SENDING_STATUSES = (NotificationStatus.FANNING_OUT, NotificationStatus.SENDING)


async def enqueue_send(
    redis: Any,
    batch_id: str,
    notification_id: str,
    seq: int,
    attempt: int,
    *,
    rescue: int = 0,
    defer_by: float | None = None,
) -> bool:
    """Enqueue the send job of a batch; False when Redis is unreachable (the reconciler enqueues
    pending batches again) or a job of that id is already queued."""
    try:
        job = await enqueue(
            redis,
            SEND_BATCH,
            batch_id,
            job_id=send_job_id(notification_id, seq, attempt, rescue),
            defer_by=defer_by,
        )
    except (RedisError, OSError) as error:
        log.warning("send job not enqueued", batch=batch_id, error=repr(error))
        return False
    return job is not None


async def send_batch_job(ctx: dict[str, Any], batch_id: str) -> str:
    """Claim, send and record one push batch (arq job ``send_batch``)."""
    lease = ctx["settings"].push_lease_seconds
    batch = await lifecycle.claim_batch(batch_id, lease)
    if batch is None:
        return "not claimable"
    # Claimed before waiting for a sending slot: a batch waiting here is leased, not lost.
    async with (
        lifecycle.lease_keeper(lambda: lifecycle.renew_batch(batch, lease), lease / 3),
        ctx["send_slots"],
    ):
        return await _send_claimed(ctx, batch)


async def _send_claimed(ctx: dict[str, Any], batch: PushBatch) -> str:
    notification = await Notification.get(object_id(batch.notification_id))
    at = await lifecycle.now()
    if (
        notification is None
        or notification.status not in SENDING_STATUSES
        or notification.expires_at is None
        or at >= notification.expires_at
    ):
        if notification is not None and notification.status in ACTIVE_STATUSES:
            await lifecycle.end(batch.notification_id, NotificationStatus.EXPIRED)
        await lifecycle.skip_batch(batch)
        await lifecycle.settle(batch.notification_id)
        return "skipped: not sending"
    transport: PushTransport | None = ctx["push_transports"].get(batch.platform)
    if batch.attempts > MAX_CLAIMS:
        log.error("push batch given up after repeated claims", batch=str(batch.id))
        outcomes = _all_failed(batch, "too_many_attempts")
    elif transport is None:
        log.error("no push transport for the platform", platform=batch.platform)
        outcomes = _all_failed(batch, "no_transport")
    else:
        message = push_message(notification, batch.language, at, ctx["settings"].public_origin())
        outcomes = await transport.send(message, batch.tokens)
    return await _record(ctx, batch, notification, outcomes, _max_retry_after(transport))


def _all_failed(batch: PushBatch, reason: str) -> list[PushOutcome]:
    return [PushOutcome(token=token, status="failed", reason=reason) for token in batch.tokens]


def _max_retry_after(transport: PushTransport | None) -> float:
    policy = getattr(transport, "policy", None)
    return float(getattr(policy, "max_retry_after", DEFAULT_MAX_RETRY_AFTER))


async def _record(
    ctx: dict[str, Any],
    batch: PushBatch,
    notification: Notification,
    outcomes: list[PushOutcome],
    max_retry_after: float,
) -> str:
    at = await lifecycle.now()
    expires_at = notification.expires_at or at
    tally = lifecycle.Tally()
    reached: list[str] = []  # their inbox gets it
    invalid: list[str] = []
    deferred: list[int] = []
    wait = 0.0
    may_defer = batch.deferrals < MAX_DEFERRALS
    for index, (device_id, outcome) in enumerate(zip(batch.device_ids, outcomes, strict=True)):
        if outcome.status == "sent":
            tally.sent += 1
            reached.append(device_id)
        elif outcome.status == "invalid_token":
            tally.fail(device_id, outcome.reason, deactivated=True)
            invalid.append(device_id)
        elif (
            may_defer
            and outcome.retry_after is not None
            and outcome.retry_after > max_retry_after
            and at + timedelta(seconds=outcome.retry_after) < expires_at
        ):
            deferred.append(index)
            wait = max(wait, outcome.retry_after)
        else:
            tally.fail(device_id, outcome.reason)
            reached.append(device_id)
    metrics.record_push(batch.platform, tally.sent, tally.failed_by_reason)
    if invalid:
        metrics.count_deactivated_tokens(
            batch.platform, await lifecycle.deactivate_devices(invalid)
        )
    await lifecycle.record_inbox(reached, batch.notification_id)
    tally.at = at
    sent_ids = [d for d, o in zip(batch.device_ids, outcomes, strict=True) if o.status == "sent"]
    tally.sent_by_province = await lifecycle.provinces_of(sent_ids)
    if deferred:
        if await lifecycle.defer_batch(batch, tally, deferred, wait):
            await enqueue_send(
                ctx["redis"],
                str(batch.id),
                batch.notification_id,
                batch.seq,
                batch.attempts,
                defer_by=wait,
            )
        return f"sent {tally.sent}, failed {tally.failed}, deferred {len(deferred)} by {wait:g}s"
    if not await lifecycle.complete_batch(batch, tally):
        log.warning("push batch claim lost before it was recorded", batch=str(batch.id))
        return "claim lost"
    return f"sent {tally.sent}, failed {tally.failed}"

"""Names of background jobs, so the API can enqueue them without importing ``workers``."""

from __future__ import annotations

from arq.connections import ArqRedis
from arq.jobs import Job

QUEUE_NAME = "gnews:queue"
QUEUES = (QUEUE_NAME,)  # every queue workers consume (/metrics reports their depth)

POLL_SOURCE = "poll_source"  # args: source id (str)
PING = "ping"
FANOUT = "fanout"  # args: notification id (str)
SEND_BATCH = "send_batch"  # args: push batch id (str)


def fanout_job_id(notification_id: str, run: int, rescue: int = 0) -> str:
    """The id of a notification's fan-out job; ``run`` is its ``fanout_runs`` when enqueued, so
    a fan-out whose worker died is enqueued anew while a queued one is not enqueued twice.
    ``rescue`` > 0 makes a new id for a job lost in a worker that died before starting it."""
    return f"fanout:{notification_id}:{run}" + (f":r{rescue}" if rescue else "")


def send_job_id(notification_id: str, seq: int, attempt: int, rescue: int = 0) -> str:
    """The id of a push batch's send job; ``attempt`` is the batch's ``attempts`` (claims so
    far) when enqueued, so a batch whose claim expired is enqueued anew; ``rescue`` as for
    :func:`fanout_job_id`."""
    return f"send:{notification_id}:{seq}:{attempt}" + (f":r{rescue}" if rescue else "")


async def enqueue(
    redis: ArqRedis,
    name: str,
    *args: object,
    job_id: str | None = None,
    defer_by: float | None = None,
) -> Job | None:
    """Enqueue job ``name`` (to run ``defer_by`` seconds from now, when given); with ``job_id``,
    enqueuing the same id while it is queued or running is a no-op (None)."""
    return await redis.enqueue_job(
        name, *args, _job_id=job_id, _queue_name=QUEUE_NAME, _defer_by=defer_by
    )

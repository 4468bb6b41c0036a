"""Names of background jobs, so the API can enqueue them without importing ``workers``."""

from __future__ import annotations

from arq.connections import ArqRedis
from arq.jobs import Job

QUEUE_NAME = "gnews:queue"

POLL_SOURCE = "poll_source"  # args: source id (str)
PING = "ping"


async def enqueue(
    redis: ArqRedis, name: str, *args: object, job_id: str | None = None
) -> Job | None:
    """Enqueue job ``name``; with ``job_id``, enqueuing the same id twice is a no-op (None)."""
    return await redis.enqueue_job(name, *args, _job_id=job_id, _queue_name=QUEUE_NAME)

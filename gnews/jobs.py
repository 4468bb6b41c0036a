"""Background jobs by name: their queues, their ids and how to enqueue them, so the API and the
CLI enqueue work without importing ``workers``.

Two queues, each consumed by its own arq worker (``gnews worker`` runs both by default, or one
with ``--queue``): push delivery (fan-out, send, reconcile) and feeds (polls and their cron,
retention, caching agencies' images). A flood of slow feeds therefore never takes a job slot a
notification needs.
"""

from __future__ import annotations

import hashlib
from typing import Literal

from arq.connections import ArqRedis
from arq.jobs import Job

PUSH_QUEUE = "gnews:push"
FEEDS_QUEUE = "gnews:feeds"
QUEUES = {"push": PUSH_QUEUE, "feeds": FEEDS_QUEUE}  # short name (``--queue``) -> arq queue

POLL_SOURCE = "poll_source"  # args: source id (str)
PING = "ping"  # registered on every queue
FANOUT = "fanout"  # args: notification id (str)
SEND_BATCH = "send_batch"  # args: push batch id (str)
CACHE_MEDIA = "cache_media"  # args: kind ("news" or "app"), the item's or listing's id (str)

MediaOwner = Literal["news", "app"]

JOB_QUEUES = {  # a job's queue; ping is on every queue, this is its default
    POLL_SOURCE: FEEDS_QUEUE,
    CACHE_MEDIA: FEEDS_QUEUE,  # fetching agencies' images is like fetching their feeds
    FANOUT: PUSH_QUEUE,
    SEND_BATCH: PUSH_QUEUE,
    PING: PUSH_QUEUE,
}


def poll_job_id(source_id: str) -> str:
    """The one id of a source's poll, whoever asks for it (the cron or "poll now"): a source
    whose poll is queued or running is not enqueued again, so it is never polled twice at once."""
    return f"poll:{source_id}"


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


def media_job_id(kind: MediaOwner, owner_id: str, version: str) -> str:
    """The id of the job caching the images of an item (``version``: its ``content_hash``) or a
    listing (``version``: :func:`images_version` of its image URLs): enqueued twice for the same
    content, it is queued once; changed content gets a job of its own."""
    return f"media:{kind}:{owner_id}:{version}"


def images_version(urls: list[str]) -> str:
    """A short fingerprint of a list of image URLs (a listing's icon and screenshots)."""
    return hashlib.sha256("\n".join(urls).encode()).hexdigest()[:16]


async def enqueue(
    redis: ArqRedis,
    name: str,
    *args: object,
    job_id: str | None = None,
    defer_by: float | None = None,
    queue: str | None = None,
) -> Job | None:
    """Enqueue job ``name`` on its queue (``queue`` overrides it, e.g. to ping a chosen queue),
    to run ``defer_by`` seconds from now when given; with ``job_id``, enqueuing the same id
    while it is queued or running is a no-op (None)."""
    return await redis.enqueue_job(
        name, *args, _job_id=job_id, _queue_name=queue or JOB_QUEUES[name], _defer_by=defer_by
    )


async def enqueue_poll(redis: ArqRedis, source_id: str) -> Job | None:
    """Enqueue a poll of one source; None when its poll is already queued or running."""
    return await enqueue(redis, POLL_SOURCE, source_id, job_id=poll_job_id(source_id))


async def enqueue_cache_media(
    redis: ArqRedis, kind: MediaOwner, owner_id: str, version: str
) -> Job | None:
    """Enqueue the caching of an item's or a listing's images (on the feeds queue); None when
    that version's job is already queued or running."""
    return await enqueue(
        redis, CACHE_MEDIA, kind, owner_id, job_id=media_job_id(kind, owner_id, version)
    )

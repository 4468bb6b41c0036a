"""The arq worker: its jobs, cron schedule and start-up (``gnews worker``)."""

from __future__ import annotations

import asyncio
from datetime import UTC
from typing import Any

import structlog
from arq import cron
from arq.connections import RedisSettings
from arq.worker import Worker, func
from redis.asyncio.retry import Retry
from redis.backoff import ExponentialBackoff
from redis.exceptions import ConnectionError as RedisConnectionError
from redis.exceptions import RedisError
from redis.exceptions import TimeoutError as RedisTimeoutError

from gnews.app import document_models
from gnews.config import Settings
from gnews.core.persistence import init_documents, mongo_client
from gnews.jobs import FANOUT, PING, POLL_SOURCE, QUEUE_NAME, SEND_BATCH
from gnews.news.tagging import warm_up
from gnews.plugins import build_plugin_manager
from workers.feeds.fetch import make_feed_client
from workers.jobs.fanout import fanout_job
from workers.jobs.ingest import enqueue_due_sources, poll_source_job
from workers.jobs.reconcile import reconcile_job
from workers.jobs.retention import retention_job
from workers.jobs.send import send_batch_job
from workers.push import close_transports, load_transports

log = structlog.get_logger(__name__)

REDIS_OUTAGE_PAUSE_SECONDS = 1.0
FANOUT_TIMEOUT = 3600
RETENTION_TIMEOUT = 3600


class ResilientWorker(Worker):
    """arq's worker, riding out a Redis outage instead of exiting with it.

    arq's polling loop raises on the first Redis error it cannot retry (a connection lost while
    a key is watched), which would end the worker and, with it, the push batches it is sending.
    This one logs it and polls again a moment later; jobs lost with Redis are enqueued again by
    the push reconciler and the per-minute cron jobs.

    arq presumes a job abandoned (and lets another worker take it) after the longest job
    timeout; that stays the default timeout plus 10 s, not the fan-out's hour, so a poll whose
    worker died is retried as soon as before. A fan-out still running then is harmless to start
    again: its lease makes the second run a no-op.
    """

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.in_progress_timeout_s = self.job_timeout_s + 10

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except (RedisError, OSError) as error:
            log.warning("redis unavailable; the worker keeps trying", error=repr(error))
            await asyncio.sleep(REDIS_OUTAGE_PAUSE_SECONDS)


def make_worker(settings: Settings, **overrides: Any) -> ResilientWorker:
    """The worker of ``gnews worker`` (``overrides``: arq options, e.g. in tests)."""
    return ResilientWorker(**{**worker_settings(settings), **overrides})


async def ping(ctx: dict[str, Any]) -> str:
    """Diagnostic job: proves a worker consumes the queue (``gnews check --worker``)."""
    return "pong"


def worker_settings(settings: Settings) -> dict[str, Any]:
    """arq ``WorkerSettings`` for this configuration, as a mapping for ``arq.run_worker``."""
    assert settings.mongodb_uri and settings.redis_url

    async def startup(ctx: dict[str, Any]) -> None:
        ctx["settings"] = settings
        ctx["mongo_client"] = mongo_client(settings.mongodb_uri, timeout_ms=settings.db_timeout_ms)
        ctx["plugins"] = build_plugin_manager(settings.plugins, disabled=settings.disabled_plugins)
        ctx["http"] = make_feed_client(allow_private_networks=settings.feed_allow_private_networks)
        # platform -> PushTransport (workers/push): the send jobs look theirs up here.
        ctx["push_transports"] = load_transports(ctx["plugins"], settings)
        ctx["send_slots"] = asyncio.Semaphore(settings.push_send_concurrency)
        await asyncio.to_thread(warm_up)
        ctx["init_retry"] = await init_documents(
            ctx["mongo_client"],
            settings.mongodb_db,
            document_models(),
            build=settings.build_indexes,
        )
        log.info("worker started", queue=QUEUE_NAME)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if ctx.get("init_retry") is not None:
            ctx["init_retry"].cancel()
        if "http" in ctx:
            await ctx["http"].aclose()
        if "push_transports" in ctx:
            await close_transports(ctx["push_transports"])
        if "mongo_client" in ctx:
            await ctx["mongo_client"].close()

    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    # A Redis blip is retried briefly (under a second: a worker stopping while Redis is gone must
    # not hang); a longer outage is ridden out by ResilientWorker's polling loop.
    redis_errors = (RedisConnectionError, RedisTimeoutError, OSError)
    redis_settings.retry = Retry(ExponentialBackoff(cap=0.5, base=0.1), 3, redis_errors)
    redis_settings.retry_on_error = list(redis_errors)
    reconcile_seconds = set(range(0, 60, settings.push_reconcile_seconds))
    return {
        "functions": [
            func(ping, name=PING),
            func(poll_source_job, name=POLL_SOURCE, keep_result=0),
            # Fan-out and send jobs are re-enqueued under new ids by the reconciler when their
            # worker died or they timed out (their state is in MongoDB, a fan-out resumes): no
            # results kept, no retries by arq. A fan-out to millions of devices may take long.
            func(fanout_job, name=FANOUT, keep_result=0, max_tries=1, timeout=FANOUT_TIMEOUT),
            func(send_batch_job, name=SEND_BATCH, keep_result=0, max_tries=1),
        ],
        "cron_jobs": [
            cron(enqueue_due_sources, second=0, run_at_startup=True, unique=True),
            cron(
                reconcile_job,
                second=reconcile_seconds,
                run_at_startup=True,
                unique=True,
                keep_result=0,
            ),
            # Once a day at 20:17 UTC = 03:17 in Bangkok, when few people use the service. A run
            # cut short by its time-out has deleted a part; the next day's deletes the rest.
            cron(
                retention_job,
                hour=20,
                minute=17,
                second=0,
                unique=True,
                keep_result=0,
                timeout=RETENTION_TIMEOUT,
            ),
        ],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings,
        "queue_name": QUEUE_NAME,
        # Cron hours are UTC whatever the machine's time zone (arq's default is the machine's).
        "timezone": UTC,
        "health_check_key": f"{QUEUE_NAME}:health-check",
        "max_jobs": 50,
        "job_timeout": 300,
        "handle_signals": True,
    }

"""The arq worker: its jobs, cron schedule and start-up (``gnews worker``)."""

from __future__ import annotations

import asyncio
import signal
from collections.abc import Sequence
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

from gnews.config import ConfigurationError, Settings
from gnews.core import metrics
from gnews.core.persistence import init_documents, mongo_client
from gnews.devices.platforms import install_platforms, load_platforms
from gnews.documents import document_models
from gnews.jobs import CACHE_MEDIA, FANOUT, PING, POLL_SOURCE, PUSH_QUEUE, QUEUES, SEND_BATCH
from gnews.news.tagging import warm_up
from gnews.plugins import build_plugin_manager
from workers.feeds.fetch import make_feed_client
from workers.feeds.parser_pool import ParserPool
from workers.jobs.fanout import fanout_job
from workers.jobs.ingest import enqueue_due_sources, poll_source_job
from workers.jobs.media import cache_media_job
from workers.jobs.reconcile import reconcile_job
from workers.jobs.retention import retention_job
from workers.jobs.send import send_batch_job
from workers.push import close_transports, load_transports

log = structlog.get_logger(__name__)

REDIS_OUTAGE_PAUSE_SECONDS = 1.0
CLOSE_TIMEOUT_SECONDS = 10.0
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

    async def close(self) -> None:
        """Stop: cancel the running jobs, wait for them (at most :data:`CLOSE_TIMEOUT_SECONDS`),
        then run the shut-down and close the Redis pool.

        arq's own ``close`` gathers the cancelled jobs' tasks without ``return_exceptions``, so
        a job cancelled where arq does not catch it (between claiming and running it) re-raised
        its CancelledError into the caller (seen in a test's teardown), and a job that ignores
        cancellation blocked it forever.
        """
        if not self._handle_signals:
            self.handle_sig(signal.SIGUSR1)
        if not self._pool:
            return
        tasks = [task for task in self.tasks.values() if not task.done()]
        if tasks:
            _, pending = await asyncio.wait(tasks, timeout=CLOSE_TIMEOUT_SECONDS)
            if pending:
                log.warning("jobs still running at shutdown; left behind", jobs=len(pending))
        for task in self.tasks.values():  # retrieve the outcomes so none is logged as unseen
            if task.done() and not task.cancelled():
                task.exception()
        try:
            await self.pool.delete(self.health_check_key)
        except (RedisError, OSError) as error:
            log.warning("redis unavailable at shutdown", error=repr(error))
        if self.on_shutdown:
            await self.on_shutdown(self.ctx)
        await self.pool.aclose(close_connection_pool=True)
        self._pool = None

    async def _poll_iteration(self) -> None:
        try:
            await super()._poll_iteration()
        except (RedisError, OSError) as error:
            log.warning("redis unavailable; the worker keeps trying", error=repr(error))
            await asyncio.sleep(REDIS_OUTAGE_PAUSE_SECONDS)


def run_workers(settings: Settings, queues: Sequence[str]) -> None:
    """``gnews worker``: one arq worker per queue in ``queues``, in this process, until SIGINT
    or SIGTERM (then each stops its jobs and closes, as arq's own ``run`` does)."""
    asyncio.run(_serve(settings, queues))


async def _serve(settings: Settings, queues: Sequence[str]) -> None:
    shared = SharedResources(settings)
    workers = [
        ResilientWorker(**{**worker_settings(settings, queue, shared), "handle_signals": False})
        for queue in queues
    ]
    stop = asyncio.Event()
    loop = asyncio.get_running_loop()
    for sig in (signal.SIGINT, signal.SIGTERM):
        loop.add_signal_handler(sig, stop.set)
    for worker in workers:
        worker.main_task = asyncio.create_task(worker.main())
    stopping = asyncio.create_task(stop.wait())
    try:
        await asyncio.wait(
            [stopping, *(w.main_task for w in workers if w.main_task)],
            return_when=asyncio.FIRST_COMPLETED,
        )
    finally:
        stopping.cancel()
        for worker in workers:
            await worker.close()
        for sig in (signal.SIGINT, signal.SIGTERM):
            loop.remove_signal_handler(sig)
    for worker in workers:  # a worker that ended by itself failed (e.g. Redis unreachable)
        task = worker.main_task
        if task is not None and task.done() and not task.cancelled() and task.exception():
            raise task.exception()  # type: ignore[misc]


async def ping(ctx: dict[str, Any]) -> str:
    """Diagnostic job: proves a worker consumes the queue (``gnews check --worker``)."""
    return "pong"


class SharedResources:
    """What the workers of one process share, set up by the first to start and closed by the
    last to stop: the MongoDB client (beanie's documents are bound process-wide), the plugins
    and the Thai dictionaries."""

    def __init__(self, settings: Settings) -> None:
        self.settings = settings
        self.users = 0
        self.lock = asyncio.Lock()
        self.values: dict[str, Any] = {}

    async def acquire(self, ctx: dict[str, Any]) -> None:
        """Put the shared resources into a worker's ``ctx`` (creating them the first time)."""
        settings = self.settings
        async with self.lock:
            if not self.users:
                client = mongo_client(
                    settings.mongodb_uri or "", timeout_ms=settings.db_timeout_ms
                )  # checked by worker_settings
                plugins = build_plugin_manager(
                    settings.plugins,
                    disabled=settings.disabled_plugins,
                    trace=settings.trace_plugins,
                )
                self.values = {
                    "settings": settings,
                    "mongo_client": client,
                    "plugins": plugins,
                    # The fan-out's audiences and batches follow the loaded platforms.
                    "push_platforms": install_platforms(load_platforms(plugins)),
                }
                await asyncio.to_thread(warm_up)
                self.values["init_retry"] = await init_documents(
                    client, settings.mongodb_db, document_models(), build=settings.build_indexes
                )
            self.users += 1
        ctx.update(self.values)

    async def release(self) -> None:
        """A worker stopped; the last one closes the resources."""
        async with self.lock:
            self.users -= 1
            if self.users or not self.values:
                return
            values, self.values = self.values, {}
        if values.get("init_retry") is not None:
            values["init_retry"].cancel()
        await values["mongo_client"].close()


def worker_settings(
    settings: Settings, queue: str, shared: SharedResources | None = None
) -> dict[str, Any]:
    """arq ``WorkerSettings`` of one queue's worker, as a mapping for arq's ``Worker``.

    The push worker runs fan-out, send and the reconciler; the feeds worker polls sources
    (and their cron) and runs the daily retention. ``shared``: resources shared with the
    other queue's worker in the same process (default: its own).
    """
    if not settings.mongodb_uri or not settings.redis_url:
        raise ConfigurationError(
            "configuration error: GNEWS_MONGODB_URI and GNEWS_REDIS_URL are required to run "
            "the worker (or run `gnews dev`, which starts embedded servers)"
        )
    if queue not in QUEUES.values():
        raise ValueError(f"unknown queue {queue!r}; known: {', '.join(QUEUES.values())}")
    resources = shared or SharedResources(settings)
    push = queue == PUSH_QUEUE

    async def startup(ctx: dict[str, Any]) -> None:
        await resources.acquire(ctx)
        if push:
            # platform -> PushTransport (workers/push): the send jobs look theirs up here.
            ctx["push_transports"] = load_transports(ctx["plugins"], settings)
            ctx["send_slots"] = asyncio.Semaphore(settings.push_send_concurrency)
        else:
            ctx["http"] = make_feed_client(
                allow_private_networks=settings.feed_allow_private_networks
            )
            ctx["parser"] = ParserPool()
        log.info("worker started", queue=queue)

    async def shutdown(ctx: dict[str, Any]) -> None:
        if "http" in ctx:
            await ctx["http"].aclose()
        if "parser" in ctx:
            await ctx["parser"].aclose()
        if "push_transports" in ctx:
            await close_transports(ctx["push_transports"])
        if "settings" in ctx:  # the start-up got as far as the shared resources
            await resources.release()

    redis_settings = RedisSettings.from_dsn(settings.redis_url)
    # A Redis blip is retried briefly (under a second: a worker stopping while Redis is gone must
    # not hang); a longer outage is ridden out by ResilientWorker's polling loop.
    redis_errors = (RedisConnectionError, RedisTimeoutError, OSError)
    # redis-py types supported_errors as RedisError subclasses, but retries on any it is given.
    redis_settings.retry = Retry(ExponentialBackoff(cap=0.5, base=0.1), 3, redis_errors)  # type: ignore[arg-type]
    redis_settings.retry_on_error = list(redis_errors)
    if push:
        reconcile_seconds = set(range(0, 60, settings.push_reconcile_seconds))
        functions = [
            # Fan-out and send jobs are re-enqueued under new ids by the reconciler when their
            # worker died or they timed out (their state is in MongoDB, a fan-out resumes): no
            # results kept, no retries by arq. A fan-out to millions of devices may take long.
            func(fanout_job, name=FANOUT, keep_result=0, max_tries=1, timeout=FANOUT_TIMEOUT),
            func(send_batch_job, name=SEND_BATCH, keep_result=0, max_tries=1),
        ]
        cron_jobs = [
            cron(
                reconcile_job,
                second=reconcile_seconds,
                run_at_startup=True,
                unique=True,
                keep_result=0,
            ),
        ]
    else:
        # A poll records its own failures on the source (with back-off): arq retries nothing.
        # Caching an item's images logs each failure and is enqueued again when the item
        # changes: no retries either.
        functions = [
            func(poll_source_job, name=POLL_SOURCE, keep_result=0, max_tries=1),
            func(cache_media_job, name=CACHE_MEDIA, keep_result=0, max_tries=1),
        ]
        cron_jobs = [
            cron(enqueue_due_sources, second=0, run_at_startup=True, unique=True, keep_result=0),
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
        ]
    return {
        "functions": [func(ping, name=PING), *functions],
        "cron_jobs": cron_jobs,
        **metrics.job_hooks(queue),
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": redis_settings,
        "queue_name": queue,
        # Cron hours are UTC whatever the machine's time zone (arq's default is the machine's).
        "timezone": UTC,
        "health_check_key": f"{queue}:health-check",
        "max_jobs": 50,
        "job_timeout": 300,
        "handle_signals": True,
    }

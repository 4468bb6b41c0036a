"""The arq worker: its jobs, cron schedule and start-up (``gnews worker``)."""

from __future__ import annotations

import asyncio
from typing import Any

import structlog
from arq import cron
from arq.connections import RedisSettings
from arq.worker import func

from gnews.app import document_models
from gnews.config import Settings
from gnews.db import init_documents, mongo_client
from gnews.jobs import PING, POLL_SOURCE, QUEUE_NAME
from gnews.news.tagging import warm_up
from gnews.plugins import build_plugin_manager
from workers.feeds.fetch import make_feed_client
from workers.ingest import enqueue_due_sources, poll_source_job
from workers.push import close_transports, load_transports

log = structlog.get_logger(__name__)


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
        await asyncio.to_thread(warm_up)
        ctx["init_retry"] = await init_documents(
            ctx["mongo_client"], settings.mongodb_db, document_models()
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

    return {
        "functions": [
            func(ping, name=PING),
            func(poll_source_job, name=POLL_SOURCE, keep_result=0),
        ],
        "cron_jobs": [cron(enqueue_due_sources, second=0, run_at_startup=True, unique=True)],
        "on_startup": startup,
        "on_shutdown": shutdown,
        "redis_settings": RedisSettings.from_dsn(settings.redis_url),
        "queue_name": QUEUE_NAME,
        "health_check_key": f"{QUEUE_NAME}:health-check",
        "max_jobs": 50,
        "job_timeout": 300,
        "handle_signals": True,
    }

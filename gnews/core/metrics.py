"""Prometheus metrics: every metric of the API and the worker, defined here and nowhere else.

Instrumented code calls the small ``record_*`` / ``count_*`` helpers below (one line where the
thing happens). Each process keeps its own counters in memory and is scraped on its own: the API
at ``GET /metrics`` (:func:`metrics_endpoint`), a worker on ``GNEWS_WORKER_METRICS_PORT``
(:func:`serve_worker_metrics`). Prometheus sums replicas with ``sum by (...)``; queue depth is
read from Redis at scrape time by every API replica, so dashboards take its ``max``.

Who may read them: clients in ``GNEWS_METRICS_ALLOW_NETWORKS`` (default loopback) or with
``Authorization: Bearer <GNEWS_METRICS_TOKEN>`` (docs/operations.md#metrics).
"""

from __future__ import annotations

import hmac
import ipaddress
import threading
import time
from collections.abc import Awaitable, Callable, Iterable, Mapping
from datetime import datetime
from typing import TYPE_CHECKING, Any
from wsgiref.simple_server import WSGIRequestHandler, WSGIServer, make_server

import structlog
from litestar import Request, Response, get
from litestar.enums import ScopeType
from litestar.exceptions import PermissionDeniedException
from prometheus_client import (
    CONTENT_TYPE_LATEST,
    REGISTRY,
    Counter,
    Gauge,
    Histogram,
    generate_latest,
    make_wsgi_app,
)
from prometheus_client.exposition import ThreadingWSGIServer
from redis.exceptions import RedisError

if TYPE_CHECKING:
    from litestar.types import ASGIApp, Message, Receive, Scope, Send
    from redis.asyncio import Redis

    from gnews.config import Settings

log = structlog.get_logger(__name__)

_LATENCY_BUCKETS = (0.005, 0.01, 0.025, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10)
_JOB_BUCKETS = (0.01, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 300, 900, 3600)
_LAG_BUCKETS = (0.1, 0.25, 0.5, 1, 2.5, 5, 10, 30, 60, 120, 300, 600, 1800, 3600)

# --- the API ---------------------------------------------------------------------------------
HTTP_REQUESTS = Counter(
    "gnews_http_requests",
    "HTTP requests answered, by method, route template and status code.",
    ["method", "route", "status"],
)
HTTP_LATENCY = Histogram(
    "gnews_http_request_duration_seconds",
    "Time from request to the end of the response, by method and route template.",
    ["method", "route"],
    buckets=_LATENCY_BUCKETS,
)
RESPONSE_CACHE = Counter(
    "gnews_response_cache_lookups",
    "Redis response cache lookups (gnews/core/http_cache.py): hit, miss, or error (Redis down).",
    ["namespace", "result"],
)
RATE_LIMIT_REFUSALS = Counter(
    "gnews_rate_limit_refusals",
    "Requests refused with 429 by a rate-limit budget (gnews/core/rate_limit.py).",
    ["budget"],
)
QUEUE_DEPTH = Gauge(
    "gnews_queue_depth",
    "Jobs in an arq queue, read from Redis when the API is scraped: due (waiting for a worker) "
    "or deferred (to run later). Every API replica reports it: use max by (queue, state).",
    ["queue", "state"],
)
QUEUE_OLDEST_AGE = Gauge(
    "gnews_queue_oldest_due_job_age_seconds",
    "How long the oldest due job of a queue has waited (0 when none waits).",
    ["queue"],
)

# --- the worker ------------------------------------------------------------------------------
JOB_WAIT = Histogram(
    "gnews_job_wait_seconds",
    "Time a job waited in its queue after it was due, until a worker started it.",
    ["queue", "job"],
    buckets=_JOB_BUCKETS,
)
JOB_DURATION = Histogram(
    "gnews_job_duration_seconds",
    "Time a worker spent running a job (succeeded or not).",
    ["queue", "job"],
    buckets=_JOB_BUCKETS,
)
FEED_POLLS = Counter(
    "gnews_feed_polls",
    "Feed polls by outcome: ok, not_modified, unchanged, error, skipped.",
    ["outcome"],
)
ITEMS_INGESTED = Counter(
    "gnews_news_items_ingested",
    "News items stored by feed polls: new or updated.",
    ["change"],
)
PUSH_SENT = Counter("gnews_push_sent", "Push messages accepted by a gateway.", ["platform"])
PUSH_FAILED = Counter(
    "gnews_push_failed",
    "Push messages not delivered, by platform and reason (the gateway's code, or no_transport, "
    "too_many_attempts, ...).",
    ["platform", "reason"],
)
TOKENS_DEACTIVATED = Counter(
    "gnews_push_tokens_deactivated",
    "Devices deactivated because the gateway called their token invalid.",
    ["platform"],
)
DELIVERY_LAG = Histogram(
    "gnews_push_delivery_lag_seconds",
    "From the moment a notification was due (sent now or its scheduled time) to its first "
    "and to its last push batch handed to the gateways.",
    ["delivery"],
    buckets=_LAG_BUCKETS,
)


# --- instrumentation helpers -----------------------------------------------------------------
def count_cache_lookup(namespace: str, result: str) -> None:
    """One response-cache lookup: ``hit``, ``miss`` or ``error``."""
    RESPONSE_CACHE.labels(namespace, result).inc()


def count_rate_limit_refusal(budget: str) -> None:
    """One request refused by a rate-limit budget."""
    RATE_LIMIT_REFUSALS.labels(budget).inc()


def record_poll(outcome: str, *, new: int = 0, updated: int = 0) -> None:
    """One feed poll and the items it stored."""
    FEED_POLLS.labels(outcome).inc()
    if new:
        ITEMS_INGESTED.labels("new").inc(new)
    if updated:
        ITEMS_INGESTED.labels("updated").inc(updated)


def record_push(platform: str, sent: int, failed_by_reason: Mapping[str, int]) -> None:
    """What one pass over a push batch did: messages sent, and failed by reason."""
    if sent:
        PUSH_SENT.labels(platform).inc(sent)
    for reason, count in failed_by_reason.items():
        PUSH_FAILED.labels(platform, reason).inc(count)


def count_deactivated_tokens(platform: str, count: int) -> None:
    """Devices deactivated for an invalid token."""
    if count:
        TOKENS_DEACTIVATED.labels(platform).inc(count)


def observe_delivery_lag(delivery: str, due_at: float | datetime | None) -> None:
    """Seconds from ``due_at`` (epoch seconds or an aware datetime) to now, as the ``first`` or
    ``last`` delivery of a notification."""
    if isinstance(due_at, datetime):
        due_at = due_at.timestamp()
    if due_at:
        DELIVERY_LAG.labels(delivery).observe(max(0.0, time.time() - due_at))


def job_kind(job_id: str) -> str:
    """A job's kind from its id (ids are made in gnews/jobs.py: ``send:…``, ``poll:…``; cron
    jobs ``cron:<function>:…``); ``other`` for random ids, so the label stays bounded."""
    prefix, _, rest = job_id.partition(":")
    if not rest:
        return "other"
    if prefix == "cron":
        return "cron:" + rest.partition(":")[0]
    return prefix


def job_hooks(queue: str) -> dict[str, Callable[[dict[str, Any]], Awaitable[None]]]:
    """arq ``on_job_start`` / ``after_job_end`` hooks timing the jobs of ``queue``."""

    async def on_job_start(ctx: dict[str, Any]) -> None:
        ctx["metrics_started"] = time.perf_counter()
        kind = ctx["metrics_job"] = job_kind(str(ctx.get("job_id", "")))
        due_ms = ctx.get("score")
        if due_ms:
            JOB_WAIT.labels(queue, kind).observe(max(0.0, time.time() - due_ms / 1000))

    async def after_job_end(ctx: dict[str, Any]) -> None:
        started = ctx.get("metrics_started")
        if started is not None:
            JOB_DURATION.labels(queue, ctx["metrics_job"]).observe(time.perf_counter() - started)

    return {"on_job_start": on_job_start, "after_job_end": after_job_end}


async def refresh_queue_depth(redis: Redis, queues: Iterable[str]) -> None:
    """Read the depth of each arq queue (a sorted set scored by due time in ms) from Redis."""
    now_ms = int(time.time() * 1000)
    for queue in queues:
        try:
            async with redis.pipeline(transaction=False) as pipe:
                pipe.zcard(queue)
                pipe.zcount(queue, "-inf", now_ms)
                pipe.zrange(queue, 0, 0, withscores=True)
                total, due, oldest = await pipe.execute()
        except (RedisError, OSError) as error:
            log.warning("queue depth not read", queue=queue, error=str(error)[:200])
            continue
        QUEUE_DEPTH.labels(queue, "due").set(due)
        QUEUE_DEPTH.labels(queue, "deferred").set(total - due)
        oldest_ms = oldest[0][1] if oldest else now_ms
        QUEUE_OLDEST_AGE.labels(queue).set(max(0.0, (now_ms - oldest_ms) / 1000) if due else 0.0)


# --- access and exposition -------------------------------------------------------------------
def metrics_access_allowed(address: str, authorization: str | None, settings: Settings) -> bool:
    """True when a client at ``address`` with this ``Authorization`` header may read metrics:
    its address is in ``GNEWS_METRICS_ALLOW_NETWORKS``, or it sends the bearer token."""
    token = settings.metrics_token
    if token is not None and token.get_secret_value() and authorization:
        scheme, _, given = authorization.partition(" ")
        if scheme.lower() == "bearer" and hmac.compare_digest(
            given.strip().encode(), token.get_secret_value().encode()
        ):
            return True
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    if isinstance(ip, ipaddress.IPv6Address) and ip.ipv4_mapped is not None:
        ip = ip.ipv4_mapped
    return any(
        ip in ipaddress.ip_network(entry, strict=False) for entry in settings.metrics_allow_networks
    )


@get("/metrics", include_in_schema=False, cache_control=None)
async def metrics_endpoint(request: Request) -> Response[bytes]:
    """The API process's metrics in the Prometheus text format (403 to other clients)."""
    from gnews.core.rate_limit import client_address

    state = request.app.state
    settings: Settings = state.settings
    address = client_address(request, settings.trusted_proxies)
    if not metrics_access_allowed(address, request.headers.get("authorization"), settings):
        raise PermissionDeniedException("metrics are not available to this client")
    await refresh_queue_depth(state.redis, state.get("queues", ()))
    return Response(
        generate_latest(REGISTRY),
        media_type=CONTENT_TYPE_LATEST,
        headers={"Cache-Control": "no-store"},
    )


def http_metrics_middleware(app: ASGIApp) -> ASGIApp:
    """Count each HTTP request and time it, by method, route template and status."""

    async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != ScopeType.HTTP:
            await app(scope, receive, send)
            return
        status = 500
        started = time.perf_counter()

        async def send_recording_status(message: Message) -> None:
            nonlocal status
            if message["type"] == "http.response.start":
                status = message["status"]
            await send(message)

        try:
            await app(scope, receive, send_recording_status)
        finally:
            # Litestar sets the matched route's template (``/api/v1/news/{item_id:str}``).
            route = scope.get("path_template") or "unmatched"
            method = scope.get("method", "")
            HTTP_REQUESTS.labels(method, route, str(status)).inc()
            HTTP_LATENCY.labels(method, route).observe(time.perf_counter() - started)

    return middleware


class _QuietHandler(WSGIRequestHandler):
    def log_message(self, format: str, *args: Any) -> None:
        """Scrapes are not logged (every few seconds, forever)."""


def serve_worker_metrics(settings: Settings) -> WSGIServer | None:
    """Serve this process's metrics on ``GNEWS_HTTP_HOST:GNEWS_WORKER_METRICS_PORT`` from a
    daemon thread (same access rules as the API's); None when the port is 0 or taken."""
    if not settings.worker_metrics_port:
        return None
    exposition = make_wsgi_app(REGISTRY)

    def guarded(environ: dict[str, Any], start_response: Callable[..., Any]) -> Iterable[bytes]:
        if not metrics_access_allowed(
            environ.get("REMOTE_ADDR", ""), environ.get("HTTP_AUTHORIZATION"), settings
        ):
            start_response("403 Forbidden", [("Content-Type", "text/plain")])
            return [b"metrics are not available to this client\n"]
        return exposition(environ, start_response)

    try:
        server = make_server(
            settings.http_host,
            settings.worker_metrics_port,
            guarded,
            ThreadingWSGIServer,
            handler_class=_QuietHandler,
        )
    except OSError as error:
        log.warning(
            "worker metrics not served: set GNEWS_WORKER_METRICS_PORT to a free port (0: off)",
            port=settings.worker_metrics_port,
            error=str(error),
        )
        return None
    threading.Thread(target=server.serve_forever, name="metrics", daemon=True).start()
    log.info("worker metrics served", url=f"http://{settings.http_host}:{server.server_port}/")
    return server

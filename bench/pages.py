"""The public site's speed: each page and feed, cached and uncached, through a real `gnews serve`.

Seeds N news items with bench/scale.py's seeding (the same realistic Thai items over the 77
provinces, 25 agencies, about a sixth national, a tenth pending), builds the indexes, starts
`gnews serve`, and prints p50/p99 of every page and feed from the response cache and uncached
(the cache emptied before each request), each beside the API's by-id lookup
(``/api/v1/news/{id}``, uncached) measured in the same run.

    .venv/bin/python bench/pages.py [--items 100000] [--runs 21]

Targets (the embedded default nx-27017, 2 cores, 100,000 items): every page ≤ 50 ms from the
cache and ≤ 100 ms uncached. The machine's other load shows in the figures: quote it with them.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import random
import shutil
import subprocess
import sys
import tempfile
import time
import uuid
from pathlib import Path

import httpx

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.scale import Seeder, Timer, ok, seed_news
from gnews.app import document_models
from gnews.core.logs import configure_logging
from gnews.core.persistence import init_documents, mongo_client, redis_client
from gnews.dev.embedded import free_port, start_mongodb, start_redis

CACHED_TARGET_MS = 50.0
UNCACHED_TARGET_MS = 100.0


async def run(items: int, runs: int) -> None:
    """Seed, serve, measure, print."""
    temp = Path(tempfile.mkdtemp(prefix="gnews-bench-pages-"))
    uri = os.environ.get("GNEWS_BENCH_MONGODB_URI")
    mongodb = None if uri else start_mongodb(temp)
    redis_server = start_redis(temp, persist=False)
    mongodb_uri = uri or mongodb.url  # type: ignore[union-attr]
    client = mongo_client(mongodb_uri, timeout_ms=60_000)
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    process: subprocess.Popen[bytes] | None = None
    seeder = Seeder(random.Random(7))
    try:
        await init_documents(client, db_name, document_models(), build=False)
        database = client[db_name]
        started = time.perf_counter()
        _, national = await seed_news(database, seeder, items)
        print(f"seeded {items:,} news items ({national:,} national)", flush=True)
        await init_documents(client, db_name, document_models())
        print(f"seeded and indexed in {time.perf_counter() - started:.0f} s", flush=True)

        port = free_port()
        env = {k: v for k, v in os.environ.items() if not k.startswith("GNEWS_")}
        env.update(
            GNEWS_MONGODB_URI=mongodb_uri,
            GNEWS_MONGODB_DB=db_name,
            GNEWS_REDIS_URL=redis_server.url,
            GNEWS_DATA_DIR=str(temp / "var"),
            GNEWS_DISABLED_PLUGINS="ega,nakhonsawan,dopa",
            GNEWS_RATE_LIMIT_READS="0",
            GNEWS_LOG_LEVEL="WARNING",
            GNEWS_DB_TIMEOUT_MS="60000",
            GNEWS_BUILD_INDEXES="false",
        )
        with (temp / "api.log").open("wb") as log:
            process = subprocess.Popen(
                [sys.executable, "-m", "gnews", "serve", "--port", str(port)],
                env=env,
                stdout=log,
                stderr=subprocess.STDOUT,
            )
        redis = redis_client(redis_server.url)
        async with httpx.AsyncClient(base_url=f"http://127.0.0.1:{port}", timeout=120) as http:
            for _ in range(600):
                try:
                    if (await http.get("/api/v1/news/categories")).status_code == 200:
                        break
                except httpx.TransportError:
                    pass
                await asyncio.sleep(0.1)
            newest = (
                await database["news_items"]
                .find({"status": "published"})
                .sort([("sort_key", -1)])
                .limit(1)
                .to_list()
            )[0]
            item_id = str(newest["_id"])
            first = ok(await http.get("/provinces/TH-60")).text
            cursor = first.split("cursor=", 1)[1].split('"', 1)[0].replace("&amp;", "&")
            pages = {
                "home /": "/",
                "province /provinces/TH-60": "/provinces/TH-60",
                "province, page 2": f"/provinces/TH-60?cursor={cursor}",
                "province in English": "/provinces/TH-60?lang=en",
                "kiosk ?kiosk=1": "/provinces/TH-60?kiosk=1",
                "agency /agencies/agency-03": "/agencies/agency-03",
                "item /news/{id}": f"/news/{item_id}",
                "apps /apps (empty catalogue)": "/apps",
                "feed province .atom": "/provinces/TH-60/feed.atom",
                "feed province .rss": "/provinces/TH-60/feed.rss",
                "feed agency .atom": "/agencies/agency-03/feed.atom",
                "feed category .rss": "/categories/health/feed.rss",
            }

            def getter(path: str):
                async def call() -> None:
                    ok(await http.get(path))

                return call

            # Warm up the server (its Thai dictionaries load in the background at start-up).
            for path in [f"/api/v1/news/{item_id}", *pages.values()] * 3:
                ok(await http.get(path))
            timer = Timer(redis, runs)
            print(f"\np50/p99 over {runs} requests each (HTTP, through `gnews serve`):")
            by_id, _ = await timer.measure(
                "API news by id (uncached)", getter(f"/api/v1/news/{item_id}")
            )
            results = {}
            for name, path in pages.items():
                cached = await timer.measure(f"{name} (cached)", getter(path), cached=True)
                uncached = await timer.measure(f"{name} (uncached)", getter(path))
                results[name] = (cached, uncached)
        await redis.aclose()
    finally:
        if process is not None:
            process.terminate()
            try:
                process.wait(timeout=30)
            except subprocess.TimeoutExpired:
                process.kill()
        await client.drop_database(db_name)
        await client.close()
        redis_server.stop()
        if mongodb is not None:
            mongodb.stop()
        shutil.rmtree(temp, ignore_errors=True)

    print()
    print(
        f"machine: {os.cpu_count()} cores (shared; other load shows in the figures); MongoDB: "
        f"{uri if uri else 'nx-27017 (embedded)'}; {items:,} items"
    )
    print(f"API news by id, uncached: p50 {by_id:.1f} ms")
    header = f"{'page':30} {'cached p50/p99':>16} {'× id':>6} {'uncached p50/p99':>18} {'× id':>6}"
    print(header + "  target")
    for name, ((c50, c99), (u50, u99)) in results.items():
        verdict = "ok" if c50 <= CACHED_TARGET_MS and u50 <= UNCACHED_TARGET_MS else "MISSED"
        print(
            f"{name:30} {c50:7.1f}/{c99:7.1f} {c50 / by_id:6.1f} {u50:8.1f}/{u99:8.1f} "
            f"{u50 / by_id:6.1f}  ≤ 50 / ≤ 100 ms p50: {verdict}"
        )


def main() -> None:
    """Parse the arguments and run the benchmark."""
    configure_logging(json=False, level="WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--items", type=int, default=100_000, help="news items to seed")
    parser.add_argument("--runs", type=int, default=21, help="requests per page and mode")
    args = parser.parse_args()
    asyncio.run(run(args.items, args.runs))


if __name__ == "__main__":
    main()

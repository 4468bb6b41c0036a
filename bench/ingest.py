"""Ingestion benchmark: N loopback feeds × M Thai items through the real poll pipeline.

Prints items/s on the first poll (fetch, parse, sanitise, tag, index, store), the cost of an
unchanged re-poll (304 with ETag, and same bytes without validators), and, as the baseline
measured in the same run over the same bytes, raw ``feedparser.parse``; then the ratios.

    .venv/bin/python bench/ingest.py [--feeds 200] [--items 50] [--concurrency 8]

MongoDB: the embedded nx-27017 in a temporary directory, or GNEWS_BENCH_MONGODB_URI.
"""

from __future__ import annotations

import argparse
import asyncio
import os
import sys
import tempfile
import time
import uuid
from pathlib import Path
from xml.sax.saxutils import escape

import feedparser

sys.path.insert(0, str(Path(__file__).resolve().parents[1]))

from bench.support import PRESS_RELEASES
from gnews.agencies.models import Agency
from gnews.core.logs import configure_logging
from gnews.core.persistence import init_documents, mongo_client
from gnews.dev.embedded import start_mongodb
from gnews.dev.emulators.feeds import FeedServer
from gnews.documents import document_models
from gnews.news.models import NewsItem
from gnews.news.tagging import warm_up
from gnews.plugins import build_plugin_manager
from gnews.sources.models import Source
from workers.feeds.fetch import make_feed_client
from workers.jobs.ingest import poll

THAI_MONTHS = ["มกราคม", "กุมภาพันธ์", "มีนาคม", "เมษายน", "พฤษภาคม", "มิถุนายน"]


def make_feed(feed_no: int, items: int, paragraphs: list[str]) -> bytes:
    """An RSS 2.0 feed of Thai press releases with Thai-style dates (BE years)."""
    entries = []
    for n in range(items):
        body = "".join(
            f"<p>{escape(paragraphs[(feed_no + n + k) % len(paragraphs)])}</p>" for k in range(3)
        )
        day = 1 + (n % 28)
        date = f"{day} {THAI_MONTHS[n % 6]} 256{7 + n % 2}"
        entries.append(
            f"<item><title>ข่าว {feed_no}-{n} จังหวัดนครสวรรค์ {escape(paragraphs[n % 7][:60])}"
            f"</title><link>https://agency{feed_no}.go.th/news/{n}</link>"
            f"<guid>https://agency{feed_no}.go.th/news/{n}</guid>"
            f"<pubDate>{date}</pubDate><description>{escape(body)}</description></item>"
        )
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel>'
        f"<title>หน่วยงาน {feed_no}</title><link>https://agency{feed_no}.go.th/</link>"
        + "".join(entries)
        + "</channel></rss>"
    ).encode()


def press_paragraphs() -> list[str]:
    paragraphs = []
    for path in sorted(PRESS_RELEASES.glob("*.txt")):
        paragraphs += [p.strip() for p in path.read_text().split("\n\n") if len(p.strip()) > 80]
    return paragraphs


async def run(feeds: int, items: int, concurrency: int) -> None:
    paragraphs = press_paragraphs()
    bodies = [make_feed(n, items, paragraphs) for n in range(feeds)]
    total_items = feeds * items
    total_mb = sum(map(len, bodies)) / 1e6

    # Baseline: raw feedparser over the same bytes.
    started = time.perf_counter()
    parsed_entries = sum(len(feedparser.parse(body).entries) for body in bodies)
    baseline = time.perf_counter() - started
    assert parsed_entries == total_items

    started = time.perf_counter()
    warm_up()  # as the worker does at start-up
    warm = time.perf_counter() - started

    temp = Path(tempfile.mkdtemp(prefix="gnews-bench-"))
    uri = os.environ.get("GNEWS_BENCH_MONGODB_URI")
    server = None if uri else start_mongodb(temp)
    client = mongo_client(uri or server.url)
    db_name = f"bench_{uuid.uuid4().hex[:8]}"
    try:
        await init_documents(client, db_name, document_models())
        await Agency(code="bench", name_th="หน่วยงานทดสอบ", name_en="Bench").insert()
        plugins = build_plugin_manager(entry_points=False)
        with FeedServer() as feed_server:
            sources = []
            for n, body in enumerate(bodies):
                feed_server.add(f"/feed{n}.xml", body, etag=f'"v{n}"')
                sources.append(
                    Source(
                        slug=f"feed-{n}",
                        agency="bench",
                        name=f"feed {n}",
                        trusted=True,
                        feed_url=feed_server.url(f"/feed{n}.xml"),
                    )
                )
            await Source.insert_many(sources)
            sources = await Source.find_all().to_list()
            limit = asyncio.Semaphore(concurrency)
            async with make_feed_client(allow_private_networks=True) as http:

                async def poll_all() -> float:
                    async def one(source: Source):
                        async with limit:
                            return await poll(source, http, plugins)

                    fresh = await Source.find_all().to_list()
                    started = time.perf_counter()
                    outcomes = await asyncio.gather(*(one(s) for s in fresh))
                    elapsed = time.perf_counter() - started
                    errors = [o for o in outcomes if o.status == "error"]
                    assert not errors, errors[:3]
                    return elapsed

                first = await poll_all()
                stored = await NewsItem.find_all().count()
                assert stored == total_items, (stored, total_items)
                not_modified = await poll_all()  # ETag → 304
                for n in range(feeds):  # same bytes, no validators
                    feed_server.add(f"/feed{n}.xml", bodies[n])
                await poll_all()  # stores the new (absent) validators
                same_bytes = await poll_all()
                assert await NewsItem.find_all().count() == total_items
    finally:
        await client.drop_database(db_name)
        await client.close()
        if server:
            server.stop()

    def per_second(seconds: float) -> str:
        return f"{total_items / seconds:,.0f} items/s"

    print(f"feeds × items: {feeds} × {items} = {total_items:,} items, {total_mb:.1f} MB of XML")
    print(f"one-off warm-up (dictionaries):   {warm:7.2f} s  (worker start-up)")
    print(f"baseline feedparser.parse only:   {baseline:7.2f} s  {per_second(baseline)}")
    print(f"first poll (full pipeline):       {first:7.2f} s  {per_second(first)}")
    print(
        f"re-poll, 304 Not Modified:        {not_modified:7.2f} s  "
        f"{not_modified / feeds * 1000:.1f} ms per feed"
    )
    print(
        f"re-poll, same bytes, no ETag:     {same_bytes:7.2f} s  "
        f"{same_bytes / feeds * 1000:.1f} ms per feed"
    )
    print(f"ratio first poll / baseline:      {first / baseline:7.2f}× the time of parsing alone")
    print(f"ratio 304 re-poll / first poll:   {not_modified / first:7.3f}")
    print(f"ratio same-bytes re-poll / first: {same_bytes / first:7.3f}")


def main() -> None:
    """Parse the arguments and run the benchmark."""
    configure_logging(json=False, level="WARNING")
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--feeds", type=int, default=200)
    parser.add_argument("--items", type=int, default=50)
    parser.add_argument("--concurrency", type=int, default=8)
    args = parser.parse_args()
    asyncio.run(run(args.feeds, args.items, args.concurrency))


if __name__ == "__main__":
    main()

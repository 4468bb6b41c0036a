"""Feeds that break or hog the parser, served from the loopback feed server: one bad item never
loses a feed, parsing is bounded in a child process, an unexpected error is recorded on the
source with back-off, and a source has one poll job id whoever asks for it."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
import time
from collections.abc import AsyncIterator
from datetime import timedelta

import httpx
import pytest
from arq.connections import ArqRedis

from gnews.core.clock import utcnow
from gnews.dev.emulators.feeds import RecordedRequest, Response
from gnews.jobs import enqueue_poll
from gnews.news.models import NewsItem
from gnews.plugins import build_plugin_manager
from gnews.sources.models import Source
from tests.workers.feeds.test_ingest import PLUGINS, items_by_date, make_source
from workers.feeds.fetch import make_feed_client
from workers.feeds.normalize import TITLE_LIMIT
from workers.feeds.parser_pool import ParserPool
from workers.jobs.ingest import enqueue_due_sources, poll

GOOD_ITEM = "<item><title>ข่าวดี</title><link>https://www.ega.or.th/good</link></item>"


def rss(*items: str) -> bytes:
    return (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>สรอ.</title>'
        + "".join(items)
        + "</channel></rss>"
    ).encode()


@pytest.fixture
async def feed_client() -> AsyncIterator[httpx.AsyncClient]:
    """The worker's feed client (its usual time-outs: these feeds are slow to parse, not to
    fetch, and a loaded machine must not turn them into fetch time-outs)."""
    async with make_feed_client(allow_private_networks=True) as client:
        yield client


@pytest.fixture
async def parser() -> AsyncIterator[ParserPool]:
    """A parser pool with a 1 s CPU limit (and a wall-clock limit a loaded machine meets)."""
    pool = ParserPool(1, cpu_seconds=1, timeout_seconds=60)
    try:
        yield pool
    finally:
        await pool.aclose()


async def test_an_item_whose_link_no_parser_accepts_is_kept_without_it(
    client, feed_server, feed_client
):
    bad = (
        "<item><title>ลิงก์เสีย</title><link>http://host:PORT/x</link><guid>bad-1</guid>"
        "<description>&lt;p&gt;ดู &lt;a href=&quot;http://h:PORT/y&quot;&gt;ที่นี่&lt;/a&gt;"
        "&lt;/p&gt;</description></item>"
    )
    feed_server.add("/mixed.xml", rss(GOOD_ITEM, bad))
    source = await make_source(feed_server.url("/mixed.xml"))
    outcome = await poll(source, feed_client, build_plugin_manager(entry_points=False))
    assert (outcome.status, outcome.new) == ("ok", 2), outcome
    by_title = {item.title: item for item in await items_by_date(source)}
    assert by_title["ข่าวดี"].link == "https://www.ega.or.th/good"
    kept = by_title["ลิงก์เสีย"]
    assert kept.link is None and "ที่นี่" in kept.content_html and "PORT" not in kept.content_html
    stored = await Source.get(source.id)
    assert stored.last_error is None and stored.consecutive_failures == 0
    assert "http://host:PORT/x" in stored.last_warning and "dropped" in stored.last_warning


def test_gnews_sources_poll_reports_the_warning_instead_of_a_traceback(
    settings, feed_server, tmp_path
):
    feed_server.add(
        "/bad.xml", rss(GOOD_ITEM, "<item><title>x</title><link>http://a:PORT/</link></item>")
    )
    env = {
        **os.environ,
        "GNEWS_MONGODB_URI": settings.mongodb_uri,
        "GNEWS_MONGODB_DB": settings.mongodb_db,
        "GNEWS_DATA_DIR": str(settings.data_dir),
        "GNEWS_PLUGINS": f"{PLUGINS}.declaring",
        "GNEWS_DISABLED_PLUGINS": "ega,nakhonsawan",
        "GNEWS_FEED_ALLOW_PRIVATE_NETWORKS": "true",
        "GNEWS_TEST_FEED_URL": feed_server.url("/bad.xml"),
    }
    command = [sys.executable, "-m", "gnews", "sources", "poll", "--all"]
    done = subprocess.run(command, env=env, capture_output=True, text=True, timeout=180)
    assert done.returncode == 0, done.stdout + done.stderr
    assert "Traceback" not in done.stderr
    assert "loopback-press: 2 new" in done.stdout and "http://a:PORT/" in done.stdout


async def test_an_unexpected_error_is_recorded_on_the_source_with_back_off(
    client, feed_server, feed_client
):
    feed_server.add("/press.xml", rss(GOOD_ITEM))
    source = await make_source(feed_server.url("/press.xml"))
    plugins = build_plugin_manager([f"{PLUGINS}.unstorable"], entry_points=False)
    before = utcnow()
    outcome = await poll(source, feed_client, plugins)
    assert outcome.status == "error" and "unexpected error" in outcome.error
    failed = await Source.get(source.id)
    assert failed.last_error_kind == "internal" and failed.consecutive_failures == 1
    assert failed.next_poll_at - before > timedelta(minutes=failed.poll_interval_minutes * 1.5)
    # Fixed (the plugin removed), the next poll succeeds and clears the error.
    recovered = await poll(failed, feed_client, build_plugin_manager(entry_points=False))
    assert recovered.new == 1
    source = await Source.get(source.id)
    assert source.last_error is None and source.last_error_kind is None
    assert source.consecutive_failures == 0


async def test_a_feed_of_100000_attributes_on_one_element_is_refused_within_its_cpu_limit(
    client, feed_server, feed_client, parser
):
    attributes = " ".join(f'a{n}="x"' for n in range(100_000))
    body = rss(f"<item {attributes}><title>ช้า</title><guid>slow</guid></item>")
    assert 0.9e6 < len(body) < 1.5e6
    feed_server.add("/attributes.xml", body)
    source = await make_source(feed_server.url("/attributes.xml"))
    plugins = build_plugin_manager(entry_points=False)
    outcome = await poll(source, feed_client, plugins, parser=parser)
    assert outcome.status == "error" and "feed refused" in outcome.error
    failed = await Source.get(source.id)
    assert failed.last_error_kind == "parse" and "feed refused" in failed.last_error
    assert failed.consecutive_failures == 1 and parser.replaced == 1
    # The killed child was replaced: the next feed parses.
    feed_server.add("/attributes.xml", rss(GOOD_ITEM))
    recovered = await poll(failed, feed_client, plugins, parser=parser)
    assert recovered.new == 1
    assert (await Source.get(source.id)).last_error is None


async def test_100000_nested_divs_are_refused_within_the_cpu_limit(
    client, feed_server, feed_client, parser
):
    nested = "<div>" * 100_000 + "ลึก" + "</div>" * 100_000
    body = rss(f"<item><title>ลึก</title><description><![CDATA[{nested}]]></description></item>")
    feed_server.add("/nested.xml", body)
    source = await make_source(feed_server.url("/nested.xml"))
    outcome = await poll(
        source, feed_client, build_plugin_manager(entry_points=False), parser=parser
    )
    assert outcome.status == "error" and "feed refused" in outcome.error, outcome
    assert (await Source.get(source.id)).last_error_kind == "parse"


async def test_a_title_of_1_5_mb_is_cut_to_the_limit_with_a_warning(
    client, feed_server, feed_client
):
    huge = "ข่าว " * 300_000
    feed_server.add("/title.xml", rss(f"<item><title>{huge}</title><guid>t</guid></item>"))
    source = await make_source(feed_server.url("/title.xml"))
    outcome = await poll(source, feed_client, build_plugin_manager(entry_points=False))
    assert outcome.new == 1
    (item,) = await NewsItem.find(NewsItem.source_id == str(source.id)).to_list()
    assert len(item.title) <= TITLE_LIMIT + 1 and item.title.startswith("ข่าว ข่าว")
    assert "title of 1,499,999 characters cut to 300" in (await Source.get(source.id)).last_warning


async def test_a_source_has_one_poll_job_whoever_asks_for_it(client, settings):
    source = await make_source("http://127.0.0.1:9/feed.xml")
    redis = ArqRedis.from_url(settings.redis_url)
    try:
        assert await enqueue_poll(redis, str(source.id)) is not None  # "poll now"
        assert await enqueue_due_sources({"redis": redis}) == 0  # due, but already queued
        assert await enqueue_poll(redis, str(source.id)) is None
    finally:
        await redis.aclose()


async def test_two_polls_of_one_source_at_once_fetch_it_once(client, feed_server):
    def slowly(request: RecordedRequest) -> Response:
        time.sleep(1.5)  # the feed server's own thread: the second poll starts meanwhile
        return Response(body=rss(GOOD_ITEM))

    feed_server.dynamic("/slow.xml", slowly)
    source = await make_source(feed_server.url("/slow.xml"))
    plugins = build_plugin_manager(entry_points=False)
    # The worker's poll and `gnews sources poll` (which polls without the queue) at once.
    async with make_feed_client(allow_private_networks=True) as feed_client:
        outcomes = await asyncio.gather(
            poll(source, feed_client, plugins), poll(source, feed_client, plugins)
        )
        fetched = len(feed_server.requests_to("/slow.xml"))
        feed_server.add("/slow.xml", rss(GOOD_ITEM))
        again = await poll(await Source.get(source.id), feed_client, plugins)
    assert sorted(o.status for o in outcomes) == ["ok", "skipped"]
    assert [o.error for o in outcomes if o.status == "skipped"] == ["already being polled"]
    assert fetched == 1
    # The lease ended with the poll: the next one ran.
    assert again.status in ("ok", "unchanged")
    assert (await Source.get(source.id)).polling_until is None

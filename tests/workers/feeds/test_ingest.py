"""Ingestion end to end: loopback feeds → poll → stored, tagged, curated-or-published items."""

from __future__ import annotations

import asyncio
import os
import subprocess
import sys
from datetime import timedelta

from redis.asyncio import Redis

from gnews.agencies.models import Agency
from gnews.core.clock import utcnow
from gnews.jobs import FEEDS_QUEUE, poll_job_id
from gnews.news.models import ItemStatus, NewsItem
from gnews.plugins import build_plugin_manager
from gnews.sources.models import Source
from gnews.sources.sync import sync_plugin_sources
from tests.workers.feeds.conftest import FIXTURES, fixture_bytes
from workers.jobs.ingest import enqueue_due_sources, poll

BANGKOK = timedelta(hours=7)
PLUGINS = "tests.workers.feeds.ingest_plugins"


async def make_source(feed_url: str, *, slug: str = "press", trusted: bool = True, **extra):
    if not await Agency.find_one(Agency.code == "ega"):
        await Agency(code="ega", name_th="สรอ.", name_en="EGA").insert()
    return await Source(
        slug=slug, agency="ega", name=slug, feed_url=feed_url, trusted=trusted, **extra
    ).insert()


def bangkok_date(item: NewsItem) -> str:
    return (item.published_at + BANGKOK).date().isoformat()


async def items_by_date(source: Source) -> list[NewsItem]:
    return await NewsItem.find(NewsItem.source_id == str(source.id)).sort("published_at").to_list()


async def test_trusted_feed_of_press_releases_is_published_tagged_and_clean(
    client, feed_server, feed_client
):
    feed_server.add("/press.xml", fixture_bytes("ega_press_rss.xml"))
    source = await make_source(feed_server.url("/press.xml"))
    outcome = await poll(source, feed_client, build_plugin_manager(entry_points=False))
    assert (outcome.status, outcome.new) == ("ok", 3), outcome
    items = await items_by_date(source)
    assert [bangkok_date(i) for i in items] == ["2014-07-25", "2015-05-20", "2015-08-11"]
    assert all(i.status is ItemStatus.PUBLISHED and not i.date_missing for i in items)
    phitsanulok, nakhon_sawan, seminar = items
    assert phitsanulok.provinces == ["TH-65", "TH-64", "TH-20"]
    assert nakhon_sawan.provinces[0] == "TH-60" and "TH-61" in nakhon_sawan.provinces
    assert seminar.provinces == ["TH-10"]
    assert {t.reason for t in nakhon_sawan.province_tags} == {"text"}
    assert "นครสวรรค์" in nakhon_sawan.search_terms
    stored = await Source.get(source.id)
    assert stored.item_count == 3 and stored.consecutive_failures == 0
    assert stored.last_success_at is not None and stored.last_error is None


async def test_untrusted_source_items_wait_for_review_and_source_defaults_are_tagged(
    client, feed_server, feed_client
):
    feed_server.add("/feed.xml", fixture_bytes("thai_rss_utf8.xml"))
    source = await make_source(feed_server.url("/feed.xml"), trusted=False, provinces=["TH-60"])
    await poll(source, feed_client, build_plugin_manager(entry_points=False))
    items = await items_by_date(source)
    assert items and all(i.status is ItemStatus.PENDING for i in items)
    for item in items:
        assert item.provinces[0] == "TH-60"
        assert item.province_tags[0].reason == "source"


async def test_re_polling_never_duplicates_and_304_costs_nothing(client, feed_server, feed_client):
    feed_server.add("/press.xml", fixture_bytes("ega_press_rss.xml"), etag='"v1"')
    source = await make_source(feed_server.url("/press.xml"))
    plugins = build_plugin_manager(entry_points=False)
    assert (await poll(source, feed_client, plugins)).new == 3
    source = await Source.get(source.id)
    second = await poll(source, feed_client, plugins)
    assert second.status == "not_modified"
    assert feed_server.requests_to("/press.xml")[-1].headers["if-none-match"] == '"v1"'
    assert await NewsItem.find_all().count() == 3


async def test_same_bytes_without_validators_are_not_parsed_again(client, feed_server, feed_client):
    feed_server.add("/press.xml", fixture_bytes("ega_press_rss.xml"))
    source = await make_source(feed_server.url("/press.xml"))
    plugins = build_plugin_manager(entry_points=False)
    await poll(source, feed_client, plugins)
    outcome = await poll(await Source.get(source.id), feed_client, plugins)
    assert outcome.status == "unchanged" and await NewsItem.find_all().count() == 3


async def test_changed_entry_updates_the_item_but_keeps_editor_edits(
    client, feed_server, feed_client
):
    original = fixture_bytes("ega_press_rss.xml")
    feed_server.add("/press.xml", original)
    source = await make_source(feed_server.url("/press.xml"))
    plugins = build_plugin_manager(entry_points=False)
    await poll(source, feed_client, plugins)
    seminar = await NewsItem.find_one({"key": {"$regex": "local-egov-seminar$"}})
    await seminar.set({"summary": "สรุปโดยบรรณาธิการ", "edited_fields": ["summary"]})
    changed = original.replace(
        "EGA จัดสัมมนาหน่วยงานภาครัฐ".encode(), "EGA จัดสัมมนาใหญ่หน่วยงานภาครัฐ".encode()
    )
    feed_server.add("/press.xml", changed)
    outcome = await poll(await Source.get(source.id), feed_client, plugins)
    assert (outcome.new, outcome.updated, outcome.unchanged) == (0, 1, 2)
    seminar = await NewsItem.get(seminar.id)
    assert seminar.title.startswith("EGA จัดสัมมนาใหญ่")
    assert seminar.summary == "สรุปโดยบรรณาธิการ"
    assert await NewsItem.find_all().count() == 3


async def test_each_broken_feed_records_its_own_error_and_the_others_keep_flowing(
    client, feed_server, feed_client
):
    feed_server.add("/good.xml", fixture_bytes("ega_press_rss.xml"))
    feed_server.add(
        "/tis620.xml",
        fixture_bytes("rss_tis620.xml"),
        content_type="application/rss+xml; charset=tis-620",
    )
    feed_server.add("/bozo.xml", fixture_bytes("malformed_bozo.xml"))
    feed_server.add("/garbage", fixture_bytes("error_page.html"), content_type="text/html")
    feed_server.huge("/huge.xml", 3 * 1024 * 1024)
    feed_server.status("/broken.xml", 500)
    feed_server.status("/busy.xml", 503, headers={"Retry-After": "7200"})
    feed_server.status("/gone.xml", 404)
    feed_server.hang("/hang.xml")
    feed_server.redirect("/loop-a", "/loop-b")
    feed_server.redirect("/loop-b", "/loop-a")
    feed_server.add("/scripts.xml", fixture_bytes("xss_content.xml"))
    names = [
        "good.xml",
        "tis620.xml",
        "bozo.xml",
        "garbage",
        "huge.xml",
        "broken.xml",
        "busy.xml",
        "gone.xml",
        "hang.xml",
        "loop-a",
        "scripts.xml",
    ]
    sources = {
        name: await make_source(feed_server.url(f"/{name}"), slug=name.replace(".", "-"))
        for name in names
    }
    sources["refused"] = await make_source("http://127.0.0.1:9/feed.xml", slug="refused")
    plugins = build_plugin_manager(entry_points=False)
    # MongoDB stores milliseconds: the poll's "now" (taken after this one) is stored truncated.
    before = utcnow().replace(microsecond=0)
    outcomes = await asyncio.gather(
        *(poll(s, feed_client, plugins, max_bytes=1024 * 1024) for s in sources.values())
    )
    by_name = dict(zip(sources, outcomes, strict=True))
    expected_errors = {
        "garbage": "parse",
        "huge.xml": "too_large",
        "broken.xml": "http_status",
        "busy.xml": "http_status",
        "gone.xml": "http_status",
        "hang.xml": "timeout",
        "loop-a": "too_many_redirects",
        "refused": "connect",
    }
    for name, source in sources.items():
        stored = await Source.get(source.id)
        if name in expected_errors:
            assert by_name[name].status == "error", (name, by_name[name])
            assert stored.last_error_kind == expected_errors[name], (name, stored.last_error)
            assert stored.consecutive_failures == 1
            assert stored.next_poll_at > before + timedelta(minutes=30), name
        else:
            assert by_name[name].status == "ok", (name, by_name[name])
            assert stored.last_error is None and by_name[name].new > 0, name
    busy = await Source.get(sources["busy.xml"].id)
    assert busy.next_poll_at >= before + timedelta(hours=2)  # Retry-After honoured
    assert "malformed" in (await Source.get(sources["bozo.xml"].id)).last_warning
    thai = await NewsItem.find(NewsItem.source_id == str(sources["tis620.xml"].id)).to_list()
    assert thai and all(
        "\ufffd" not in i.title and any("ก" <= c <= "๛" for c in i.title) for i in thai
    )
    expected_text = (FIXTURES / "rss_tis620.expected.txt").read_text(encoding="utf-8")
    assert all(i.title in expected_text for i in thai)
    for item in await NewsItem.find(NewsItem.source_id == str(sources["scripts.xml"].id)).to_list():
        html = item.content_html.lower()
        assert "<script" not in html and "javascript:" not in html and "onerror" not in html


async def test_back_off_grows_and_is_capped_at_a_day(client, feed_server, feed_client):
    feed_server.status("/down.xml", 500)
    source = await make_source(feed_server.url("/down.xml"), poll_interval_minutes=600)
    plugins = build_plugin_manager(entry_points=False)
    delays = []
    for _ in range(4):
        source = await Source.get(source.id)
        now = utcnow()
        await poll(source, feed_client, plugins)
        delays.append((await Source.get(source.id)).next_poll_at - now)
    assert delays[0] < delays[1] and all(d <= timedelta(days=1, seconds=5) for d in delays)
    assert delays[-1] > timedelta(hours=23)
    # Updated dates stay real dates, comparable in queries, whichever server stores them.
    assert await Source.find({"next_poll_at": {"$gt": utcnow()}}).count() == 1
    feed_server.add("/down.xml", fixture_bytes("ega_press_rss.xml"))
    await poll(await Source.get(source.id), feed_client, plugins)
    recovered = await Source.get(source.id)
    assert recovered.consecutive_failures == 0 and recovered.last_success_at is not None


async def test_plugins_modify_drop_and_tag_items_and_a_raising_one_is_skipped(
    client, feed_server, feed_client
):
    feed_server.add("/press.xml", fixture_bytes("ega_press_rss.xml"))
    source = await make_source(feed_server.url("/press.xml"))
    plugins = build_plugin_manager(
        [f"{PLUGINS}.curating", f"{PLUGINS}.raising"], entry_points=False
    )
    outcome = await poll(source, feed_client, plugins)
    assert (outcome.new, outcome.dropped) == (2, 1)  # the seminar is dropped by the plugin
    items = await items_by_date(source)
    assert all(i.title.startswith("[EGA] ") for i in items)
    for item in items:
        tags = {(t.code, t.reason, t.detail) for t in item.province_tags}
        assert ("TH-96", "plugin", f"{PLUGINS}.curating") in tags
    raised = [f for f in plugins.failures if f.plugin == f"{PLUGINS}.raising"]
    assert {f.hook for f in raised} == {"gnews_process_item", "gnews_item_provinces"}


async def test_plugin_sources_are_synced_disabled_when_dropped_and_enabled_again(client):
    await Agency(code="ega", name_th="สรอ.", name_en="EGA").insert()
    os.environ["GNEWS_TEST_FEED_URL"] = "http://127.0.0.1:9/feed.xml"
    plugins = build_plugin_manager([f"{PLUGINS}.declaring"], entry_points=False)
    report = await sync_plugin_sources(plugins)
    assert report.created == [f"{PLUGINS}.declaring/loopback-press"]
    source = await Source.find_one(Source.slug == "loopback-press")
    assert source.trusted and source.enabled and source.origin == f"{PLUGINS}.declaring"
    await NewsItem(
        source_id=str(source.id),
        source_slug=source.slug,
        agency="ega",
        key="k",
        title="t",
        published_at=utcnow(),
        content_hash="h",
    ).insert()
    report = await sync_plugin_sources(build_plugin_manager(entry_points=False))
    assert report.disabled == [f"{PLUGINS}.declaring/loopback-press"]
    dropped = await Source.get(source.id)
    assert not dropped.enabled and not dropped.declared
    assert await NewsItem.find(NewsItem.source_id == str(source.id)).count() == 1  # never deleted
    await sync_plugin_sources(plugins)
    assert (await Source.get(source.id)).enabled
    # A plugin whose hook raises keeps its sources as they are.
    raising = build_plugin_manager([f"{PLUGINS}.raising"], entry_points=False)
    await Source(
        origin=f"{PLUGINS}.raising",
        slug="kept",
        agency="ega",
        name="k",
        feed_url="http://127.0.0.1:9/x",
    ).insert()
    await sync_plugin_sources(raising)
    assert (await Source.find_one(Source.slug == "kept")).enabled


async def test_a_plugin_that_fails_to_import_keeps_its_sources(client, monkeypatch):
    await Agency(code="ega", name_th="สรอ.", name_en="EGA").insert()
    monkeypatch.setenv("GNEWS_TEST_FEED_URL", "http://127.0.0.1:9/feed.xml")
    declaring = f"{PLUGINS}.declaring"
    await sync_plugin_sources(build_plugin_manager([declaring], entry_points=False))
    # Next start-up its module cannot be imported (a broken release, a missing dependency).
    monkeypatch.setitem(sys.modules, declaring, None)  # importing it now raises ImportError
    broken = build_plugin_manager([declaring], entry_points=False)
    assert [(f.plugin, f.hook) for f in broken.failures] == [(declaring, None)]
    report = await sync_plugin_sources(broken)
    assert report.disabled == []
    source = await Source.find_one(Source.slug == "loopback-press")
    assert source.enabled and source.declared
    # Switched off on purpose (GNEWS_DISABLED_PLUGINS), it does withdraw them.
    off = build_plugin_manager([declaring], entry_points=False, disabled=[declaring])
    assert (await sync_plugin_sources(off)).disabled == [f"{declaring}/loopback-press"]


async def test_cron_enqueues_each_due_source_once(client, settings):
    due = await make_source("http://127.0.0.1:9/a.xml", slug="due")
    await make_source(
        "http://127.0.0.1:9/b.xml", slug="later", next_poll_at=utcnow() + timedelta(hours=1)
    )
    await make_source("http://127.0.0.1:9/c.xml", slug="off", enabled=False)
    from arq.connections import ArqRedis

    redis = ArqRedis.from_url(settings.redis_url)
    try:
        assert await enqueue_due_sources({"redis": redis}) == 1
        assert await enqueue_due_sources({"redis": redis}) == 0  # same job id: not twice
        queued = await Redis.from_url(settings.redis_url).zrange(FEEDS_QUEUE, 0, -1)
        assert [job.decode() for job in queued] == [poll_job_id(str(due.id))]
    finally:
        await redis.aclose()


async def test_gnews_sources_poll_ingests_a_plugin_feed_readable_through_the_api(
    client, settings, feed_server
):
    feed_server.add("/press.xml", fixture_bytes("ega_press_rss.xml"))
    env = {
        **os.environ,
        "GNEWS_MONGODB_URI": settings.mongodb_uri,
        "GNEWS_REDIS_URL": settings.redis_url,
        "GNEWS_MONGODB_DB": settings.mongodb_db,
        "GNEWS_DATA_DIR": str(settings.data_dir),
        "GNEWS_PLUGINS": f"{PLUGINS}.declaring",
        "GNEWS_DISABLED_PLUGINS": "ega,nakhonsawan",  # their real feeds are never reached
        "GNEWS_FEED_ALLOW_PRIVATE_NETWORKS": "true",  # the feed is on loopback
        "GNEWS_TEST_FEED_URL": feed_server.url("/press.xml"),
    }
    assert (await client.get("/api/v1/news")).json()["items"] == []  # cached in Redis
    command = [sys.executable, "-m", "gnews", "sources", "poll", "--all"]
    first = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert first.returncode == 0, first.stdout + first.stderr
    assert "[1/1] loopback-press: 3 new, 0 updated" in first.stdout
    again = subprocess.run(command, env=env, capture_output=True, text=True, timeout=120)
    assert "loopback-press: unchanged" in again.stdout
    unknown = subprocess.run(
        [*command[:-1], "nope"], env=env, capture_output=True, text=True, timeout=120
    )
    assert unknown.returncode == 1 and "unknown source 'nope'" in unknown.stderr
    # The command invalidated the API's cache: the new items show at once.
    news = (await client.get("/api/v1/news")).json()["items"]
    assert [item["published_at"][:10] for item in news] == [
        "2015-08-10",
        "2015-05-19",
        "2014-07-24",
    ]
    assert news[1]["provinces"][0] == "TH-60" and news[0]["provinces"] == ["TH-10"]
    assert all("<script" not in item["content_html"] for item in news)
    nakhon_sawan = await client.get("/api/v1/news", params={"province": "TH-60"})
    assert [item["id"] for item in nakhon_sawan.json()["items"]] == [news[1]["id"]]


async def test_a_real_arq_worker_runs_the_cron_and_poll_jobs(client, settings, feed_server):
    from gnews.core.persistence import init_documents, mongo_client
    from gnews.documents import document_models
    from gnews.jobs import FEEDS_QUEUE
    from workers.settings import ResilientWorker, worker_settings

    feed_server.add("/press.xml", fixture_bytes("ega_press_rss.xml"))
    source = await make_source(feed_server.url("/press.xml"))
    settings = settings.model_copy(
        update={"feed_allow_private_networks": True, "disabled_plugins": ["ega", "nakhonsawan"]}
    )
    worker = ResilientWorker(
        **{**worker_settings(settings, FEEDS_QUEUE), "burst": True, "handle_signals": False}
    )
    try:
        await worker.main()  # the start-up cron enqueues the due source; the poll job runs
    finally:
        await worker.close()
    # The worker bound beanie's (process-wide) documents to its own client, now closed.
    mongo = mongo_client(settings.mongodb_uri)
    await init_documents(mongo, settings.mongodb_db, document_models())
    assert worker.jobs_complete >= 2 and worker.jobs_failed == 0
    assert await NewsItem.find(NewsItem.source_id == str(source.id)).count() == 3
    assert (await Source.get(source.id)).last_success_at is not None
    await mongo.close()

"""Replayed races between a poll and an editor: both changes survive (a poll writes only what
it owns, and never from a stale copy of the record)."""

from __future__ import annotations

import asyncio

from gnews.news.models import ItemStatus, NewsItem
from gnews.plugins import build_plugin_manager
from gnews.sources.models import Source
from tests.support.interleave import PauseBeforeWrite
from tests.workers.feeds.conftest import fixture_bytes
from tests.workers.feeds.test_ingest import make_source
from workers.jobs import ingest
from workers.jobs.ingest import poll


async def test_a_source_disabled_by_an_editor_during_a_poll_stays_disabled(
    client, auth_headers, feed_server, feed_client, monkeypatch
):
    feed_server.add("/press.xml", fixture_bytes("ega_press_rss.xml"))
    source = await make_source(feed_server.url("/press.xml"))
    editor = await auth_headers("editor")
    pause = PauseBeforeWrite(ingest.update_one)
    monkeypatch.setattr(ingest, "update_one", pause)
    # The poll read the source (enabled), stored the items, and is about to record its health …
    polling = asyncio.create_task(
        poll(source, feed_client, build_plugin_manager(entry_points=False))
    )
    await pause.reached()
    # … when an editor disables the source.
    disabled = await client.patch(
        f"/api/v1/sources/{source.id}", headers=editor, json={"enabled": False}
    )
    assert disabled.status_code == 200, disabled.text
    pause.resume()
    outcome = await polling
    assert (outcome.status, outcome.new) == ("ok", 3)
    stored = await Source.get(source.id)
    assert stored is not None and stored.enabled is False  # the editor's change
    assert stored.last_success_at is not None and stored.item_count == 3  # the poll's


async def test_an_editors_withdraw_during_a_re_poll_stays(
    client, auth_headers, feed_server, feed_client, monkeypatch
):
    original = fixture_bytes("ega_press_rss.xml")
    feed_server.add("/press.xml", original)
    source = await make_source(feed_server.url("/press.xml"))
    plugins = build_plugin_manager(entry_points=False)
    await poll(source, feed_client, plugins)
    seminar = await NewsItem.find_one({"key": {"$regex": "local-egov-seminar$"}})
    assert seminar is not None and seminar.status is ItemStatus.PUBLISHED
    changed = original.replace(
        "EGA จัดสัมมนาหน่วยงานภาครัฐ".encode(), "EGA จัดสัมมนาใหญ่หน่วยงานภาครัฐ".encode()
    )
    feed_server.add("/press.xml", changed)
    editor = await auth_headers("editor")
    pause = PauseBeforeWrite(ingest.find_one_and_update)
    monkeypatch.setattr(ingest, "find_one_and_update", pause)
    # The re-poll read the item (published) and is about to write the feed's new title …
    polling = asyncio.create_task(poll(await Source.get(source.id), feed_client, plugins))
    await pause.reached()
    # … when an editor withdraws it.
    withdrawn = await client.post(
        f"/api/v1/editorial/items/{seminar.id}/withdraw",
        headers=editor,
        json={"reason": "ข้อมูลไม่ถูกต้อง"},
    )
    assert withdrawn.status_code == 200, withdrawn.text
    pause.resume()
    outcome = await polling
    assert outcome.updated == 1
    stored = await NewsItem.get(seminar.id)
    assert stored is not None
    assert stored.status is ItemStatus.WITHDRAWN  # the editor's change
    assert stored.title.startswith("EGA จัดสัมมนาใหญ่")  # the feed's


async def test_an_editors_edit_during_a_re_poll_is_kept_over_the_feed(
    client, auth_headers, feed_server, feed_client, monkeypatch
):
    original = fixture_bytes("ega_press_rss.xml")
    feed_server.add("/press.xml", original)
    source = await make_source(feed_server.url("/press.xml"))
    plugins = build_plugin_manager(entry_points=False)
    await poll(source, feed_client, plugins)
    seminar = await NewsItem.find_one({"key": {"$regex": "local-egov-seminar$"}})
    assert seminar is not None
    changed = original.replace(
        "EGA จัดสัมมนาหน่วยงานภาครัฐ".encode(), "EGA จัดสัมมนาใหญ่หน่วยงานภาครัฐ".encode()
    )
    feed_server.add("/press.xml", changed)
    editor = await auth_headers("editor")
    pause = PauseBeforeWrite(ingest.find_one_and_update)
    monkeypatch.setattr(ingest, "find_one_and_update", pause)
    polling = asyncio.create_task(poll(await Source.get(source.id), feed_client, plugins))
    await pause.reached()
    edited = await client.patch(
        f"/api/v1/editorial/items/{seminar.id}", headers=editor, json={"title": "หัวข้อโดยบรรณาธิการ"}
    )
    assert edited.status_code == 200, edited.text
    pause.resume()
    await polling
    stored = await NewsItem.get(seminar.id)
    assert stored is not None and stored.title == "หัวข้อโดยบรรณาธิการ"
    assert "title" in stored.edited_fields

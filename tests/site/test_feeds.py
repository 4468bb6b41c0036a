"""Feeds out: Atom and RSS of provinces, agencies and categories round-trip through feedparser
with titles, absolute links and dates; conditional GET answers 304."""

from __future__ import annotations

from email.utils import formatdate

import feedparser
import pytest

from gnews.core.clock import as_utc
from tests.site.seed import seed_site


@pytest.mark.parametrize("fmt", ["atom", "rss"])
async def test_a_province_feed_round_trips_with_titles_links_and_dates(client, fmt):
    seeded = await seed_site()
    response = await client.get(f"/provinces/TH-60/feed.{fmt}")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith(f"application/{fmt}+xml")
    parsed = feedparser.parse(response.content)
    assert not parsed.bozo, parsed.get("bozo_exception")
    assert parsed.version.startswith(fmt)
    assert "นครสวรรค์" in parsed.feed.title
    origin = str(client.base_url).rstrip("/")
    assert parsed.feed.link == f"{origin}/provinces/TH-60"
    titles = [entry.title for entry in parsed.entries]
    assert titles == [seeded.nakhon_sawan.title, seeded.national.title]  # newest first
    for entry, item in zip(parsed.entries, [seeded.nakhon_sawan, seeded.national], strict=True):
        assert entry.link == f"{origin}/news/{item.id}"
        assert entry.id == f"{origin}/news/{item.id}"
        published = as_utc(item.published_at).timetuple()[:6]
        assert entry.published_parsed[:6] == published
    assert parsed.entries[1].summary == seeded.national.summary


@pytest.mark.parametrize(
    ("path", "expected", "excluded"),
    [
        ("/agencies/dopa/feed.atom", "nakhon_sawan", "national"),
        ("/agencies/ega/feed.rss", "national", "nakhon_sawan"),
        ("/categories/disaster/feed.rss", "nakhon_sawan", "chiang_mai"),
        ("/categories/events/feed.atom", "chiang_mai", "national"),
    ],
)
async def test_agency_and_category_feeds(client, path, expected, excluded):
    seeded = await seed_site()
    parsed = feedparser.parse((await client.get(path)).content)
    assert not parsed.bozo
    titles = {entry.title for entry in parsed.entries}
    assert getattr(seeded, expected).title in titles
    assert getattr(seeded, excluded).title not in titles
    assert seeded.pending.title not in titles


async def test_feeds_answer_conditional_gets(client):
    await seed_site()
    first = await client.get("/provinces/TH-60/feed.atom")
    etag, last_modified = first.headers["etag"], first.headers["last-modified"]
    by_etag = await client.get("/provinces/TH-60/feed.atom", headers={"If-None-Match": etag})
    assert by_etag.status_code == 304 and by_etag.content == b""
    by_date = await client.get(
        "/provinces/TH-60/feed.atom", headers={"If-Modified-Since": last_modified}
    )
    assert by_date.status_code == 304
    earlier = formatdate(0, usegmt=True)
    assert (
        await client.get("/provinces/TH-60/feed.atom", headers={"If-Modified-Since": earlier})
    ).status_code == 200
    # a stale ETag wins over a matching date (RFC 9110: If-None-Match decides alone)
    stale = await client.get(
        "/provinces/TH-60/feed.atom",
        headers={"If-None-Match": '"stale"', "If-Modified-Since": last_modified},
    )
    assert stale.status_code == 200


async def test_unknown_feeds_are_404(client):
    await seed_site()
    for path in ("/provinces/TH-00/feed.rss", "/agencies/nobody/feed.atom"):
        assert (await client.get(path)).status_code == 404, path

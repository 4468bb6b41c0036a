"""The citizen news feed: ``since``, ``featured_first``, ETag / 304, the Redis response cache
and its invalidation, localised names, and a device's own feed."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gnews.agencies.models import Agency
from gnews.dev.emulators.feeds import FeedServer
from gnews.news.models import ItemStatus, NewsItem
from gnews.plugins import build_plugin_manager
from tests.support.api import assert_error
from tests.support.devices import device_auth, register
from tests.support.news import make_source, publish
from workers.feeds.fetch import make_feed_client
from workers.jobs.ingest import poll


async def page_titles(client, path: str = "/api/v1/news", headers=None, **params) -> list[str]:
    response = await client.get(path, params=params, headers=headers or {})
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def all_titles(client, path: str = "/api/v1/news", headers=None, **params) -> list[str]:
    """Every title, following ``next_cursor`` to the end."""
    titles: list[str] = []
    cursor = None
    while True:
        query = params | ({"cursor": cursor} if cursor else {})
        response = await client.get(path, params=query, headers=headers or {})
        assert response.status_code == 200, response.text
        titles += [item["title"] for item in response.json()["items"]]
        cursor = response.json()["next_cursor"]
        if cursor is None:
            return titles


async def test_since_keeps_items_published_at_or_after_it(client):
    source = await make_source()
    items = [await publish(source, f"item-{m}", m) for m in (10, 20, 30)]
    at = items[1].published_at.astimezone(UTC)
    assert await page_titles(client, since=at.isoformat()) == ["item-10", "item-20"]
    bangkok = at.astimezone(timezone_bangkok())
    assert await page_titles(client, since=bangkok.isoformat()) == ["item-10", "item-20"]
    # An unencoded "+" arrives as a space.
    raw = bangkok.isoformat().replace("+", " ")
    response = await client.get(f"/api/v1/news?since={raw}")
    assert [i["title"] for i in response.json()["items"]] == ["item-10", "item-20"]
    assert await page_titles(client, since=at.isoformat().replace("+00:00", "Z")) == [
        "item-10",
        "item-20",
    ]
    for bad in ("yesterday", "2026-13-01T00:00:00Z", "2026-05-01T08:00:00"):
        assert_error(await client.get("/api/v1/news", params={"since": bad}), 422, field="since")


def timezone_bangkok():
    from zoneinfo import ZoneInfo

    return ZoneInfo("Asia/Bangkok")


async def test_featured_first_puts_pinned_then_featured_items_first_once(client):
    source = await make_source()
    now = datetime.now(UTC)
    for minutes in range(1, 8):
        await publish(source, f"plain-{minutes}", minutes)
    await publish(source, "featured-old", 100, featured_until=now + timedelta(days=1))
    await publish(source, "pinned-old", 90, pinned_until=now + timedelta(days=1))
    await publish(source, "featured-new", 3.5, featured_until=now + timedelta(hours=1))
    await publish(source, "expired", 2.5, featured_until=now - timedelta(minutes=1))
    await publish(source, "elsewhere", 50, provinces=["TH-10"], pinned_until=now + timedelta(1))

    first = (
        await client.get(
            "/api/v1/news", params={"featured_first": "true", "limit": 3, "province": "TH-60"}
        )
    ).json()
    titles = [i["title"] for i in first["items"]]
    # Highlights count toward the limit: here they fill the first page.
    assert titles == ["pinned-old", "featured-new", "featured-old"]
    assert [i["pinned"] for i in first["items"][:3]] == [True, False, False]
    assert [i["featured"] for i in first["items"][:3]] == [False, True, True]
    rest = await all_titles(client, province="TH-60", limit=3, cursor=first["next_cursor"])
    seen = titles + rest
    assert len(seen) == len(set(seen)) == 11
    assert rest == [
        "plain-1",
        "plain-2",
        "expired",
        "plain-3",
        "plain-4",
        "plain-5",
        "plain-6",
        "plain-7",
    ]
    # Without the flag the same items come in plain time order.
    plain = await all_titles(client, province="TH-60", limit=4)
    assert plain[:5] == ["plain-1", "plain-2", "expired", "plain-3", "featured-new"]
    assert len(plain) == 11
    # Nothing highlighted: the flag changes nothing.
    assert await page_titles(client, featured_first="true", agency="nobody") == []
    assert_error(
        await client.get("/api/v1/news", params={"featured_first": "maybe"}),
        422,
        field="featured_first",
    )


async def test_pages_neither_repeat_nor_skip_while_items_arrive(client):
    source = await make_source()
    for index in range(40):
        await publish(source, f"old-{index:02d}", 10 + index // 2)  # pairs share a time
    expected = {f"old-{index:02d}" for index in range(40)}

    async def arrive(count: int) -> None:
        for index in range(count):
            await publish(source, f"new-{index:02d}", 0)  # newer than anything read
            await asyncio.sleep(0)

    arrivals = asyncio.create_task(arrive(30))  # concurrently with the reads below
    seen: list[str] = []
    cursor = None
    pages = 0
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/news", params=params)).json()
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        pages += 1
        # Between pages: a late item dated among those not read yet (it must show up), and
        # one dated exactly at the cursor (before it in the order: it must not).
        last_read = await NewsItem.get(page["items"][-1]["id"])
        minutes = (datetime.now(UTC) - last_read.published_at).total_seconds() / 60
        late = await publish(source, f"late-{pages:02d}", minutes + 0.25)
        expected.add(late.title)
        await publish(source, f"same-{pages:02d}", 0, published_at=last_read.published_at)
    await arrivals
    assert len(seen) == len(set(seen))
    assert expected <= set(seen)
    assert not any(title.startswith("same-") for title in seen)


async def test_etag_and_cache_control_on_list_and_item(client):
    source = await make_source()
    item = await publish(source, "one")
    for path, max_age in (("/api/v1/news", 30), (f"/api/v1/news/{item.id}", 60)):
        first = await client.get(path)
        assert first.status_code == 200
        etag = first.headers["etag"]
        assert first.headers["cache-control"] == f"max-age={max_age}, public, must-revalidate"
        assert first.headers["vary"] == "Accept-Language"
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert again.headers["etag"] == etag
        other = await client.get(path, headers={"If-None-Match": '"stale"'})
        assert other.status_code == 200 and other.headers["etag"] == etag


async def test_responses_come_from_redis_until_an_editorial_change(client, auth_headers):
    editor = await auth_headers("editor")
    source = await make_source()
    shown = await publish(source, "shown", 5)
    pending = await publish(source, "pending", 1, status=ItemStatus.PENDING)

    async def titles() -> list[str]:
        return await page_titles(client, province="TH-60")

    assert await titles() == ["shown"]
    # Written behind the API's back: the cached page does not see it...
    sneaked = await publish(source, "sneaked", 3)
    assert await titles() == ["shown"]
    # ...until an editorial change to a public item invalidates the cache.
    base = "/api/v1/editorial/items"
    response = await client.post(f"{base}/{pending.id}/approve", headers=editor)
    assert response.status_code == 200
    assert await titles() == ["pending", "sneaked", "shown"]

    changes = [
        ("patch", f"{base}/{shown.id}", {"title": "shown, edited"}),
        ("post", f"{base}/{sneaked.id}/feature", {"until": _soon()}),
        ("post", f"{base}/{sneaked.id}/pin", {"until": _soon()}),
        ("post", f"{base}/{sneaked.id}/breaking", None),
        ("delete", f"{base}/{sneaked.id}/breaking", None),
        ("post", f"{base}/{pending.id}/withdraw", {"reason": "duplicate"}),
        ("post", f"{base}/{shown.id}/reject", {"reason": "not news"}),
    ]
    expected = [
        ["pending", "sneaked", "shown, edited"],
        ["pending", "sneaked", "shown, edited"],
        ["pending", "sneaked", "shown, edited"],
        ["pending", "sneaked", "shown, edited"],
        ["pending", "sneaked", "shown, edited"],
        ["sneaked", "shown, edited"],
        ["sneaked"],
    ]
    for (method, path, body), titles_after in zip(changes, expected, strict=True):
        before = (await client.get("/api/v1/news", params={"province": "TH-60"})).content
        response = await client.request(method, path, json=body, headers=editor)
        assert response.status_code == 200, response.text
        after = await client.get("/api/v1/news", params={"province": "TH-60"})
        assert [i["title"] for i in after.json()["items"]] == titles_after
        assert after.content != before, path  # flags or titles changed: not the cached page
    # A single item is cached and invalidated the same way.
    item_path = f"/api/v1/news/{sneaked.id}"
    assert (await client.get(item_path)).json()["breaking"] is False
    await client.post(f"{base}/{sneaked.id}/withdraw", json={"reason": "x"}, headers=editor)
    assert_error(await client.get(item_path), 404)


def _soon() -> str:
    return (datetime.now(UTC) + timedelta(days=1)).isoformat()


async def test_ingesting_a_trusted_feed_invalidates_the_cache(client, settings):
    from redis.asyncio import Redis

    await Agency(code="dopa", name_th="กรมการปกครอง", name_en="DOPA").insert()
    source = await make_source()
    source.trusted = True
    await source.save()
    assert await page_titles(client) == []
    rss = (
        '<?xml version="1.0" encoding="UTF-8"?><rss version="2.0"><channel><title>t</title>'
        "<item><title>ข่าวใหม่</title><link>https://dopa.example/1</link>"
        "<guid>https://dopa.example/1</guid>"
        "<pubDate>Mon, 01 Jun 2026 08:00:00 +0700</pubDate></item></channel></rss>"
    ).encode()
    redis = Redis.from_url(settings.redis_url)
    try:
        with FeedServer() as server:
            server.add("/feed.xml", rss)
            source.feed_url = server.url("/feed.xml")
            await source.save()
            async with make_feed_client(allow_private_networks=True) as http:
                outcome = await poll(source, http, build_plugin_manager(entry_points=False))
                assert outcome.new == 1 and outcome.published == 1
                assert await page_titles(client) == []  # no Redis given: still cached
                await NewsItem.find_all().delete()
                await client.get("/api/v1/news")  # cache the empty list again
                fresh = await type(source).get(source.id)
                fresh.body_hash = None
                await fresh.save()
                outcome = await poll(
                    fresh, http, build_plugin_manager(entry_points=False), redis=redis
                )
                assert outcome.published == 1
        assert await page_titles(client) == ["ข่าวใหม่"]
    finally:
        await redis.aclose()


async def test_names_are_localised_by_lang_or_accept_language(client):
    await Agency(
        code="dopa", name_th="กรมการปกครอง", name_en="Department of Provincial Administration"
    ).insert()
    source = await make_source()
    await publish(source, "ข่าว", 2, provinces=["TH-60"], categories=["สุขภาพ", "ทั่วไป"])
    await publish(source, "news", 1, language="en", categories=["health"])
    thai = (await client.get("/api/v1/news")).json()
    assert thai["lang"] == "th"
    assert thai["names"] == {
        "provinces": {"TH-60": "นครสวรรค์"},
        "agencies": {"dopa": "กรมการปกครอง"},
        "categories": {"สุขภาพ": "สุขภาพ", "health": "สุขภาพ"},
    }
    english = await client.get("/api/v1/news", headers={"Accept-Language": "en-GB,en;q=0.9"})
    assert english.json()["lang"] == "en"
    assert english.json()["names"] == {
        "provinces": {"TH-60": "Nakhon Sawan"},
        "agencies": {"dopa": "Department of Provincial Administration"},
        "categories": {"สุขภาพ": "Health", "health": "Health"},
    }
    assert english.headers["etag"] != (await client.get("/api/v1/news")).headers["etag"]
    assert len(english.json()["items"]) == 2  # Accept-Language does not filter
    # lang filters by the items' language and names in it; it wins over Accept-Language.
    response = await client.get(
        "/api/v1/news", params={"lang": "en"}, headers={"Accept-Language": "th"}
    )
    assert response.json()["lang"] == "en"
    assert [i["title"] for i in response.json()["items"]] == ["news"]
    for header in ("fr, de;q=0.5", "en;q=0, th;q=0.1", "", "*"):
        response = await client.get("/api/v1/news", headers={"Accept-Language": header})
        assert response.json()["lang"] == "th", header


async def test_categories_are_listed_and_a_code_matches_its_names(client):
    categories = (await client.get("/api/v1/news/categories")).json()
    health = next(c for c in categories if c["code"] == "health")
    assert health == {"code": "health", "name_th": "สุขภาพ", "name_en": "Health"}
    source = await make_source()
    await publish(source, "thai label", 1, categories=["สุขภาพ"])
    await publish(source, "code", 2, categories=["health"])
    await publish(source, "other", 3, categories=["ทั่วไป"])
    assert await page_titles(client, category="health") == ["thai label", "code"]
    assert await page_titles(client, category="ทั่วไป") == ["other"]


async def test_a_device_feed_follows_its_subscriptions(client):
    await Agency(
        code="moph", name_th="กระทรวงสาธารณสุข", name_en="Ministry of Public Health"
    ).insert()
    dopa, moph = await make_source(), await make_source("moph-news", "moph")
    await publish(dopa, "nakhon sawan", 1, provinces=["TH-60"])
    await publish(dopa, "national", 2)
    await publish(dopa, "bangkok", 3, provinces=["TH-10"])
    await publish(moph, "moph national", 4)
    await publish(dopa, "weather national", 5, categories=["สภาพอากาศ"])
    await publish(moph, "moph bangkok", 6, provinces=["TH-10"])

    everything = await register(client)
    path = f"/api/v1/devices/{everything['id']}/feed"
    auth = device_auth(everything["secret"])
    assert len(await all_titles(client, path, auth, limit=2)) == 6

    follower = await register(client, push_token="e" * 160, provinces=["TH-60"], language="en")
    path = f"/api/v1/devices/{follower['id']}/feed"
    auth = device_auth(follower["secret"])
    assert await all_titles(client, path, auth, limit=2) == [
        "nakhon sawan",
        "national",
        "moph national",
        "weather national",
    ]
    response = await client.get(path, headers=auth)
    assert response.json()["lang"] == "en"
    assert response.json()["names"]["provinces"] == {"TH-60": "Nakhon Sawan"}
    assert response.headers["cache-control"] == "max-age=0, private, must-revalidate"
    again = await client.get(path, headers=auth | {"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304
    # Interests: its categories or its agencies; query filters narrow further.
    await client.patch(
        f"/api/v1/devices/{follower['id']}",
        json={"categories": ["weather"], "agencies": ["moph"]},
        headers=auth,
    )
    assert await page_titles(client, path, auth) == ["moph national", "weather national"]
    assert await page_titles(client, path, auth, agency="moph") == ["moph national"]
    headers = auth | {"Accept-Language": "th"}
    assert (await client.get(path, headers=headers)).json()["lang"] == "th"


async def test_a_phone_follows_nakhon_sawan_end_to_end(client):
    """The issue's "done when": register, follow TH-60, page the feed with ETags, search in
    Thai, and only ever see and change one's own device."""
    from gnews.thai.text import index_terms

    source = await make_source()
    text = "สำนักงานประกันสังคมจังหวัดนครสวรรค์แจ้งสิทธิผู้ประกันตน"
    await publish(source, text, 30, provinces=["TH-60"], search_terms=index_terms(text))
    for minutes in range(1, 6):
        await publish(source, f"ข่าวนครสวรรค์ {minutes}", minutes, provinces=["TH-60"])
    await publish(source, "ข่าวเชียงใหม่", 2, provinces=["TH-50"])

    phone = await register(client, provinces=["TH-60"])
    other = await register(client, push_token="o" * 160)
    auth = device_auth(phone["secret"])
    feed_path = f"/api/v1/devices/{phone['id']}/feed"
    first = await client.get(feed_path, params={"limit": 4}, headers=auth)
    assert first.status_code == 200
    titles = [i["title"] for i in first.json()["items"]]
    not_modified = await client.get(
        feed_path, params={"limit": 4}, headers=auth | {"If-None-Match": first.headers["etag"]}
    )
    assert not_modified.status_code == 304
    second = await client.get(
        feed_path, params={"limit": 4, "cursor": first.json()["next_cursor"]}, headers=auth
    )
    titles += [i["title"] for i in second.json()["items"]]
    assert second.json()["next_cursor"] is None
    assert titles == [f"ข่าวนครสวรรค์ {m}" for m in range(1, 6)] + [text]

    found = await client.get("/api/v1/news", params={"q": "ประกันสังคม", "province": "TH-60"})
    assert [i["title"] for i in found.json()["items"]] == [text]
    mine = await client.get(feed_path, params={"q": "ประกันสังคม"}, headers=auth)
    assert [i["title"] for i in mine.json()["items"]] == [text]

    other_path = f"/api/v1/devices/{other['id']}"
    assert_error(await client.get(other_path, headers=auth), 404)
    assert_error(await client.patch(other_path, json={"provinces": []}, headers=auth), 404)
    assert_error(await client.get(f"{other_path}/feed", headers=auth), 404)


async def test_featured_first_pages_never_exceed_the_limit(client, auth_headers):
    from datetime import timedelta

    from gnews.core.clock import utcnow
    from gnews.news.models import ItemStatus, NewsItem

    now = utcnow()
    for n in range(6):
        await NewsItem(
            source_id="s",
            source_slug="s",
            agency="ega",
            key=f"k{n}",
            title=f"ข่าว {n}",
            published_at=now - timedelta(minutes=n),
            content_hash=str(n),
            status=ItemStatus.PUBLISHED,
            featured_until=now + timedelta(days=1) if n in (3, 4, 5) else None,
        ).insert()
    seen, cursor = [], None
    while True:
        params = {"limit": 2, "featured_first": "true"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/news", params=params)).json()
        assert len(page["items"]) <= 2
        seen += [item["title"] for item in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    # The two newest highlights fill page 1; the third appears in its place in time.
    assert seen == ["ข่าว 3", "ข่าว 4", "ข่าว 0", "ข่าว 1", "ข่าว 2", "ข่าว 5"]

"""``/api/v1/news``: published news for everyone, newest first, by province."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from tests.support.api import assert_error
from tests.support.news import make_source, publish


async def titles(client, **params) -> list[str]:
    response = await client.get("/api/v1/news", params=params)
    assert response.status_code == 200, response.text
    return [item["title"] for item in response.json()["items"]]


async def test_only_published_news_newest_first(client):
    source = await make_source()
    await publish(source, "older", 120)
    await publish(source, "newest", 1)
    await publish(source, "middle", 30)
    for status in ("pending", "rejected", "withdrawn"):
        hidden = await publish(source, status, 0, status=status)
        assert_error(await client.get(f"/api/v1/news/{hidden.id}"), 404)
    assert await titles(client) == ["newest", "middle", "older"]


async def test_one_item_as_citizens_see_it(client):
    source = await make_source()
    item = await publish(
        source,
        "ข่าวเชียงใหม่",
        summary="สรุป",
        content_html="<p>เนื้อหา</p>",
        link="https://dopa.example/1",
        image_url="https://dopa.example/1.jpg",
        author="PR",
        categories=["ประชาสัมพันธ์"],
        provinces=["TH-50"],
        featured_until=datetime.now(UTC) + timedelta(days=1),
        pinned_until=datetime.now(UTC) - timedelta(minutes=1),  # over
        breaking=True,
        search_terms=["ข่าว"],
    )
    response = await client.get(f"/api/v1/news/{item.id}")
    assert response.status_code == 200, response.text
    body = response.json()
    published_at = body.pop("published_at")
    assert datetime.fromisoformat(published_at.replace("Z", "+00:00")) == item.published_at
    assert body == {
        "id": str(item.id),
        "title": "ข่าวเชียงใหม่",
        "summary": "สรุป",
        "content_html": "<p>เนื้อหา</p>",
        "link": "https://dopa.example/1",
        "image_url": "https://dopa.example/1.jpg",
        "image_local_url": None,  # not cached (yet)
        "author": "PR",
        "agency": "dopa",
        "source": "dopa-news",
        "language": "th",
        "categories": ["ประชาสัมพันธ์"],
        "provinces": ["TH-50"],
        "featured": True,
        "pinned": False,
        "breaking": True,
    }
    listed = (await client.get("/api/v1/news")).json()["items"]
    assert listed == [{**body, "published_at": published_at}]
    for item_id in ("nope", "0123456789abcdef01234567"):
        assert_error(await client.get(f"/api/v1/news/{item_id}"), 404)


async def test_province_filter_includes_national_news(client):
    source = await make_source()
    await publish(source, "chiang mai", 1, provinces=["TH-50"])
    await publish(source, "national", 2)
    await publish(source, "bangkok", 3, provinces=["TH-10"])
    await publish(source, "both", 4, provinces=["TH-10", "TH-50"])
    assert await titles(client, province="TH-50") == ["chiang mai", "national", "both"]
    assert await titles(client, province=" th-10 ") == ["national", "bangkok", "both"]
    assert await titles(client, province="TH-83") == ["national"]
    assert await titles(client) == ["chiang mai", "national", "bangkok", "both"]
    for bad in ("TH-99", "Chiang Mai", "TH-S"):
        assert_error(
            await client.get("/api/v1/news", params={"province": bad}), 422, field="province"
        )


async def test_agency_category_and_language_filters(client):
    dopa, moph = await make_source(), await make_source("moph-news", "moph")
    await publish(dopa, "dopa th", 1, categories=["ประกาศ"])
    await publish(moph, "moph en", 2, language="en", categories=["health", "ประกาศ"])
    await publish(moph, "moph th", 3)
    assert await titles(client, agency="moph") == ["moph en", "moph th"]
    assert await titles(client, category="ประกาศ") == ["dopa th", "moph en"]
    assert await titles(client, category="health", agency="dopa") == []
    assert await titles(client, lang="en") == ["moph en"]
    assert await titles(client, lang="th", agency="moph") == ["moph th"]
    assert_error(await client.get("/api/v1/news", params={"lang": "fr"}), 422, field="lang")


async def test_keyset_pages_neither_repeat_nor_skip_under_inserts(client):
    source = await make_source()
    # Two items share a publication time across a page boundary.
    for index, minutes in enumerate((10, 20, 30, 30, 40, 50)):
        await publish(source, f"old-{index}", minutes, provinces=["TH-50"] if index % 2 else [])

    first = (await client.get("/api/v1/news", params={"limit": 3})).json()
    # Equal times are ordered by id, newest first.
    assert [i["title"] for i in first["items"]] == ["old-0", "old-1", "old-3"]
    assert first["next_cursor"]

    # News arrives while the reader is on page 1: newer items, and one published at the very
    # time of the last item read (sorted before it, since it has a larger id).
    await publish(source, "new-1", 0)
    await publish(source, "new-2", 5)
    await publish(source, "same-time", 30)

    seen = [i["title"] for i in first["items"]]
    cursor = first["next_cursor"]
    while cursor:
        page = (await client.get("/api/v1/news", params={"limit": 3, "cursor": cursor})).json()
        seen += [i["title"] for i in page["items"]]
        cursor = page["next_cursor"]
    assert seen == ["old-0", "old-1", "old-3", "old-2", "old-4", "old-5"]

    # The province filter pages the same way.
    seen, cursor = [], None
    while True:
        params = {"limit": 1, "province": "TH-50"} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/news", params=params)).json()
        seen += [i["title"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert len(seen) == len(set(seen)) == 9


async def test_bad_cursor_and_limit_name_the_field(client):
    for cursor in ("garbage!", "WyJ4Il0", "W10"):  # not base64 JSON; ["x"]; []
        assert_error(
            await client.get("/api/v1/news", params={"cursor": cursor}), 422, field="cursor"
        )
    assert_error(await client.get("/api/v1/news", params={"limit": 101}), 422, field="limit")

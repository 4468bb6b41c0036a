"""The public GAC catalogue: filters, Thai search, keyset pages, categories, ETag and the Redis
cache with its invalidation."""

from __future__ import annotations

from datetime import timedelta

from appcenter.models import AppListing, ListingStatus
from gnews.core.persistence import update_one
from tests.support.api import assert_error
from tests.support.gac import LISTINGS, NOW, create, make_agency, make_published


async def slugs(client, path: str = "/api/v1/apps", **params) -> list[str]:
    response = await client.get(path, params=params)
    assert response.status_code == 200, response.text
    return [app["slug"] for app in response.json()["items"]]


async def test_only_published_apps_newest_first(client):
    await make_published("older", minutes_ago=30)
    await make_published("newest", minutes_ago=1)
    for status in ("draft", "in_review", "rejected", "delisted"):
        await make_published(f"not-{status.replace('_', '-')}", status=ListingStatus(status))
    assert await slugs(client) == ["newest", "older"]
    assert (await client.get("/api/v1/apps/older")).json()["slug"] == "older"
    for slug in ("not-draft", "not-in-review", "not-rejected", "not-delisted", "missing"):
        assert_error(await client.get(f"/api/v1/apps/{slug}"), 404)


async def test_filters(client):
    await make_published("health-bkk", categories=["health"], provinces=["TH-10"], agency="moph")
    await make_published(
        "android-only",
        categories=["finance"],
        web_url=None,
        android_package="th.go.rd.efiling",
        provinces=["TH-60"],
    )
    await make_published(
        "ios-national",
        categories=["finance", "health"],
        web_url=None,
        app_store_url="https://apps.apple.com/th/app/x/id1",
    )
    assert await slugs(client, category="health") == ["ios-national", "health-bkk"]
    assert await slugs(client, category="finance", platform="android") == ["android-only"]
    assert await slugs(client, platform="ios") == ["ios-national"]
    assert await slugs(client, platform="web") == ["health-bkk"]
    assert await slugs(client, agency="moph") == ["health-bkk"]
    # A province's apps plus the national ones.
    assert set(await slugs(client, province="th-60")) == {"android-only", "ios-national"}
    assert set(await slugs(client, province="TH-10")) == {"health-bkk", "ios-national"}
    # Filters combine.
    assert await slugs(client, province="TH-10", category="health", agency="dopa") == [
        "ios-national"
    ]
    for name, value in (
        ("province", "TH-99"),
        ("category", "games"),
        ("platform", "symbian"),
        ("limit", "0"),
        ("cursor", "nope"),
        ("q", "ก" * 201),
        ("featured", "perhaps"),
    ):
        assert_error(await client.get("/api/v1/apps", params={name: value}), 422, field=name)


async def test_featured_filter_follows_the_expiry(client):
    await make_published("featured", featured_until=NOW + timedelta(days=1))
    await make_published("expired", featured_until=NOW - timedelta(minutes=1))
    await make_published("plain")
    assert await slugs(client, featured="true") == ["featured"]
    assert set(await slugs(client, featured="false")) == {"expired", "plain"}
    flags = {a["slug"]: a["featured"] for a in (await client.get("/api/v1/apps")).json()["items"]}
    assert flags == {"featured": True, "expired": False, "plain": False}


async def test_thai_search(client):
    await make_published(
        "tang-rat",
        name_th="ทางรัฐ",
        name_en="Tang Rat",
        description_th="แอปพลิเคชันรวมบริการภาครัฐ ตรวจสอบสิทธิสวัสดิการและประกันสังคม",
        tags=["บริการประชาชน"],
    )
    await make_published(
        "sso-connect",
        name_th="SSO Connect",
        description_th="ตรวจสอบสิทธิประกันสังคมของผู้ประกันตน",
        minutes_ago=10,
    )
    await make_published("weather", name_th="พยากรณ์อากาศ", description_th="สภาพอากาศรายวัน")
    assert await slugs(client, q="ประกันสังคม") == ["sso-connect", "tang-rat"]
    assert await slugs(client, q="สิทธิสวัสดิการ") == ["tang-rat"]
    assert await slugs(client, q="ทางรัฐ") == ["tang-rat"]
    assert await slugs(client, q="บริการประชาชน") == ["tang-rat"]  # a tag
    assert await slugs(client, q="tang RAT") == ["tang-rat"]
    assert await slugs(client, q="อากาศ") == ["weather"]
    assert await slugs(client, q="ประกันสังคม อากาศ") == []  # every term must match
    assert await slugs(client, q="ประกันสังคม", category="finance") == []
    assert len(await slugs(client, q="?!")) == 3  # no search terms: no filter


async def test_keyset_pages_neither_repeat_nor_skip(client):
    for i in range(7):
        await make_published(f"app-{i}", minutes_ago=100 - i)
    # Two apps published at the same moment are ordered by id.
    await make_published("tie-a", minutes_ago=50)
    await make_published("tie-b", minutes_ago=50)
    seen, cursor = [], None
    while True:
        params = {"limit": 3} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/apps", params=params)).json()
        seen += [app["slug"] for app in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        if len(seen) == 3:  # published between two pages: on the first page, not repeated
            await make_published("late", minutes_ago=0)
    assert seen == ["tie-b", "tie-a", *(f"app-{i}" for i in range(6, -1, -1))]


async def test_categories_with_counts(client):
    await make_published("a", categories=["health", "finance"])
    await make_published("b", categories=["health"])
    await make_published("c", categories=["health"], status=ListingStatus.DRAFT)
    response = await client.get("/api/v1/apps/categories")
    assert response.status_code == 200  # not taken for the slug "categories"
    counts = {c["code"]: c["count"] for c in response.json()}
    assert counts["health"] == 2 and counts["finance"] == 1 and counts["education"] == 0
    health = next(c for c in response.json() if c["code"] == "health")
    assert health == {"code": "health", "name_th": "สุขภาพ", "name_en": "Health", "count": 2}


async def test_an_agencys_apps(client):
    await make_published("dopa-app", agency="dopa")
    await make_published("moph-app", agency="moph")
    await make_published("moph-draft", agency="moph", status=ListingStatus.DRAFT)
    assert await slugs(client, "/api/v1/agencies/moph/apps") == ["moph-app"]
    assert_error(await client.get("/api/v1/agencies/nowhere/apps"), 404)
    await make_agency("empty")
    assert await slugs(client, "/api/v1/agencies/empty/apps") == []


async def test_etag_gives_304(client):
    await make_published("tang-rat")
    for path in ("/api/v1/apps", "/api/v1/apps/tang-rat", "/api/v1/apps/categories"):
        first = await client.get(path)
        etag = first.headers["etag"]
        assert etag and "max-age" in first.headers["cache-control"]
        again = await client.get(path, headers={"If-None-Match": etag})
        assert again.status_code == 304 and again.content == b""
        assert (await client.get(path, headers={"If-None-Match": '"other"'})).status_code == 200


async def test_answers_are_cached_until_a_change_invalidates_them(client, auth_headers):
    listing = await make_published("tang-rat", name_th="ทางรัฐ")
    first = (await client.get("/api/v1/apps/tang-rat")).json()
    listed = (await client.get("/api/v1/apps")).json()
    # Changed behind the API's back: the cached answers are still served.
    await update_one(AppListing, {"_id": listing.id}, set={"name_th": "เปลี่ยนแล้ว"})
    assert (await client.get("/api/v1/apps/tang-rat")).json() == first
    assert (await client.get("/api/v1/apps")).json() == listed
    # An editor's action through the API invalidates them all.
    editor = await auth_headers("editor")
    until = (NOW + timedelta(days=2)).isoformat()
    featured = await client.post(
        f"{LISTINGS}/{listing.id}/feature", headers=editor, json={"until": until}
    )
    assert featured.status_code == 200
    fresh = (await client.get("/api/v1/apps/tang-rat")).json()
    assert fresh["name_th"] == "เปลี่ยนแล้ว" and fresh["featured"] is True
    assert (await client.get("/api/v1/apps")).json()["items"][0]["featured"] is True
    # Delisting removes it at once.
    await client.post(f"{LISTINGS}/{listing.id}/delist", headers=editor, json={"reason": "x"})
    assert_error(await client.get("/api/v1/apps/tang-rat"), 404)
    assert await slugs(client) == []


async def test_publishing_invalidates_and_drafts_do_not(client, auth_headers, settings):
    from redis.asyncio import Redis

    from appcenter.service import CACHE_NAMESPACE
    from gnews.core.http_cache import VERSION_KEY

    redis = Redis.from_url(settings.redis_url)
    version_key = VERSION_KEY.format(namespace=CACHE_NAMESPACE)

    async def version() -> int:
        return int(await redis.get(version_key) or 0)

    await make_agency("dopa")
    developer = await auth_headers("developer")
    editor = await auth_headers("editor")
    assert await slugs(client) == []
    listing = await create(client, developer)
    path = f"{LISTINGS}/{listing['id']}"
    await client.post(f"{path}/submit", headers=developer)
    assert await version() == 0  # nothing public changed
    await client.post(f"{path}/approve", headers=editor)
    assert await version() == 1
    assert await slugs(client) == ["phuket-pass"]
    await client.patch(path, headers=developer, json={"version": "9.9"})
    assert await version() == 2
    assert (await client.get("/api/v1/apps/phuket-pass")).json()["version"] == "9.9"
    await redis.aclose()
    stored = await AppListing.find_one({"slug": "phuket-pass"})
    assert stored.status is ListingStatus.PUBLISHED

"""GET /media/{sha256} (headers, 304, 404) and the pages that show cached images: the item page,
the kiosk, the catalogue and the console's queue preview point at /media/… and never at the
agency's host, also when the image is not cached yet."""

from __future__ import annotations

import hashlib
import re

from redis.asyncio import Redis

from appcenter.models import AppListing
from gnews.core.http_cache import invalidate
from gnews.core.persistence import update_one
from gnews.media.service import CachedImage, store_image
from gnews.news.models import NewsItem
from gnews.news.service import CACHE_NAMESPACE
from tests.media.images import image_bytes
from tests.site.seed import seed_site
from tests.support.console import console_sign_in
from tests.support.editorial import listing_in_review, pending_item
from tests.support.news import make_source

PNG = image_bytes("PNG")
GIF = image_bytes("GIF", color="yellow")
AGENCY = "https://www.ega.or.th"


def agency_images(html: str) -> list[str]:
    """What the page would load (or share as its image) from the agency's host; a link to the
    original article is followed, not loaded."""
    return re.findall(r'(?:src|content|srcset)="(https?://www\.ega\.or\.th[^"]*)"', html)


async def cache(item: NewsItem, *pairs: tuple[str, bytes]) -> None:
    """Store the images and link them to the item, as the job does."""
    linked = []
    for url, data in pairs:
        media = await store_image(data, url)
        linked.append(CachedImage(url=url, media_id=media.id))
    await update_one(NewsItem, {"_id": item.id}, set={"cached_images": linked})


async def test_media_is_served_immutable_with_its_hash_as_etag_and_304(client):
    media = await store_image(GIF, f"{AGENCY}/a.gif")
    assert media.id == hashlib.sha256(GIF).hexdigest()
    response = await client.get(f"/media/{media.id}")
    assert response.status_code == 200 and response.content == GIF
    assert response.headers["content-type"] == "image/gif"
    assert response.headers["cache-control"] == "public, max-age=31536000, immutable"
    assert response.headers["etag"] == f'"{media.id}"'
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["content-security-policy"] == "default-src 'none'"
    for validator in (f'"{media.id}"', f'W/"{media.id}"', f'"other", "{media.id}"', "*"):
        again = await client.get(f"/media/{media.id}", headers={"If-None-Match": validator})
        assert again.status_code == 304 and again.content == b"", validator
        assert again.headers["etag"] == f'"{media.id}"'
    other = await client.get(f"/media/{media.id}", headers={"If-None-Match": '"nope"'})
    assert other.status_code == 200


async def test_unknown_and_malformed_media_ids_are_404(client):
    for media_id in ("0" * 64, "not-a-hash", "A" * 64, "0" * 63, "..%2F..%2Fetc"):
        response = await client.get(f"/media/{media_id}")
        assert response.status_code == 404, (media_id, response.text)


async def test_the_media_route_is_not_in_the_openapi_document(client):
    paths = (await client.get("/schema/openapi.json")).json()["paths"]
    assert not [path for path in paths if path.startswith("/media")]


async def test_item_page_and_kiosk_show_our_copy_and_never_the_agency_host(client, settings):
    seeded = await seed_site()
    item = seeded.national  # image_url on www.ega.or.th
    inline = f"{AGENCY}/news/inline.png"
    missing = f"{AGENCY}/news/not-cached.png"
    await NewsItem.get_pymongo_collection().update_one(
        {"_id": item.id},
        {
            "$set": {
                "content_html": f'<p>ก่อน<img src="{inline}" alt="ภาพ"> '
                f'<img src="{missing}" alt="ไม่มี">หลัง</p>'
            }
        },
    )
    # not cached yet: no image, no agency URL
    before = (await client.get(f"/news/{item.id}")).text
    assert agency_images(before) == []
    assert "<img" not in before.split("<main")[1]
    await cache(item, (item.image_url, PNG), (inline, GIF))
    await invalidate_pages(settings)
    page = (await client.get(f"/news/{item.id}")).text
    png_id, gif_id = hashlib.sha256(PNG).hexdigest(), hashlib.sha256(GIF).hexdigest()
    assert f'<img class="lead" src="/media/{png_id}"' in page
    assert f'<img src="/media/{gif_id}" alt="ภาพ">' in page
    assert 'alt="ไม่มี"' not in page  # the <img> not cached is dropped
    assert agency_images(page) == []
    origin = str(client.base_url).rstrip("/")
    assert f'<meta property="og:image" content="{origin}/media/{png_id}">' in page
    home = (await client.get("/")).text
    assert f'src="/media/{png_id}"' in home and agency_images(home) == []
    kiosk = (await client.get("/provinces/TH-60", params={"kiosk": "1"})).text
    assert f'<img src="/media/{png_id}"' in kiosk and agency_images(kiosk) == []


async def test_api_news_keeps_the_agency_url_and_adds_the_local_one(client, settings):
    seeded = await seed_site()
    item = seeded.national
    listed = (await client.get("/api/v1/news")).json()["items"]
    assert {i["id"]: i["image_local_url"] for i in listed}[str(item.id)] is None
    await cache(item, (item.image_url, PNG))
    await invalidate_pages(settings)
    origin = str(client.base_url).rstrip("/")
    one = (await client.get(f"/api/v1/news/{item.id}")).json()
    assert one["image_url"] == item.image_url
    assert one["image_local_url"] == f"{origin}/media/{hashlib.sha256(PNG).hexdigest()}"


async def test_console_queue_preview_shows_our_copy_or_no_image(client, make_user):
    editor = await make_user("editor")
    source = await make_source()
    item = await pending_item(
        source,
        "น้ำท่วมนครสวรรค์",
        content_html='<p>ระดับน้ำ<img src="https://www.prd.go.th/body.png" alt="ระดับ"></p>',
    )
    await console_sign_in(client, editor)
    before = (await client.get("/console/queue", params={"item": str(item.id)})).text
    assert "www.prd.go.th" not in before and not re.search(r"<img[^>]*ระดับ", before)
    await cache(item, (item.image_url, PNG), ("https://www.prd.go.th/body.png", GIF))
    after = (await client.get("/console/queue", params={"item": str(item.id)})).text
    assert f'src="/media/{hashlib.sha256(PNG).hexdigest()}"' in after
    assert f'<img src="/media/{hashlib.sha256(GIF).hexdigest()}" alt="ระดับ">' in after
    assert "www.prd.go.th/flood.jpg" not in after and "www.prd.go.th/body.png" not in after


async def invalidate_pages(settings) -> None:
    """The job invalidates the public cache when it links images; do as it does."""
    redis = Redis.from_url(settings.redis_url)
    try:
        await invalidate(redis, CACHE_NAMESPACE)
    finally:
        await redis.aclose()


async def test_gac_review_shows_cached_icons_and_screenshots(client, make_user, settings):
    editor = await make_user("editor")
    developer = await make_user("developer")
    listing = await listing_in_review(developer)
    icon = await store_image(PNG, "https://cdn.example.go.th/icon.png")
    shot = await store_image(GIF, "https://cdn.example.go.th/1.png")
    pairs = [
        CachedImage(url="https://cdn.example.go.th/icon.png", media_id=icon.id),
        CachedImage(url="https://cdn.example.go.th/1.png", media_id=shot.id),
    ]
    await update_one(AppListing, {"_id": listing.id}, set={"cached_images": pairs})
    await console_sign_in(client, editor)
    review = (await client.get("/console/gac/review", params={"lang": "en"})).text
    assert f'class="icon" src="/media/{icon.id}"' in review
    assert f'<img src="/media/{shot.id}"' in review
    assert 'src="https://cdn.example.go.th' not in review

"""The cache_media job against the loopback agency server: good images stored once by hash,
bad ones refused with their reason (the others kept), pairs written without overwriting a
re-poll's newer content; and ingest end to end (poll → job → the item page shows our copy)."""

from __future__ import annotations

import asyncio
import hashlib

from arq.connections import ArqRedis

from appcenter.models import AppListing
from gnews.dev.emulators.feeds import FeedServer
from gnews.jobs import (
    CACHE_MEDIA,
    FEEDS_QUEUE,
    JOB_QUEUES,
    enqueue_cache_media,
    images_version,
    media_job_id,
)
from gnews.media import service as media_service
from gnews.media.models import MediaObject
from gnews.news.models import NewsItem
from gnews.plugins import build_plugin_manager
from tests.media.images import HTML, SVG, image_bytes, png_bomb
from tests.support.gac import BODY as GAC_BODY
from tests.support.gac import create, make_agency
from tests.support.interleave import PauseBeforeWrite
from tests.workers.feeds.test_ingest import make_source
from workers.feeds.fetch import make_feed_client
from workers.jobs import media
from workers.jobs.ingest import poll
from workers.jobs.media import cache_item_images, cache_listing_images, cache_media_job

PNG = image_bytes("PNG")
JPEG = image_bytes("JPEG", color="blue")
WEBP = image_bytes("WEBP", color="green")


def sha(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


async def stored_item(source, key: str, *, image_url=None, content_html="", content_hash="v1"):
    item = NewsItem(
        source_id=str(source.id),
        source_slug=source.slug,
        agency=source.agency,
        key=key,
        title=f"ข่าว {key}",
        content_html=content_html,
        image_url=image_url,
        published_at=NewsItem.model_fields["created_at"].default_factory(),  # type: ignore[misc]
        content_hash=content_hash,
        status="published",
    )
    return await item.insert()


def serve_images(server: FeedServer) -> None:
    server.add("/a.png", PNG, content_type="image/png")
    server.add("/same-bytes.png", PNG, content_type="image/png")
    server.add("/b.jpg", JPEG, content_type="image/png")  # a wrong header: Pillow decides
    server.add("/c.webp", WEBP, content_type="image/webp")
    server.add("/logo.svg", SVG, content_type="image/svg+xml")
    server.add("/page.png", HTML, content_type="image/png")  # an HTML page called .png
    server.add("/bomb.png", png_bomb(), content_type="image/png")
    large = image_bytes("PNG", size=(600, 600)) + b"\0" * 3000  # more than the 4 KiB limit
    server.add("/large.png", large, content_type="image/png")
    server.status("/missing.png", 404)
    server.hang("/slow.png")


async def test_good_images_are_stored_once_and_bad_ones_refused_with_their_reason(
    client, feed_server, feed_client
):
    serve_images(feed_server)
    source = await make_source("http://127.0.0.1:9/feed.xml")
    body = "".join(
        f'<p><img src="{feed_server.url(path)}" alt="{path}"></p>'
        for path in (
            "/b.jpg",
            "/c.webp",
            "/logo.svg",
            "/page.png",
            "/bomb.png",
            "/large.png",
            "/missing.png",
            "/slow.png",
        )
    )
    first = await stored_item(source, "one", image_url=feed_server.url("/a.png"), content_html=body)
    second = await stored_item(source, "two", image_url=feed_server.url("/same-bytes.png"))

    outcome, linked = await cache_item_images(str(first.id), feed_client, max_bytes=4096)
    assert linked
    good = {feed_server.url(p) for p in ("/a.png", "/b.jpg", "/c.webp")}
    assert set(outcome.cached) == good
    refused = {url.rsplit("/", 1)[1]: reason for url, reason in outcome.refused.items()}
    assert set(refused) == {
        "logo.svg",
        "page.png",
        "bomb.png",
        "large.png",
        "missing.png",
        "slow.png",
    }
    assert "not a JPEG, PNG, GIF or WebP" in refused["logo.svg"]
    assert "not a JPEG, PNG, GIF or WebP" in refused["page.png"]
    assert "decompression bomb" in refused["bomb.png"]
    assert refused["large.png"].startswith("too_large")
    assert refused["missing.png"].startswith("http_status") and "404" in refused["missing.png"]
    assert refused["slow.png"].startswith("timeout")

    # the content type is what Pillow decoded, never the header
    jpeg = await MediaObject.get(sha(JPEG))
    assert jpeg is not None and jpeg.content_type == "image/jpeg" and jpeg.data == JPEG
    assert (jpeg.width, jpeg.height, jpeg.size) == (8, 6, len(JPEG))
    webp = await MediaObject.get(sha(WEBP))
    assert webp is not None and webp.content_type == "image/webp"

    # the same bytes from another item (another URL): one document
    await cache_item_images(str(second.id), feed_client, max_bytes=4096)
    assert await MediaObject.find({"_id": sha(PNG)}).count() == 1
    assert await MediaObject.count() == 3
    png = await MediaObject.get(sha(PNG))
    assert png is not None and png.source_url == feed_server.url("/a.png")  # the first URL

    stored = await NewsItem.get(first.id)
    pairs = {(p.url, p.media_id) for p in stored.cached_images}
    assert pairs == {
        (feed_server.url("/a.png"), sha(PNG)),
        (feed_server.url("/b.jpg"), sha(JPEG)),
        (feed_server.url("/c.webp"), sha(WEBP)),
    }
    other = await NewsItem.get(second.id)
    assert [(p.url, p.media_id) for p in other.cached_images] == [
        (feed_server.url("/same-bytes.png"), sha(PNG))
    ]


async def test_concurrent_jobs_storing_the_same_bytes_make_one_document(client, monkeypatch):
    pause = PauseBeforeWrite(media_service.insert)
    monkeypatch.setattr(media_service, "insert", pause)
    # One job found no image with this hash and is about to insert it …
    first = asyncio.create_task(media_service.store_image(PNG, "https://a.example/1.png"))
    await pause.reached()
    # … when another job stores the same bytes (from another URL).
    second = await media_service.store_image(PNG, "https://b.example/2.png")
    pause.resume()
    stored = await first  # the duplicate key is no error: the other's document is the image
    assert stored.id == second.id == sha(PNG)
    assert await MediaObject.count() == 1
    assert (await MediaObject.get(sha(PNG))).source_url == "https://b.example/2.png"


async def test_the_job_refuses_private_addresses_like_the_feeds(client, feed_server):
    feed_server.add("/a.png", PNG, content_type="image/png")
    source = await make_source("http://127.0.0.1:9/feed.xml")
    item = await stored_item(source, "one", image_url=feed_server.url("/a.png"))
    strict = make_feed_client()  # the worker's default: private networks refused
    try:
        outcome, _ = await cache_item_images(str(item.id), strict)
    finally:
        await strict.aclose()
    assert next(iter(outcome.refused.values())).startswith("blocked"), outcome
    assert await MediaObject.count() == 0


async def test_a_re_poll_that_changed_the_item_meanwhile_is_not_overwritten(
    client, feed_server, feed_client, monkeypatch
):
    feed_server.add("/a.png", PNG, content_type="image/png")
    source = await make_source("http://127.0.0.1:9/feed.xml")
    item = await stored_item(source, "one", image_url=feed_server.url("/a.png"))
    pause = PauseBeforeWrite(media.update_one)
    monkeypatch.setattr(media, "update_one", pause)
    # The job read the item (content v1) and fetched its image, and is about to link it …
    job = asyncio.create_task(cache_item_images(str(item.id), feed_client))
    await pause.reached()
    # … when a re-poll stores newer content with another image.
    newer = feed_server.url("/newer.png")
    await NewsItem.get_pymongo_collection().update_one(
        {"_id": item.id},
        {"$set": {"content_hash": "v2", "image_url": newer, "title": "ข่าวใหม่"}},
    )
    pause.resume()
    outcome, linked = await job
    assert outcome.status == "changed" and not linked
    stored = await NewsItem.get(item.id)
    assert (stored.content_hash, stored.image_url, stored.title) == ("v2", newer, "ข่าวใหม่")
    assert stored.cached_images == []  # v1's pairs were not written over v2


async def test_a_listing_keeps_its_icon_and_screenshots(client, feed_server, feed_client):
    feed_server.add("/icon.png", PNG, content_type="image/png")
    feed_server.add("/shot.webp", WEBP, content_type="image/webp")
    feed_server.add("/shot.svg", SVG, content_type="image/svg+xml")
    listing = await AppListing(
        slug="thangrat",
        owner_kind="agency",
        owner_id="ega",
        agency="ega",
        name_th="ทางรัฐ",
        icon_url=feed_server.url("/icon.png"),
        screenshot_urls=[feed_server.url("/shot.webp"), feed_server.url("/shot.svg")],
    ).insert()
    outcome, linked = await cache_listing_images(str(listing.id), feed_client)
    assert linked and set(outcome.refused) == {feed_server.url("/shot.svg")}
    stored = await AppListing.get(listing.id)
    assert [(p.url, p.media_id) for p in stored.cached_images] == [
        (feed_server.url("/icon.png"), sha(PNG)),
        (feed_server.url("/shot.webp"), sha(WEBP)),
    ]


def test_the_job_runs_on_the_feeds_queue_with_an_id_per_content():
    assert JOB_QUEUES[CACHE_MEDIA] == FEEDS_QUEUE
    assert media_job_id("news", "abc", "v1") == media_job_id("news", "abc", "v1")
    assert media_job_id("news", "abc", "v1") != media_job_id("news", "abc", "v2")


FEED = """<?xml version="1.0" encoding="utf-8"?>
<rss version="2.0"><channel><title>EGA</title><link>https://www.ega.or.th/</link>
<item><guid>img-1</guid><title>สรอ. เปิดบริการใหม่</title><link>https://www.ega.or.th/n/1</link>
<pubDate>Mon, 20 May 2024 10:00:00 +0700</pubDate>
<description><![CDATA[<p>ภาพ <img src="{body}" alt="ภาพข่าว"></p>]]></description>
<enclosure url="{lead}" type="image/png" length="100"/>
</item></channel></rss>"""


async def test_ingest_end_to_end_the_item_page_shows_the_local_image(
    client, settings, feed_server, feed_client
):
    lead, inline = feed_server.url("/lead.png"), feed_server.url("/inline.jpg")
    feed_server.add("/lead.png", PNG, content_type="image/png")
    feed_server.add("/inline.jpg", JPEG, content_type="image/jpeg")
    feed_server.add("/feed.xml", FEED.format(lead=lead, body=inline))
    source = await make_source(feed_server.url("/feed.xml"))
    redis = ArqRedis.from_url(settings.redis_url)
    try:
        outcome = await poll(
            source, feed_client, build_plugin_manager(entry_points=False), redis=redis
        )
        assert (outcome.status, outcome.new) == ("ok", 1), outcome
        item = await NewsItem.find_one(NewsItem.source_id == str(source.id))
        assert item is not None and item.image_url == lead
        # the poll enqueued the item's job on the feeds queue, under its one id
        job_id = media_job_id("news", str(item.id), item.content_hash)
        queued = [job.decode() for job in await redis.zrange(FEEDS_QUEUE, 0, -1)]
        assert job_id in queued
        # before the job: no image at all on the page, and never the agency's
        before = (await client.get(f"/news/{item.id}")).text
        assert feed_server.base_url not in before and "<img" not in before.split("<main")[1]
        # the job (run directly, as the worker would)
        result = await cache_media_job(
            {"http": feed_client, "redis": redis, "settings": settings}, "news", str(item.id)
        )
        assert set(result["cached"]) == {lead, inline}, result
    finally:
        await redis.aclose()
    page = (await client.get(f"/news/{item.id}")).text  # the job invalidated the page cache
    assert f'src="/media/{sha(PNG)}"' in page and f'src="/media/{sha(JPEG)}"' in page
    assert feed_server.base_url not in page
    image = await client.get(f"/media/{sha(PNG)}")
    assert image.status_code == 200 and image.content == PNG
    api = (await client.get(f"/api/v1/news/{item.id}")).json()
    assert api["image_url"] == lead
    assert api["image_local_url"] == f"{str(client.base_url).rstrip('/')}/media/{sha(PNG)}"


async def test_the_api_enqueues_a_listings_images_by_name_once_per_set_of_urls(
    client, settings, auth_headers
):
    await make_agency("dopa")
    developer = await auth_headers("developer")
    created = await create(client, developer)
    urls = [GAC_BODY["icon_url"], *GAC_BODY["screenshot_urls"]]
    redis = ArqRedis.from_url(settings.redis_url)
    try:

        async def queued(version: str) -> bool:
            job_id = media_job_id("app", created["id"], version)
            return await redis.zscore(FEEDS_QUEUE, job_id) is not None

        assert await queued(images_version(urls))  # on the feeds queue, under its one id
        # enqueuing the same images again is a no-op
        assert await enqueue_cache_media(redis, "app", created["id"], images_version(urls)) is None
        jobs = await redis.zcard(FEEDS_QUEUE)
        listing = f"/api/v1/gac/listings/{created['id']}"
        other = await client.patch(listing, headers=developer, json={"version": "1.3.0"})
        assert other.status_code == 200, other.text
        assert await redis.zcard(FEEDS_QUEUE) == jobs  # no image changed: nothing new
        icon = "https://cdn.example.go.th/icon-2.png"
        changed = await client.patch(listing, headers=developer, json={"icon_url": icon})
        assert changed.status_code == 200, changed.text
        assert await queued(images_version([icon, *GAC_BODY["screenshot_urls"]]))
    finally:
        await redis.aclose()

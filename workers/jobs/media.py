"""Caching agencies' images (the ``cache_media`` job, on the feeds queue).

An item's images (``image_url`` and each ``<img>`` of its HTML body) or a listing's (icon and
screenshots) are fetched with the feed client (:func:`workers.feeds.fetch.fetch_feed`: the same
refusal of private addresses, time-outs, redirect limit and size limit), verified with Pillow and
stored once by hash (:func:`gnews.media.service.store_image`). The ``{url, media_id}`` pairs are
then written: an item's with a partial ``$set`` guarded by the ``content_hash`` they were made
from (a re-poll that changed the item meanwhile is never overwritten: its own job caches the new
images), a listing's by ``$push`` of the new pairs only. An image that fails is logged with the
reason and skipped; the others are still cached, and the job itself never fails the item.
"""

from __future__ import annotations

from collections.abc import Mapping, Sequence
from dataclasses import asdict, dataclass, field
from typing import Any, TypeVar

import httpx
import structlog
from beanie import Document
from redis.asyncio import Redis

from appcenter.models import AppListing
from appcenter.service import CACHE_NAMESPACE as APPS_CACHE_NAMESPACE
from appcenter.service import image_urls_of
from gnews.core.errors import NotFoundError
from gnews.core.http_cache import invalidate
from gnews.core.persistence import Each, update_one
from gnews.core.persistence.lookup import get_or_not_found
from gnews.media.service import CachedImage, RefusedImage, html_image_urls, store_image
from gnews.news.models import ItemStatus, NewsItem
from gnews.news.service import CACHE_NAMESPACE as NEWS_CACHE_NAMESPACE
from workers.feeds.fetch import FetchError, fetch_feed

log = structlog.get_logger(__name__)
D = TypeVar("D", bound=Document)

DEFAULT_MAX_BYTES = 5 * 1024 * 1024
IMAGE_TOTAL_TIMEOUT = 30.0  # seconds for one image, whatever the server trickles


@dataclass
class MediaOutcome:
    """What one job did: the images cached, and each refused one with its reason."""

    kind: str
    owner_id: str
    status: str  # "ok", "gone" (no such item/listing), "changed" (changed meanwhile: not linked)
    cached: list[str] = field(default_factory=list)  # URLs
    refused: dict[str, str] = field(default_factory=dict)  # URL -> reason


def item_image_urls(item: NewsItem) -> list[str]:
    """The images an item's pages show: its lead image, then those of its HTML body."""
    urls = [item.image_url] if item.image_url else []
    return list(dict.fromkeys([*urls, *html_image_urls(item.content_html)]))


async def cache_images(
    client: httpx.AsyncClient,
    urls: list[str],
    max_bytes: int,
    outcome: MediaOutcome,
    known: Sequence[CachedImage] = (),
) -> list[CachedImage]:
    """Fetch, verify and store each of ``urls`` (those already in ``known`` are kept, not
    fetched again); the pairs of those stored (failures are recorded on ``outcome`` and logged,
    never raised)."""
    held = {pair.url: pair for pair in known}
    pairs: list[CachedImage] = []
    for url in urls:
        if url in held:
            pairs.append(held[url])
            outcome.cached.append(url)
            continue
        try:
            fetched = await fetch_feed(
                client, url, max_bytes=max_bytes, total_timeout=IMAGE_TOTAL_TIMEOUT
            )
            media = await store_image(fetched.body or b"", url)
        except FetchError as error:
            reason = f"{error.kind}: {error}"
        except RefusedImage as error:
            reason = f"refused: {error}"
        else:
            pairs.append(CachedImage(url=url, media_id=media.id))
            outcome.cached.append(url)
            continue
        outcome.refused[url] = reason
        log.warning(
            "image not cached", kind=outcome.kind, owner=outcome.owner_id, url=url, reason=reason
        )
    return pairs


async def _link(
    model: type[Document], guard: Mapping[str, Any], pairs: list[CachedImage], outcome: MediaOutcome
) -> bool:
    """Write the pairs unless what they were made from (``guard``) changed meanwhile."""
    linked = await update_one(model, guard, set={"cached_images": pairs})
    if not linked:
        outcome.status = "changed"
        log.info("images cached but not linked: changed meanwhile", owner=outcome.owner_id)
    return linked


async def _still_there(model: type[D], outcome: MediaOutcome) -> D | None:
    """The item or listing the job is for, or None (``outcome`` says "gone") when it was
    deleted meanwhile or its id is malformed."""
    try:
        return await get_or_not_found(model, outcome.owner_id, "gone")
    except NotFoundError:
        outcome.status = "gone"
        return None


async def cache_item_images(
    item_id: str, client: httpx.AsyncClient, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[MediaOutcome, bool]:
    """Cache a news item's images; returns the outcome and whether a published item's pairs
    were written (then the public pages' cache is stale)."""
    outcome = MediaOutcome("news", item_id, "ok")
    item = await _still_there(NewsItem, outcome)
    if item is None:
        return outcome, False
    pairs = await cache_images(
        client, item_image_urls(item), max_bytes, outcome, item.cached_images
    )
    guard = {"_id": item.id, "content_hash": item.content_hash}
    linked = await _link(NewsItem, guard, pairs, outcome)
    return outcome, linked and item.status is ItemStatus.PUBLISHED


async def cache_listing_images(
    listing_id: str, client: httpx.AsyncClient, *, max_bytes: int = DEFAULT_MAX_BYTES
) -> tuple[MediaOutcome, bool]:
    """Cache a GAC listing's icon and screenshots; as :func:`cache_item_images`."""
    outcome = MediaOutcome("app", listing_id, "ok")
    listing = await _still_there(AppListing, outcome)
    if listing is None:
        return outcome, False
    urls = list(dict.fromkeys(image_urls_of(listing)))
    pairs = await cache_images(client, urls, max_bytes, outcome, listing.cached_images)
    # Pairs are only added (never a list written from this copy): a job for newer images
    # finishing first keeps its pairs, and a pair of a URL the listing no longer shows is
    # never looked up.
    held = {(pair.url, pair.media_id) for pair in listing.cached_images}
    new = [pair for pair in pairs if (pair.url, pair.media_id) not in held]
    if not new:
        return outcome, False
    linked = await update_one(AppListing, {"_id": listing.id}, push={"cached_images": Each(new)})
    return outcome, linked


async def cache_media_job(ctx: dict[str, Any], kind: str, owner_id: str) -> dict[str, Any]:
    """arq job: cache the images of a news item (``kind`` "news") or a listing ("app"), then
    let the pages show them (their cached copies are invalidated)."""
    settings = ctx.get("settings")
    max_bytes = settings.media_max_bytes if settings is not None else DEFAULT_MAX_BYTES
    cache = cache_item_images if kind == "news" else cache_listing_images
    outcome, linked = await cache(owner_id, ctx["http"], max_bytes=max_bytes)
    redis: Redis | None = ctx.get("redis")
    if linked and redis is not None:
        await invalidate(redis, NEWS_CACHE_NAMESPACE if kind == "news" else APPS_CACHE_NAMESPACE)
    log.info(
        "images cached",
        kind=kind,
        owner=owner_id,
        status=outcome.status,
        cached=len(outcome.cached),
        refused=len(outcome.refused),
    )
    return asdict(outcome)

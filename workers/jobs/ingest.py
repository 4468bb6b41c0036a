"""Polling news sources: fetch, parse, normalise, tag, store; record health and back off.

One poll is one arq job (:func:`poll_source_job`) on the feeds queue; a cron job
(:func:`enqueue_due_sources`) enqueues the sources that are due, under the one poll job id a
source has, so a source is never polled twice at once. A failing source backs off
exponentially (capped at a day) and never delays the others: each poll is bounded by the
fetcher's timeouts and size limit, and parsing runs in a child process bounded in CPU, time and
memory (:class:`~workers.feeds.parser_pool.ParserPool`). An entry or item that cannot be read
is left out (or its bad part dropped) with a warning on the source; any other error in a poll
is recorded on the source, with back-off, like a fetch error.
A poll that inserts published items (a trusted source) or changes published ones invalidates
the public news cache when it is given a Redis client (the worker's; the CLI polls without).
"""

from __future__ import annotations

import asyncio
import dataclasses
import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from arq.connections import ArqRedis
from beanie import PydanticObjectId
from redis.asyncio import Redis

from gnews.core import metrics
from gnews.core.clock import utcnow
from gnews.core.http_cache import invalidate
from gnews.core.persistence import database_now, find_one_and_update, insert_many, update_one
from gnews.core.persistence.shapes import one_of
from gnews.jobs import enqueue_cache_media, enqueue_poll
from gnews.news.models import ItemStatus, NewsItem
from gnews.news.service import CACHE_NAMESPACE
from gnews.news.tagging import assign_provinces, item_text
from gnews.plugins import PluginManager
from gnews.sources.models import Source
from gnews.thai.text import index_terms
from workers.feeds.fetch import FetchError, fetch_feed
from workers.feeds.normalize import FeedEntry, FeedParseError
from workers.feeds.parser_pool import ParserPool

log = structlog.get_logger(__name__)

MAX_BACKOFF = timedelta(days=1)
DUE_BATCH = 1000
MAX_FEED_BYTES = 5 * 1024 * 1024
# Longer than any poll takes (fetch deadline 60 s, parsing 30 s, storing): a poll whose process
# died frees its source after this.
POLL_LEASE = timedelta(minutes=10)

# Fields a re-poll refreshes (unless an editor changed them: see NewsItem.edited_fields).
FEED_FIELDS = (
    "title",
    "summary",
    "content_html",
    "link",
    "image_url",
    "author",
    "categories",
    "published_at",
    "date_missing",
    "feed_updated_at",
    "content_hash",
    "provinces",
    "province_tags",
    "search_terms",
)


@dataclass
class PollOutcome:
    """What one poll did to one source."""

    source: str
    status: str  # "ok", "not_modified", "unchanged", "error", "skipped"
    new: int = 0
    updated: int = 0
    unchanged: int = 0
    dropped: int = 0  # left out by a plugin
    error: str | None = None
    warnings: list[str] = dataclasses.field(default_factory=list)  # parts of entries dropped or cut
    seconds: float = 0.0
    published: int = 0  # of the new and updated items, those citizens see (status published)
    # (id, content_hash) of the new and changed items that show images: the cache_media jobs
    with_images: list[tuple[str, str]] = dataclasses.field(default_factory=list)


def backoff_delay(source: Source, failures: int, retry_after: float | None) -> timedelta:
    """Exponential back-off from the poll interval, capped at a day, honouring Retry-After."""
    base = timedelta(minutes=source.poll_interval_minutes)
    delay = min(base * (2 ** min(failures, 16)), MAX_BACKOFF)
    if retry_after:
        delay = max(delay, min(timedelta(seconds=retry_after), MAX_BACKOFF))
    return delay


async def _record_failure(
    source: Source, kind: str, message: str, now: datetime, retry_after: float | None = None
) -> None:
    failures = source.consecutive_failures + 1
    # Only the health fields: an editor disabling the source meanwhile keeps it disabled.
    await update_one(
        Source,
        {"_id": source.id},
        set={
            "last_polled_at": now,
            "last_error": message[:1000],
            "last_error_kind": kind,
            "last_error_at": now,
            "consecutive_failures": failures,
            "next_poll_at": now + backoff_delay(source, failures, retry_after),
        },
    )
    log.warning("source poll failed", source=source.slug, kind=kind, error=message[:300])


async def _record_success(
    source: Source, now: datetime, changes: dict[str, Any] | None = None, new_items: int = 0
) -> None:
    """Record a successful poll: only the health fields and ``changes`` are written (an editor
    disabling the source meanwhile keeps it disabled); ``new_items`` are counted with ``$inc``."""
    await update_one(
        Source,
        {"_id": source.id},
        set={
            "last_polled_at": now,
            "last_success_at": now,
            "last_error": None,  # a success clears the error (its time stays, for history)
            "last_error_kind": None,
            "consecutive_failures": 0,
            "next_poll_at": now + timedelta(minutes=source.poll_interval_minutes),
            **(changes or {}),
        },
        inc={"item_count": new_items} if new_items else None,
    )


def build_item(
    entry: FeedEntry, source: Source, plugins: PluginManager, now: datetime
) -> NewsItem | None:
    """A news item from a feed entry, passed through the plugins; None when a plugin drops it."""
    item = NewsItem(
        source_id=str(source.id),
        source_slug=source.slug,
        agency=source.agency,
        key=entry.key,
        title=entry.title or "(untitled)",
        summary=entry.summary,
        content_html=entry.content_html,
        link=entry.link,
        image_url=entry.image_url,
        author=entry.author,
        language=source.language,
        categories=list(dict.fromkeys([*source.categories, *entry.categories])),
        published_at=entry.published_at,
        date_missing=entry.date_missing,
        feed_updated_at=entry.updated_at,
        content_hash=entry.content_hash,
        status=ItemStatus.PUBLISHED if source.trusted else ItemStatus.PENDING,
        fetched_at=now,
        created_at=now,
        updated_at=now,
    )
    answers = plugins.hook.gnews_process_item(item=item, source=source)
    if any(answer is False for answer in answers):
        return None
    assign_provinces(item, source, plugins)
    item.search_terms = index_terms(item_text(item))
    item.refresh_derived()  # sort_key and reach follow what the plugins and tagging set
    return item


def _prepare(
    source: Source, entries: list[FeedEntry], plugins: PluginManager, now: datetime
) -> tuple[list[NewsItem], int, list[str]]:
    items: list[NewsItem] = []
    dropped = 0
    warnings: list[str] = []
    for entry in entries:
        try:
            item = build_item(entry, source, plugins, now)
        except Exception as error:  # one item that cannot be stored never loses the others
            log.warning("feed item left out", source=source.slug, key=entry.key, error=repr(error))
            warnings.append(f"item {entry.key[:80]!r} left out ({type(error).__name__})")
            continue
        if item is None:
            dropped += 1
        else:
            items.append(item)
    return items, dropped, warnings


async def store_entries(
    source: Source, entries: list[FeedEntry], plugins: PluginManager, now: datetime
) -> PollOutcome:
    """Insert new entries, update changed ones, leave unchanged ones alone (no duplicates)."""
    outcome = PollOutcome(source=source.slug, status="ok")
    by_key = {entry.key: entry for entry in entries}  # a feed repeating a guid counts once
    known = {
        doc["key"]: doc
        async for doc in NewsItem.get_pymongo_collection().find(
            {"source_id": str(source.id), "key": one_of(list(by_key))},
            {"key": 1, "content_hash": 1},
        )
    }
    fresh = [
        e for k, e in by_key.items() if k not in known or known[k]["content_hash"] != e.content_hash
    ]
    outcome.unchanged = len(by_key) - len(fresh)
    # Parsing is done; tagging and search terms are CPU work: keep the event loop responsive.
    items, outcome.dropped, outcome.warnings = await asyncio.to_thread(
        _prepare, source, fresh, plugins, now
    )
    new_items = [item for item in items if item.key not in known]
    if new_items:
        # Unordered: an item another poll of the same source inserted meanwhile (duplicate key)
        # is skipped alone, the rest of the batch is stored.
        inserted = await insert_many(NewsItem, new_items)
        skipped = set(inserted.duplicates)
        stored_new = [item for i, item in enumerate(new_items) if i not in skipped]
        outcome.new = len(stored_new)
        outcome.published += sum(item.status is ItemStatus.PUBLISHED for item in stored_new)
        outcome.with_images += [_images_of(item) for item in stored_new if _shows_images(item)]
    for item in items:
        refreshed = await _refresh(known[item.key]["_id"], item, now) if item.key in known else None
        if refreshed is not None:
            outcome.updated += 1
            outcome.published += int(refreshed.status is ItemStatus.PUBLISHED)
            if _shows_images(refreshed):
                outcome.with_images.append(_images_of(refreshed))
    return outcome


def _shows_images(item: NewsItem) -> bool:
    return bool(item.image_url) or "<img" in item.content_html


def _images_of(item: NewsItem) -> tuple[str, str]:
    return str(item.id), item.content_hash


async def enqueue_image_caching(redis: Redis, outcome: PollOutcome) -> None:
    """Enqueue the caching of the images of the items a poll stored or changed (one job per
    item and content: :func:`gnews.jobs.media_job_id`). A failure is logged: the items are
    stored, only their images wait for the next change."""
    if not isinstance(redis, ArqRedis):  # a bare Redis client cannot enqueue arq jobs
        return
    try:
        for item_id, content_hash in outcome.with_images:
            await enqueue_cache_media(redis, "news", item_id, content_hash)
    except Exception as error:
        log.warning("image caching not enqueued", source=outcome.source, error=repr(error))


REFRESH_ATTEMPTS = 3


async def _refresh(item_id: Any, polled: NewsItem, now: datetime) -> NewsItem | None:
    """Write the feed fields of ``polled`` to the stored item, except those an editor changed.

    Only those fields are written (an editor's withdraw meanwhile stays), guarded by "no field
    written here was edited meanwhile"; should an editor edit one in between, the item is read
    again. Returns the item as stored, or None when it is gone.
    """
    for _ in range(REFRESH_ATTEMPTS):
        stored = await NewsItem.get(item_id)
        if stored is None:
            return None
        changes = {f: getattr(polled, f) for f in FEED_FIELDS if f not in stored.edited_fields}
        merged = stored.model_copy(update=changes)
        # Search terms follow the merged item: the feed's new text and the editors' edits.
        changes["search_terms"] = index_terms(item_text(merged))
        changes.update(merged.refresh_derived())  # sort_key and reach follow the merged item
        refreshed = await find_one_and_update(
            NewsItem,
            {"_id": stored.id, "edited_fields": {"$nin": list(changes)}},
            set={**changes, "updated_at": now},
        )
        if refreshed is not None:
            return refreshed
    log.warning("news item kept being edited during a re-poll; left as it is", item=str(item_id))
    return None


_shared_parser: ParserPool | None = None


def shared_parser_pool() -> ParserPool:
    """The process's default :class:`ParserPool` (for polls not given one: the CLI, tests)."""
    global _shared_parser
    if _shared_parser is None:
        _shared_parser = ParserPool()
    return _shared_parser


async def poll(
    source: Source,
    client: httpx.AsyncClient,
    plugins: PluginManager,
    *,
    max_bytes: int = MAX_FEED_BYTES,
    redis: Redis | None = None,
    parser: ParserPool | None = None,
) -> PollOutcome:
    """Poll one source now and record the result on it; with ``redis``, invalidate the public
    news cache when published items were inserted or changed. ``parser``: the bounded parsing
    processes (default: :func:`shared_parser_pool`). Never raises for what the feed holds: an
    unexpected error is recorded on the source (kind ``internal``) with back-off."""
    started = asyncio.get_running_loop().time()
    now = utcnow()
    if not await _claim_poll(source):
        return PollOutcome(source.slug, "skipped", error="already being polled")
    try:
        outcome = await _poll(source, client, plugins, now, max_bytes, parser)
    except Exception as error:
        log.exception("source poll crashed", source=source.slug)
        message = f"unexpected error while polling: {type(error).__name__}: {error}"
        outcome = PollOutcome(source.slug, "error", error=message)
        try:
            await _record_failure(source, "internal", message, now)
        except Exception:  # the database itself is failing: the outcome still says so
            log.exception("source poll failure not recorded", source=source.slug)
    finally:
        await _release_poll(source)
    if redis is not None and outcome.published:
        await invalidate(redis, CACHE_NAMESPACE)
    if redis is not None and outcome.with_images:
        await enqueue_image_caching(redis, outcome)
    outcome.seconds = round(asyncio.get_running_loop().time() - started, 3)
    metrics.record_poll(outcome.status, new=outcome.new, updated=outcome.updated)
    if outcome.status != "error":
        fields = {k: v for k, v in asdict(outcome).items() if k not in ("error", "with_images")}
        log.info("source polled", **fields)
    return outcome


async def _claim_poll(source: Source) -> bool:
    """Take the source's poll lease; False when another poll holds it."""
    now = await database_now(Source)
    free = [
        {"polling_until": {"$exists": False}},
        {"polling_until": None},
        {"polling_until": {"$lte": now}},
    ]
    claimed = await find_one_and_update(
        Source, {"_id": source.id, "$or": free}, set={"polling_until": now + POLL_LEASE}
    )
    return claimed is not None


async def _release_poll(source: Source) -> None:
    try:
        await update_one(Source, {"_id": source.id}, set={"polling_until": None})
    except Exception:  # the lease expires by itself
        log.exception("source poll lease not released", source=source.slug)


async def _poll(
    source: Source,
    client: httpx.AsyncClient,
    plugins: PluginManager,
    now: datetime,
    max_bytes: int,
    parser: ParserPool | None,
) -> PollOutcome:
    try:
        fetched = await fetch_feed(
            client,
            source.feed_url,
            etag=source.etag,
            last_modified=source.last_modified,
            max_bytes=max_bytes,
        )
    except FetchError as error:
        await _record_failure(source, error.kind, str(error), now, error.retry_after)
        return PollOutcome(source.slug, "error", error=str(error))
    if fetched.not_modified:
        await _record_success(source, now)
        return PollOutcome(source.slug, "not_modified")
    validators: dict[str, Any] = {"etag": fetched.etag, "last_modified": fetched.last_modified}
    body_hash = hashlib.sha256(fetched.body or b"").hexdigest()
    if body_hash == source.body_hash:  # same bytes, no validators: nothing to parse
        await _record_success(source, now, validators)
        return PollOutcome(source.slug, "unchanged")
    try:
        parsed = await (parser or shared_parser_pool()).parse(
            fetched.body or b"",
            content_type=fetched.content_type,
            base_url=fetched.url,
            fetched_at=now,
        )
    except FeedParseError as error:
        await _record_failure(source, "parse", f"{source.feed_url}: {error}", now)
        return PollOutcome(source.slug, "error", error=str(error))
    outcome = await store_entries(source, parsed.entries, plugins, now)
    outcome.warnings = [*parsed.warnings, *outcome.warnings]
    warnings = [f"malformed feed, read anyway: {parsed.bozo_message}"] if parsed.bozo else []
    warnings += outcome.warnings
    await _record_success(
        source,
        now,
        {
            "body_hash": body_hash,
            "last_warning": "; ".join(warnings)[:1000] or None,
            **validators,
        },
        new_items=outcome.new,
    )
    return outcome


async def poll_source_job(ctx: dict[str, Any], source_id: str) -> dict[str, Any]:
    """arq job: poll one source (skipped when it is gone or disabled)."""
    source = await Source.get(PydanticObjectId(source_id))
    if source is None or not source.enabled:
        return asdict(PollOutcome(source_id, "skipped"))
    outcome = await poll(
        source, ctx["http"], ctx["plugins"], redis=ctx.get("redis"), parser=ctx.get("parser")
    )
    return asdict(outcome)


async def enqueue_due_sources(ctx: dict[str, Any]) -> int:
    """arq cron: enqueue a poll for each enabled source that is due; returns how many.

    A source has one poll job id (:func:`gnews.jobs.poll_job_id`), the same as "poll now"'s, so a
    poll still queued or running is not enqueued again.
    """
    now = utcnow()
    due = Source.get_pymongo_collection().find(
        {"enabled": True, "next_poll_at": {"$lte": now}},
        {"_id": 1},
        limit=DUE_BATCH,
    )
    count = 0
    async for doc in due:
        if await enqueue_poll(ctx["redis"], str(doc["_id"])):
            count += 1
    return count

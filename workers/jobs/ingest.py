"""Polling news sources: fetch, parse, normalise, tag, store; record health and back off.

One poll is one arq job (:func:`poll_source_job`); a cron job (:func:`enqueue_due_sources`)
enqueues the sources that are due. A failing source backs off exponentially (capped at a day)
and never delays the others: each poll is bounded by the fetcher's timeouts and size limit.
A poll that inserts published items (a trusted source) or changes published ones invalidates
the public news cache when it is given a Redis client (the worker's; the CLI polls without).
"""

from __future__ import annotations

import asyncio
import hashlib
from dataclasses import asdict, dataclass
from datetime import datetime, timedelta
from typing import Any

import httpx
import structlog
from beanie import PydanticObjectId
from redis.asyncio import Redis

from gnews.core.clock import utcnow
from gnews.core.http_cache import invalidate
from gnews.core.persistence import find_one_and_update, insert_many, update_one
from gnews.jobs import POLL_SOURCE, enqueue
from gnews.news.models import ItemStatus, NewsItem
from gnews.news.service import CACHE_NAMESPACE
from gnews.news.tagging import assign_provinces, item_text
from gnews.plugins import PluginManager
from gnews.sources.models import Source
from gnews.thai.text import index_terms
from workers.feeds.fetch import FetchError, fetch_feed
from workers.feeds.normalize import FeedEntry, FeedParseError, parse_feed

log = structlog.get_logger(__name__)

MAX_BACKOFF = timedelta(days=1)
DUE_BATCH = 1000
MAX_FEED_BYTES = 5 * 1024 * 1024

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
    dropped: int = 0
    error: str | None = None
    seconds: float = 0.0
    published: int = 0  # of the new and updated items, those citizens see (status published)


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
    source: Source, now: datetime, new_items: int = 0, **changes: Any
) -> None:
    await update_one(
        Source,
        {"_id": source.id},
        set={
            "last_polled_at": now,
            "last_success_at": now,
            "consecutive_failures": 0,
            "next_poll_at": now + timedelta(minutes=source.poll_interval_minutes),
            **changes,
        },
        inc={"item_count": new_items} if new_items else None,
    )


def build_item(entry: FeedEntry, source: Source, plugins: PluginManager, now: datetime):
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
    for result in plugins.call_each("gnews_process_item", item=item, source=source):
        if result.value is False:
            return None
    assign_provinces(item, source, plugins)
    item.search_terms = index_terms(item_text(item))
    return item


def _prepare(source: Source, entries: list[FeedEntry], plugins: PluginManager, now: datetime):
    items, dropped = [], 0
    for entry in entries:
        item = build_item(entry, source, plugins, now)
        if item is None:
            dropped += 1
        else:
            items.append(item)
    return items, dropped


async def store_entries(
    source: Source, entries: list[FeedEntry], plugins: PluginManager, now: datetime
) -> PollOutcome:
    """Insert new entries, update changed ones, leave unchanged ones alone (no duplicates)."""
    outcome = PollOutcome(source=source.slug, status="ok")
    by_key = {entry.key: entry for entry in entries}  # a feed repeating a guid counts once
    known = {
        doc["key"]: doc
        async for doc in NewsItem.get_pymongo_collection().find(
            {"source_id": str(source.id), "key": {"$in": list(by_key)}},
            {"key": 1, "content_hash": 1},
        )
    }
    fresh = [
        e for k, e in by_key.items() if k not in known or known[k]["content_hash"] != e.content_hash
    ]
    outcome.unchanged = len(by_key) - len(fresh)
    # Parsing is done; tagging and search terms are CPU work: keep the event loop responsive.
    items, outcome.dropped = await asyncio.to_thread(_prepare, source, fresh, plugins, now)
    new_items = [item for item in items if item.key not in known]
    if new_items:
        # Unordered: an item another poll of the same source inserted meanwhile (duplicate key)
        # is skipped alone, the rest of the batch is stored.
        inserted = await insert_many(NewsItem, new_items)
        skipped = set(inserted.duplicates)
        stored_new = [item for i, item in enumerate(new_items) if i not in skipped]
        outcome.new = len(stored_new)
        outcome.published += sum(item.status is ItemStatus.PUBLISHED for item in stored_new)
    for item in items:
        refreshed = await _refresh(known[item.key]["_id"], item, now) if item.key in known else None
        if refreshed is not None:
            outcome.updated += 1
            outcome.published += int(refreshed.status is ItemStatus.PUBLISHED)
    return outcome


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
        refreshed = await find_one_and_update(
            NewsItem,
            {"_id": stored.id, "edited_fields": {"$nin": list(changes)}},
            set={**changes, "updated_at": now},
        )
        if refreshed is not None:
            return refreshed
    log.warning("news item kept being edited during a re-poll; left as it is", item=str(item_id))
    return None


async def poll(
    source: Source,
    client: httpx.AsyncClient,
    plugins: PluginManager,
    *,
    max_bytes: int = MAX_FEED_BYTES,
    redis: Redis | None = None,
) -> PollOutcome:
    """Poll one source now and record the result on it; with ``redis``, invalidate the public
    news cache when published items were inserted or changed."""
    started = asyncio.get_running_loop().time()
    now = utcnow()
    outcome = await _poll(source, client, plugins, now, max_bytes)
    if redis is not None and outcome.published:
        await invalidate(redis, CACHE_NAMESPACE)
    outcome.seconds = round(asyncio.get_running_loop().time() - started, 3)
    if outcome.status != "error":
        log.info("source polled", **{k: v for k, v in asdict(outcome).items() if k != "error"})
    return outcome


async def _poll(
    source: Source, client: httpx.AsyncClient, plugins: PluginManager, now: datetime, max_bytes: int
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
    validators = {"etag": fetched.etag, "last_modified": fetched.last_modified}
    body_hash = hashlib.sha256(fetched.body or b"").hexdigest()
    if body_hash == source.body_hash:  # same bytes, no validators: nothing to parse
        await _record_success(source, now, **validators)
        return PollOutcome(source.slug, "unchanged")
    try:
        parsed = await asyncio.to_thread(
            parse_feed,
            fetched.body or b"",
            content_type=fetched.content_type,
            base_url=fetched.url,
            fetched_at=now,
        )
    except FeedParseError as error:
        await _record_failure(source, "parse", f"{source.feed_url}: {error}", now)
        return PollOutcome(source.slug, "error", error=str(error))
    outcome = await store_entries(source, parsed.entries, plugins, now)
    warning = f"malformed feed, read anyway: {parsed.bozo_message}" if parsed.bozo else None
    await _record_success(
        source,
        now,
        body_hash=body_hash,
        last_warning=warning,
        new_items=outcome.new,
        **validators,
    )
    return outcome


async def poll_source_job(ctx: dict[str, Any], source_id: str) -> dict[str, Any]:
    """arq job: poll one source (skipped when it is gone or disabled)."""
    source = await Source.get(PydanticObjectId(source_id))
    if source is None or not source.enabled:
        return asdict(PollOutcome(source_id, "skipped"))
    return asdict(await poll(source, ctx["http"], ctx["plugins"], redis=ctx.get("redis")))


async def enqueue_due_sources(ctx: dict[str, Any]) -> int:
    """arq cron: enqueue a poll for each enabled source that is due; returns how many.

    The job id names the source and its due time, so a poll still queued or running is not
    enqueued twice.
    """
    now = utcnow()
    due = Source.get_pymongo_collection().find(
        {"enabled": True, "next_poll_at": {"$lte": now}},
        {"_id": 1, "next_poll_at": 1},
        limit=DUE_BATCH,
    )
    count = 0
    async for doc in due:
        job_id = f"poll:{doc['_id']}:{int(doc['next_poll_at'].timestamp())}"
        if await enqueue(ctx["redis"], POLL_SOURCE, str(doc["_id"]), job_id=job_id):
            count += 1
    return count

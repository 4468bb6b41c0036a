"""Curating news items: the rules behind ``gnews.news.controllers``.

News items move between statuses (:data:`TRANSITIONS`); only published items reach citizens and
only they may be featured, pinned or marked breaking. Every change is written with a conditional
``$set`` (the item must still have the status it was checked against, so two editors acting at
once cannot both succeed) and recorded in the audit log with the changed fields before and after.
A change to an item that is or was published also invalidates the public news cache (Redis
namespace :data:`CACHE_NAMESPACE`, see :mod:`gnews.news.feed`) when a ``redis`` client is given.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, TypeVar

from beanie import Document
from redis.asyncio import Redis

from gnews.accounts.guards import Principal
from gnews.agencies.service import agency_managed_by
from gnews.audit.changes import change_audited
from gnews.core.clock import utcnow
from gnews.core.concurrency import unchanged_since
from gnews.core.errors import ConflictError
from gnews.core.highlights import check_until
from gnews.core.http_cache import invalidate
from gnews.core.pagination import check_limit, page_by_key
from gnews.core.persistence.lookup import get_or_not_found
from gnews.core.persistence.shapes import count
from gnews.news.models import ItemStatus, NewsItem, ProvinceTag, reach_of
from gnews.news.tagging import item_text
from gnews.thai.text import index_terms

D = TypeVar("D", bound=Document)

CACHE_NAMESPACE = "news"
"""The Redis response-cache namespace of the public news (``gnews.core.http_cache``)."""

STALE_ITEM = "the news item changed meanwhile; reload it and try again"

# -- lookups ------------------------------------------------------------------------------------


async def item_or_404(item_id: str) -> NewsItem:
    """The news item with this id, or 404 (also for a malformed id)."""
    return await get_or_not_found(NewsItem, item_id, "no such news item")


async def published_item_or_404(item_id: str) -> NewsItem:
    """A published news item, or 404: unpublished items do not exist for the public."""
    return await get_or_not_found(
        NewsItem,
        item_id,
        "no such news item",
        visible=lambda item: item.status is ItemStatus.PUBLISHED,
    )


async def review_queue(
    *, agency: str | None, source_id: str | None, cursor: str | None, limit: int | None
) -> tuple[list[NewsItem], str | None]:
    """One page of pending items by ``fetched_at`` (oldest first), optionally of one agency or
    source."""
    criteria: dict[str, Any] = {"status": ItemStatus.PENDING.value}
    if agency is not None:
        criteria["agency"] = agency
    if source_id is not None:
        criteria["source_id"] = source_id
    return await page_by_key(
        NewsItem, criteria, "queue_key", check_limit(limit), descending=False, cursor=cursor
    )


async def count_pending(*, agency: str | None = None) -> int:
    """How many items wait for review (of ``agency``): an index-served count."""
    criteria: dict[str, Any] = {"status": ItemStatus.PENDING.value}
    if agency is not None:
        criteria["agency"] = agency
    return await count(NewsItem.get_pymongo_collection(), criteria)


async def list_items(
    *, status: ItemStatus | None, agency: str | None, cursor: str | None, limit: int | None
) -> tuple[list[NewsItem], str | None]:
    """One page of items in any status (or ``status``), newest ``published_at`` first."""
    criteria: dict[str, Any] = {}
    if status is not None:
        criteria["status"] = status.value
    if agency is not None:
        criteria["agency"] = agency
    return await page_by_key(
        NewsItem, criteria, "sort_key", check_limit(limit), descending=True, cursor=cursor
    )


async def items_of_agency(
    code: str,
    principal: Principal,
    *,
    status: ItemStatus | None,
    cursor: str | None,
    limit: int | None,
) -> tuple[list[NewsItem], str | None]:
    """One page of agency ``code``'s items in any status (or ``status``), newest first, with
    their review outcome, for the agency's own principals and admins; another agency is "not
    found" (:func:`gnews.agencies.service.agency_managed_by`)."""
    agency = await agency_managed_by(code, principal)
    return await list_items(status=status, agency=agency.code, cursor=cursor, limit=limit)


# -- news items: search terms -------------------------------------------------------------------


def item_search_terms(item: NewsItem, title: str, summary: str) -> list[str]:
    """Search terms of ``item`` with an edited ``title`` / ``summary``.

    Computed exactly as ingestion computes them (``index_terms(item_text(item))``: title, summary
    and the text of the stored content), so the old title's and summary's terms stop matching
    while the content stays searchable. Ingestion's :func:`~gnews.news.tagging.item_text` is in
    ``gnews``, so the API needs nothing from ``workers``.
    """
    return index_terms(item_text(item.model_copy(update={"title": title, "summary": summary})))


# -- news items: changes --------------------------------------------------------------------------

TRANSITIONS: dict[str, tuple[frozenset[ItemStatus], ItemStatus]] = {
    "approve": (
        frozenset({ItemStatus.PENDING, ItemStatus.REJECTED, ItemStatus.WITHDRAWN}),
        ItemStatus.PUBLISHED,
    ),
    "reject": (frozenset({ItemStatus.PENDING, ItemStatus.PUBLISHED}), ItemStatus.REJECTED),
    "withdraw": (frozenset({ItemStatus.PUBLISHED}), ItemStatus.WITHDRAWN),
}

# Bookkeeping fields: written with a change but left out of its audit entry (which has the actor
# and the time itself).
_UNAUDITED = frozenset(
    {"updated_at", "reviewed_by", "reviewed_at", "search_terms", *NewsItem.derived_fields}
)


async def _change_item(
    item: NewsItem,
    action: str,
    updates: dict[str, Any],
    principal: Principal,
    redis: Redis | None = None,
    *,
    guard: dict[str, Any] | None = None,
) -> NewsItem:
    """Store ``updates`` to ``item`` if it still has the status it was read with (and matches
    ``guard``; else 409), and
    audit the fields that changed (:func:`gnews.audit.changes.change_audited`): of two editors
    acting at once, one gets 409, and a re-poll changing other fields meanwhile keeps them.
    When the item is or was published, the public news cache is invalidated (``redis`` given).
    """
    read_status = item.status.value
    stored, changed = await change_audited(
        item,
        updates,
        guard={"status": read_status, **(guard or {})},
        actor=principal,
        action=f"news.{action}",
        target_type="news_item",
        unaudited=_UNAUDITED,
    )
    public = ItemStatus.PUBLISHED.value in (read_status, stored.status.value)
    if changed and redis is not None and public:
        await invalidate(redis, CACHE_NAMESPACE)
    return stored


def _off_air() -> dict[str, Any]:
    # An item leaving "published" loses its highlights, so re-approving it later does not bring
    # back a stale feature, pin or breaking push.
    return {"featured_until": None, "pinned_until": None, "breaking": False}


async def transition(
    item: NewsItem,
    action: str,
    principal: Principal,
    reason: str | None = None,
    *,
    redis: Redis | None = None,
) -> NewsItem:
    """Approve, reject or withdraw ``item``; 409 from a status the action does not apply to."""
    sources, target = TRANSITIONS[action]
    if item.status not in sources:
        allowed = ", ".join(sorted(s.value for s in sources))
        raise ConflictError(f"cannot {action} an item that is {item.status.value} (only {allowed})")
    updates: dict[str, Any] = {
        "status": target,
        "rejection_reason": reason,
        "reviewed_by": principal.id,
        "reviewed_at": utcnow(),
    }
    if target is not ItemStatus.PUBLISHED:
        updates.update(_off_air())
    return await _change_item(item, action, updates, principal, redis)


async def edit_item(
    item: NewsItem,
    changes: dict[str, Any],
    principal: Principal,
    *,
    redis: Redis | None = None,
    read_at: datetime | None = None,
) -> NewsItem:
    """An editor's corrections (title, summary, categories, provinces; only the fields sent).

    ``read_at``: the ``updated_at`` of the item the editor's form was made from; when the item
    changed since (another editor, a re-poll), 409 and nothing is written (a stale form never
    overwrites).

    Every field sent joins ``edited_fields``, so re-polls of the feed never overwrite it, with
    what is derived from it: ``province_tags`` with ``provinces``, ``search_terms`` with
    ``title`` or ``summary``. New provinces replace the tags with ``editor`` tags naming the
    editor; an empty list makes the item national. A new title or summary recomputes the search
    terms (:func:`item_search_terms`).
    """
    guard = unchanged_since(item.updated_at, read_at, STALE_ITEM)
    if not changes:
        return item
    updates: dict[str, Any] = {}
    for field in ("title", "summary", "categories"):
        if field in changes:
            updates[field] = changes[field]
    if "provinces" in changes:
        codes = list(dict.fromkeys(changes["provinces"]))
        updates["provinces"] = codes
        updates["province_tags"] = [
            ProvinceTag(code=code, reason="editor", detail=principal.id) for code in codes
        ]
        updates["reach"] = reach_of(codes)
    edited = [*item.edited_fields, *changes]
    if "provinces" in changes:
        edited.append("province_tags")
    if "title" in changes or "summary" in changes:
        updates["search_terms"] = item_search_terms(
            item, changes.get("title", item.title), changes.get("summary", item.summary)
        )
        edited.append("search_terms")
    updates["edited_fields"] = list(dict.fromkeys(edited))
    return await _change_item(item, "edit", updates, principal, redis, guard=guard)


def _require_published(item: NewsItem, what: str) -> None:
    if item.status is not ItemStatus.PUBLISHED:
        raise ConflictError(f"only published items may be {what}; this one is {item.status.value}")


HIGHLIGHTS = {"feature": "featured_until", "pin": "pinned_until"}


async def highlight(
    item: NewsItem,
    action: str,
    until: datetime | None,
    principal: Principal,
    *,
    redis: Redis | None = None,
) -> NewsItem:
    """Feature or pin ``item`` until ``until`` (published items only), or stop (``None``)."""
    field = HIGHLIGHTS[action]
    if until is None:
        return await _change_item(item, f"un{action}", {field: None}, principal, redis)
    until = check_until(until)
    _require_published(item, "featured" if action == "feature" else "pinned")
    return await _change_item(item, action, {field: until}, principal, redis)


async def set_breaking(
    item: NewsItem, breaking: bool, principal: Principal, *, redis: Redis | None = None
) -> NewsItem:
    """Mark ``item`` as breaking news (published items only), or stop."""
    if breaking:
        _require_published(item, "marked breaking")
    action = "breaking" if breaking else "unbreaking"
    return await _change_item(item, action, {"breaking": breaking}, principal, redis)

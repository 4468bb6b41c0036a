"""Managing sources: who may see and change which feed, and what a change does to its polling.

Staff (admins, editors) manage every source, an agency's principals (its users and API keys) only
their agency's; another agency's source is "not found". A plugin-declared source (``origin`` is
the plugin's name) has its feed fields owned by the plugin, which re-syncs them at start-up, so
only ``enabled`` and ``trusted`` may change through the API.
"""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from arq.connections import ArqRedis
from beanie import SortDirection

from gnews.accounts.guards import Principal
from gnews.agencies.service import check_active_agencies
from gnews.audit import service as audit
from gnews.core.clock import as_utc, utcnow
from gnews.core.errors import ConflictError, FieldError, ForbiddenError
from gnews.core.pagination import check_limit, page_by_id
from gnews.core.persistence import find_one_and_update
from gnews.core.persistence.lookup import get_or_not_found
from gnews.jobs import enqueue_poll
from gnews.sources.models import API_ORIGIN, Source


async def source_for(source_id: str, principal: Principal) -> Source:
    """The source with this id if ``principal`` may see it; 404 otherwise (also for a malformed
    id and for another agency's source, whose existence stays private)."""
    return await get_or_not_found(
        Source, source_id, "no such source", visible=lambda s: may_manage(principal, s.agency)
    )


def may_manage(principal: Principal, agency: str) -> bool:
    """Staff manage every agency's sources; an agency's principals only their own."""
    return principal.is_staff or principal.acts_for(agency)


async def list_sources(
    principal: Principal,
    *,
    agency: str | None,
    enabled: bool | None,
    cursor: str | None,
    limit: int | None,
) -> tuple[list[Source], str | None]:
    """One page of the sources ``principal`` may see (an agency: its own), in order of
    creation, optionally of one agency or by ``enabled``."""
    size = check_limit(limit)
    criteria: dict[str, Any] = {}
    if agency is not None:
        criteria["agency"] = agency
    if enabled is not None:
        criteria["enabled"] = enabled
    if not principal.is_staff:
        if agency is not None and agency != principal.agency:
            return [], None
        criteria["agency"] = principal.agency
    return await page_by_id(Source, criteria, size, cursor=cursor)


async def failing_sources(limit: int) -> tuple[list[Source], bool]:
    """Up to ``limit`` enabled sources whose last poll failed, most failures first, and whether
    there are more. Sources are few (hundreds, one per agency feed), so this reads them."""
    found = (
        await Source.find({"enabled": True, "consecutive_failures": {"$gt": 0}})
        .sort(
            [("consecutive_failures", SortDirection.DESCENDING), ("_id", SortDirection.ASCENDING)]
        )
        .limit(limit + 1)
        .to_list()
    )
    return found[:limit], len(found) > limit


async def request_poll(source: Source, redis: ArqRedis) -> bool:
    """Queue a poll of ``source`` now (the one poll job id of the source, shared with the
    scheduled polls); False when one is already queued or running. 409 when disabled."""
    if not source.enabled:
        raise ConflictError(f"source {source.slug!r} is disabled; enable it first")
    return await enqueue_poll(redis, str(source.id)) is not None


PLUGIN_MUTABLE_FIELDS = frozenset({"enabled", "trusted"})


async def create_source(values: dict[str, Any], principal: Principal) -> Source:
    """Create an API-origin source from validated ``values`` (JSON-compatible)."""
    agency = values["agency"]
    if not principal.is_staff and not principal.acts_for(agency):
        raise FieldError("agency", "not your agency")
    await check_active_agencies("agency", [agency])
    if values.get("trusted") and not principal.is_staff:
        raise ForbiddenError("only EGA staff may mark a source trusted")
    if await Source.find_one({"origin": API_ORIGIN, "slug": values["slug"]}):
        raise ConflictError(f"source {values['slug']!r} already exists")
    source = await Source(origin=API_ORIGIN, **values).insert()
    await audit.record(principal, "source.create", "source", str(source.id), after=values)
    return source


async def update_source(source: Source, changes: dict[str, Any], principal: Principal) -> Source:
    """Apply ``changes`` (validated, JSON-compatible, only the fields sent) to ``source``.

    Plugin-declared sources only take ``enabled`` and ``trusted``; a source its plugin no longer
    declares cannot be re-enabled (409). Changing ``trusted`` is for staff only (403). Enabling a
    source, changing its feed URL or shortening its interval brings its next poll forward; a new
    feed URL also forgets the conditional-request state (ETag, Last-Modified, body hash) of the
    old one.
    """
    if source.origin != API_ORIGIN:
        owned = [field for field in changes if field not in PLUGIN_MUTABLE_FIELDS]
        if owned:
            message = f"declared by plugin {source.origin}; change it in the plugin"
            raise FieldError.many(dict.fromkeys(owned, message))
    if "trusted" in changes and changes["trusted"] != source.trusted and not principal.is_staff:
        raise ForbiddenError("only EGA staff may change whether a source is trusted")
    if changes.get("enabled") and not source.enabled and not source.declared:
        raise ConflictError(
            f"source {source.slug!r} is no longer declared by plugin {source.origin}; "
            "it cannot be enabled"
        )
    changed = {key: value for key, value in changes.items() if getattr(source, key) != value}
    if not changed:
        return source
    before = {key: getattr(source, key) for key in changed}
    now = utcnow()
    updates: dict[str, Any] = {**changed, "updated_at": now}
    if "feed_url" in changed:
        updates.update(etag=None, last_modified=None, body_hash=None, next_poll_at=now)
    if changed.get("enabled"):
        updates["next_poll_at"] = now
    if "poll_interval_minutes" in changed and "next_poll_at" not in updates:
        due = as_utc(source.last_polled_at or now) + timedelta(
            minutes=changed["poll_interval_minutes"]
        )
        updates["next_poll_at"] = min(as_utc(source.next_poll_at), max(due, now))
    # Only the changed fields, guarded by what was checked: a poll finishing meanwhile keeps its
    # health fields, and a source undeclared meanwhile is not re-enabled.
    guard: dict[str, Any] = {"_id": source.id}
    if changed.get("enabled"):
        guard["declared"] = True
    stored = await find_one_and_update(Source, guard, set=updates)
    if stored is None:
        raise ConflictError(f"source {source.slug!r} changed meanwhile; reload it and retry")
    await audit.record(
        principal, "source.update", "source", str(source.id), before=before, after=changed
    )
    return stored

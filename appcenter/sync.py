"""App listings declared by plugins (``gnews_app_listings``) are upserted at start-up.

A declared listing is owned by its agency (which must exist and be active) and validated like a
listing sent to the API, and must be complete (a Thai description, at least one platform); a
declaration that fails is reported with the plugin's name and skipped. Its content is the
plugin's, re-applied at every start-up; its review state is the editors'.

- A new listing is published at once when its agency is trusted, else queued for review.
- A changed listing keeps its status, except: a published listing of an untrusted agency whose
  reviewed fields (everything but :data:`appcenter.service.LIVE_FIELDS`) changed goes back to
  review; a rejected listing that changed is reviewed again; a listing in review is published
  once its agency is trusted.
- A listing its plugin no longer declares is delisted (never deleted); declared again, it comes
  back as a new one would (published or queued).
- Listings of a plugin whose hook raised this time are left as they are.

Every change is audited with the plugin as the actor; the public catalogue's cache is
invalidated once when anything changed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

import structlog
from pydantic import ValidationError
from pymongo.errors import DuplicateKeyError
from redis.asyncio import Redis

from appcenter import service
from appcenter.models import API_ORIGIN, AppListing, ListingStatus, OwnerKind
from appcenter.validation import CONTENT_FIELDS, ListingIn, check_complete, check_links
from gnews.agencies.service import active_agency
from gnews.audit import service as audit
from gnews.core.clock import utcnow
from gnews.core.errors import ConflictError, DomainError
from gnews.core.http_cache import invalidate
from gnews.core.persistence import insert
from gnews.plugins import PluginManager
from gnews.specs import AppListingSpec

log = structlog.get_logger(__name__)

HOOK = "gnews_app_listings"


@dataclass
class ListingSyncReport:
    """What a sync did, by ``plugin/slug``."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    delisted: list[str] = field(default_factory=list)

    @property
    def changed(self) -> bool:
        """True when the sync wrote anything."""
        return bool(self.created or self.updated or self.delisted)


def plugin_actor(plugin: str) -> dict[str, Any]:
    """How a plugin appears in the audit log."""
    return {"kind": "plugin", "id": plugin, "role": None, "email": None, "agency": None}


def _validated(item: Any) -> dict[str, Any]:
    """A declaration's content, validated as the API validates a listing (raises on error)."""
    spec = AppListingSpec.model_validate(item)
    values = ListingIn.model_validate(spec.model_dump(mode="json")).model_dump(mode="json")
    values = check_links(values)
    check_complete(values)
    return values


def _error(error: DomainError) -> ValueError:
    return ValueError(error.message)


async def sync_plugin_listings(
    plugins: PluginManager, *, redis: Redis | None = None
) -> ListingSyncReport:
    """Create or update each declared listing; delist (never delete) undeclared ones.

    Listings of a plugin that failed to load, or whose hook raised this time, are left as they
    are. ``redis``: the cache to invalidate when anything changed (None: none is invalidated).
    """
    report = ListingSyncReport()
    failures_before = len(plugins.failures)
    results = plugins.answers(plugins.hook.gnews_app_listings)
    raised = plugins.failed_plugins(since=failures_before)
    declared: set[tuple[str, str]] = set()
    for result in results:
        for item in plugins.iterate(result, HOOK):
            try:
                values = _validated(item)
            except ValidationError as error:
                plugins.record_failure(result.plugin, error, HOOK)
                continue
            except DomainError as error:
                plugins.record_failure(result.plugin, _error(error), HOOK)
                continue
            slug = values["slug"]
            agency = await active_agency(values["agency"])
            if agency is None:
                plugins.record_failure(
                    result.plugin,
                    ValueError(f"listing {slug!r}: unknown agency {values['agency']!r}"),
                    HOOK,
                )
                continue
            existing = await AppListing.find_one({"slug": slug})
            if (existing is not None and existing.origin != result.plugin) or (
                result.plugin,
                slug,
            ) in declared:
                plugins.record_failure(
                    result.plugin, ValueError(f"listing {slug!r}: slug taken by another"), HOOK
                )
                continue
            declared.add((result.plugin, slug))
            await _upsert(result.plugin, values, agency.trusted, existing, report, redis)
    stale = AppListing.find({"origin": {"$nin": [API_ORIGIN, *raised]}, "declared": True})
    async for listing in stale:
        if (listing.origin, listing.slug) not in declared:
            await service.change_listing(
                listing,
                "sync_delist",
                {
                    "declared": False,
                    "status": ListingStatus.DELISTED,
                    "status_reason": f"no longer declared by plugin {listing.origin}",
                    "featured_until": None,
                },
                plugin_actor(listing.origin),
                None,
            )
            report.delisted.append(f"{listing.origin}/{listing.slug}")
            log.warning("listing no longer declared; delisted", slug=listing.slug)
    if redis is not None and report.changed:
        await invalidate(redis, service.CACHE_NAMESPACE)
    return report


def _publish_or_queue(trusted: bool) -> dict[str, Any]:
    """The status updates of a listing that its (trusted or not) agency's plugin declares
    (published, should the catalogue already have that app, is queued instead: see
    :func:`_apply`)."""
    now = utcnow()
    if trusted:
        return {"status": ListingStatus.PUBLISHED, "published_at": now, "status_reason": None}
    return _queued()


def _queued() -> dict[str, Any]:
    return {"status": ListingStatus.IN_REVIEW, "submitted_at": utcnow(), "status_reason": None}


async def _upsert(
    plugin: str,
    values: dict[str, Any],
    trusted: bool,
    listing: AppListing | None,
    report: ListingSyncReport,
    redis: Redis | None,
) -> None:
    name = f"{plugin}/{values['slug']}"
    actor = plugin_actor(plugin)
    content = {key: values[key] for key in (*CONTENT_FIELDS, "platforms")}
    content["search_terms"] = service.search_terms_of(values)
    if listing is None:
        listing = AppListing(
            origin=plugin, owner_kind=OwnerKind.AGENCY, owner_id=values["agency"], **content
        )
        listing.status = ListingStatus.DRAFT
        try:
            await insert(listing)
        except DuplicateKeyError:  # another API replica's sync created it at the same moment
            log.info("listing created by another replica meanwhile", slug=values["slug"])
            return
        await audit.record(
            actor,
            "app.sync_create",
            service.TARGET_TYPE,
            str(listing.id),
            after={key: values[key] for key in CONTENT_FIELDS},
        )
        await _apply(listing, "sync_submit", _publish_or_queue(trusted), actor)
        await service.cache_images_of(listing, redis)
        report.created.append(name)
        return
    changed = [key for key in CONTENT_FIELDS if service.content_of(listing)[key] != values[key]]
    updates: dict[str, Any] = {**content, "owner_id": values["agency"]}
    status = listing.status
    action = "sync_update"
    if not listing.declared:  # declared again after being dropped: back as a new one
        updates["declared"] = True
        updates.update(_publish_or_queue(trusted))
    elif status is ListingStatus.PUBLISHED and not trusted:
        if any(key not in service.LIVE_FIELDS for key in changed):
            updates.update(status=ListingStatus.IN_REVIEW, submitted_at=utcnow())
    elif status is ListingStatus.REJECTED and changed:
        updates.update(status=ListingStatus.IN_REVIEW, submitted_at=utcnow(), status_reason=None)
    elif status is ListingStatus.IN_REVIEW and trusted:
        updates.update(_publish_or_queue(trusted))
    before = listing.model_dump(include=set(updates))
    stored = await _apply(listing, action, updates, actor)
    if stored.model_dump(include=set(updates)) != before:
        report.updated.append(name)
    if service.image_urls_of(stored) != service.image_urls_of(listing):
        await service.cache_images_of(stored, redis)


async def _apply(
    listing: AppListing, action: str, updates: dict[str, Any], actor: dict[str, Any]
) -> AppListing:
    """Store ``updates`` (audited) and, on a first publication, tell the service; the listing
    as stored."""
    first_publication = (
        updates.get("status") is ListingStatus.PUBLISHED
        and listing.status is not ListingStatus.PUBLISHED
        and listing.published_at is None
    )
    try:
        stored = await service.change_listing(listing, action, updates, actor, None)
    except service.CatalogueConflict as error:
        # The catalogue already has this app: queue it for review instead.
        log.warning("listing queued for review", slug=listing.slug, reason=error.message)
        queued = {key: value for key, value in updates.items() if key != "published_at"}
        return await _apply(listing, action, {**queued, **_queued()}, actor)
    except ConflictError:
        # Changed meanwhile: by another API replica's sync starting at the same moment.
        log.info("listing changed by another replica meanwhile", slug=listing.slug)
        return listing
    if first_publication:
        await service.on_new_listing_published(stored)
    return stored

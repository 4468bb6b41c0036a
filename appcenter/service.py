"""The rules of GAC: who may do what to a listing, its review lifecycle, search and caching.

Who: an admin may do everything. A developer creates listings (owned by them) and manages only
those. An agency's principals (its users and API keys) create listings for their agency and
manage every listing of their agency. Editors see every listing and review them (approve,
reject, feature, delist, relist) but do not write their content. A listing someone may not see is
"not found" (404), so its existence stays private; one they may see but not change is 403.

Lifecycle (:data:`TRANSITIONS`)::

    action    from                        to         by
    submit    draft, rejected, delisted   in_review  the listing's managers
    withdraw  in_review                   draft      the listing's managers
    approve   in_review                   published  editors, admins
    reject    in_review                   rejected   editors, admins (with a reason)
    delist    published                   delisted   editors, admins, its managers (with a reason)
    relist    delisted                    published  editors, admins

Submitting needs a Thai description and at least one platform. Listings in review cannot be
edited (withdraw first). A published listing's managers may change only :data:`LIVE_FIELDS`
(descriptions, icon, screenshots, version, release notes, support contact, tags); what identifies
the app (names, slug, agency, store links, web link, privacy policy, categories, provinces) is
changed by delisting, editing and submitting again, so editors review it. Admins may edit
directly. A listing declared by a plugin has its content owned by the plugin (422 for any edit).

Every change is stored with a whole-document replace conditional on the status it was checked
against (two reviewers acting at once: one gets 409), written to the audit log as
``app.<action>`` with the changed fields before and after, and invalidates the Redis cache of
the public catalogue (namespace :data:`CACHE_NAMESPACE`) when the listing is or was published.

Search: a listing stores ``index_terms`` of its names, descriptions and tags
(:mod:`gnews.thai.text`, as news does); a query matches listings holding all of
``query_terms(q)``. Results are ordered by publication time, newest first.
"""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from typing import Any

import structlog
from arq.connections import ArqRedis
from pymongo.errors import DuplicateKeyError
from redis.asyncio import Redis

from appcenter.categories import CATEGORIES, CATEGORY_CODES
from appcenter.models import (
    API_ORIGIN,
    PUBLISHED_UNIQUE_FIELDS,
    AppListing,
    ListingStatus,
    OwnerKind,
)
from appcenter.validation import CONTENT_FIELDS, check_complete, check_links
from gnews.accounts.guards import Principal
from gnews.accounts.models import Role
from gnews.agencies.models import Agency
from gnews.agencies.service import agency_by_code, check_active_agencies
from gnews.audit import service as audit
from gnews.audit.changes import change_audited
from gnews.core.clock import utcnow
from gnews.core.concurrency import unchanged_since
from gnews.core.errors import ConflictError, FieldError, ForbiddenError
from gnews.core.highlights import check_until
from gnews.core.http_cache import invalidate
from gnews.core.pagination import check_limit, page_by_id, page_by_time
from gnews.core.persistence.lookup import get_or_not_found
from gnews.core.persistence.shapes import all_of, count
from gnews.geo.provinces import UnknownProvinceError, check_province_code
from gnews.jobs import enqueue_cache_media, images_version
from gnews.notifications import service as notifications
from gnews.notifications.message import app_deep_link
from gnews.notifications.models import Audience
from gnews.thai.text import index_terms, query_terms

log = structlog.get_logger(__name__)

CACHE_NAMESPACE = "apps"
"""The Redis response-cache namespace of the public catalogue."""

TARGET_TYPE = "app_listing"
MAX_QUERY_LENGTH = 200

SYSTEM_ACTOR = {"kind": "system", "id": "appcenter", "role": None, "email": None, "agency": None}

LIVE_FIELDS = frozenset(
    {
        "description_th",
        "description_en",
        "icon_url",
        "screenshot_urls",
        "version",
        "release_notes",
        "support_contact",
        "tags",
    }
)
"""What the managers of a published listing may change without another review."""

TRANSITIONS: dict[str, tuple[frozenset[ListingStatus], ListingStatus]] = {
    "submit": (
        frozenset({ListingStatus.DRAFT, ListingStatus.REJECTED, ListingStatus.DELISTED}),
        ListingStatus.IN_REVIEW,
    ),
    "withdraw": (frozenset({ListingStatus.IN_REVIEW}), ListingStatus.DRAFT),
    "approve": (frozenset({ListingStatus.IN_REVIEW}), ListingStatus.PUBLISHED),
    "reject": (frozenset({ListingStatus.IN_REVIEW}), ListingStatus.REJECTED),
    "delist": (frozenset({ListingStatus.PUBLISHED}), ListingStatus.DELISTED),
    "relist": (frozenset({ListingStatus.DELISTED}), ListingStatus.PUBLISHED),
}
MANAGER_ACTIONS = frozenset({"submit", "withdraw"})
STAFF_ACTIONS = frozenset({"approve", "reject", "relist"})
# "delist" is for staff and for the listing's managers (taking down one's own app).

# Bookkeeping fields: written with a change but left out of its audit entry.
_UNAUDITED = frozenset({"updated_at", "search_terms", "platforms", "reviewed_by", "reviewed_at"})

Actor = Principal | Mapping[str, Any]

# -- who may ------------------------------------------------------------------------------------


def may_manage(principal: Principal, listing: AppListing) -> bool:
    """Admins manage every listing, an agency's principals their agency's, a developer their
    own; editors manage none (they review)."""
    if principal.is_admin:
        return True
    if principal.role is Role.AGENCY:
        return principal.acts_for(listing.agency)
    if principal.role is Role.DEVELOPER:
        return listing.owner_kind is OwnerKind.DEVELOPER and listing.owner_id == principal.id
    return False


def may_see(principal: Principal, listing: AppListing) -> bool:
    """Staff see every listing; others the listings they manage."""
    return principal.is_staff or may_manage(principal, listing)


def visible_criteria(principal: Principal) -> dict[str, Any]:
    """A filter for the listings ``principal`` may see."""
    if principal.is_staff:
        return {}
    if principal.role is Role.AGENCY:
        return {"agency": principal.agency}
    return {"owner_kind": OwnerKind.DEVELOPER.value, "owner_id": principal.id}


async def listing_for(listing_id: str, principal: Principal) -> AppListing:
    """The listing with this id if ``principal`` may see it; 404 otherwise (also for a malformed
    id, another developer's listing and another agency's)."""
    return await get_or_not_found(
        AppListing, listing_id, "no such listing", visible=lambda x: may_see(principal, x)
    )


async def list_listings(
    principal: Principal,
    *,
    status: ListingStatus | None,
    agency: str | None,
    cursor: str | None,
    limit: int | None,
) -> tuple[list[AppListing], str | None]:
    """One page of the listings ``principal`` may see (:func:`visible_criteria`), newest first,
    optionally by status or agency."""
    size = check_limit(limit)
    criteria: dict[str, Any] = visible_criteria(principal)
    if status is not None:
        criteria["status"] = status.value
    if agency is not None:
        if criteria.get("agency", agency) != agency:
            return [], None
        criteria["agency"] = agency
    return await page_by_id(AppListing, criteria, size, descending=True, cursor=cursor)


async def review_queue(
    *, agency: str | None, cursor: str | None, limit: int | None
) -> tuple[list[AppListing], str | None]:
    """One page of the listings in review, first submitted first, optionally of one agency."""
    criteria: dict[str, Any] = {"status": ListingStatus.IN_REVIEW.value}
    if agency is not None:
        criteria["agency"] = agency
    return await page_by_time(
        AppListing, criteria, "submitted_at", check_limit(limit), descending=False, cursor=cursor
    )


async def count_in_review() -> int:
    """How many listings wait for review: an index-served count."""
    return await count(
        AppListing.get_pymongo_collection(), {"status": ListingStatus.IN_REVIEW.value}
    )


def _require_manager(principal: Principal, listing: AppListing) -> None:
    if not may_manage(principal, listing):
        raise ForbiddenError("only the listing's developer, agency or an admin may")


def _require_staff(principal: Principal) -> None:
    if not principal.is_staff:
        raise ForbiddenError("requires role: admin, editor")


# -- values ---------------------------------------------------------------------------------------


def search_terms_of(values: Mapping[str, Any]) -> list[str]:
    """The search terms of a listing: its names, descriptions and tags."""
    parts = [values.get(f) for f in ("name_th", "name_en", "description_th", "description_en")]
    text = "\n".join(part for part in [*parts, *values.get("tags", [])] if part)
    return index_terms(text)


def content_of(listing: AppListing) -> dict[str, Any]:
    """A listing's content fields, JSON-compatible."""
    return listing.model_dump(mode="json", include=set(CONTENT_FIELDS))


async def _check_slug_free(slug: str, listing: AppListing | None = None) -> None:
    other = await AppListing.find_one({"slug": slug})
    if other is not None and (listing is None or other.id != listing.id):
        raise ConflictError(f"slug {slug!r} is taken", fields={"slug": "already taken"})


class CatalogueConflict(ConflictError):
    """409: another published listing has the same Android package or iOS bundle id."""


async def catalogue_conflict(listing: AppListing) -> CatalogueConflict:
    """The 409 naming the field(s) for which publishing ``listing`` was refused: another
    published listing has the same Android package or iOS bundle id. The database refuses it
    (a partial unique index, see :data:`appcenter.models.PUBLISHED_UNIQUE_FIELDS`), so an
    unreviewed draft cannot squat a real app's id and two editors cannot both publish one;
    this only reads who holds it, for the message."""
    errors: dict[str, str] = {}
    for field in PUBLISHED_UNIQUE_FIELDS:
        value = getattr(listing, field)
        if value is None:
            continue
        other = await AppListing.find_one(
            {"status": ListingStatus.PUBLISHED.value, field: value, "_id": {"$ne": listing.id}}
        )
        if other is not None:
            errors[field] = f"already in the catalogue as {other.slug!r}"
    if not errors:
        return CatalogueConflict("the app is already in the catalogue")
    return CatalogueConflict("; ".join(f"{k}: {v}" for k, v in errors.items()), fields=errors)


# -- changes --------------------------------------------------------------------------------------


async def change_listing(
    listing: AppListing,
    action: str,
    updates: Mapping[str, Any],
    actor: Actor,
    redis: Redis | None,
    *,
    read_at: datetime | None = None,
) -> AppListing:
    """Store ``updates`` to ``listing`` if it still has the status it was read with (and the
    ``updated_at`` of ``read_at`` when given) (else 409;
    409 naming the field when it would publish a second listing of the same app), audit the
    changed fields as ``app.<action>`` (:func:`gnews.audit.changes.change_audited`),
    and invalidate the catalogue cache when the listing is or was published (``redis`` None:
    the caller invalidates). Nothing is written when nothing would change.
    """
    try:
        stored, changed = await change_audited(
            listing,
            updates,
            guard={
                "status": listing.status.value,
                **unchanged_since(listing.updated_at, read_at, STALE_LISTING),
            },
            actor=actor,
            action=f"app.{action}",
            target_type=TARGET_TYPE,
            unaudited=_UNAUDITED,
        )
    except DuplicateKeyError:  # a second published listing of the same app
        raise await catalogue_conflict(listing.model_copy(update=dict(updates))) from None
    published = ListingStatus.PUBLISHED
    if changed and redis is not None and published in (listing.status, stored.status):
        await invalidate(redis, CACHE_NAMESPACE)
    return stored


async def create_listing(
    values: dict[str, Any], principal: Principal, redis: Redis | None
) -> AppListing:
    """A new draft from validated, JSON-compatible ``values``.

    A developer's listing is theirs (any active agency may be named; editors check the claim);
    an agency creates listings for itself only (422 naming ``agency``); an admin's listing is
    owned by the agency it names. 409 naming ``slug`` when the slug is taken.
    """
    agency = values["agency"]
    if principal.role is Role.AGENCY and not principal.acts_for(agency):
        raise FieldError("agency", "not your agency")
    await check_active_agencies("agency", [agency])
    values = check_links(dict(values))
    await _check_slug_free(values["slug"])
    if principal.role is Role.DEVELOPER:
        owner_kind, owner_id = OwnerKind.DEVELOPER, principal.id
    else:
        owner_kind, owner_id = OwnerKind.AGENCY, agency
    listing = await AppListing(
        **values,
        owner_kind=owner_kind,
        owner_id=owner_id,
        search_terms=search_terms_of(values),
    ).insert()
    after = {key: values[key] for key in CONTENT_FIELDS if key in values}
    await audit.record(principal, "app.create", TARGET_TYPE, str(listing.id), after=after)
    await cache_images_of(listing, redis)
    return listing


def image_urls_of(listing: AppListing) -> list[str]:
    """A listing's icon, then its screenshots: the images the catalogue shows."""
    return [*([listing.icon_url] if listing.icon_url else []), *listing.screenshot_urls]


async def cache_images_of(listing: AppListing, redis: Redis | None) -> None:
    """Enqueue the caching of the listing's images (the feeds worker fetches them: the API
    never does), once per set of image URLs. A Redis failure is logged: the listing is stored,
    its images are cached with its next change."""
    urls = image_urls_of(listing)
    if not urls or not isinstance(redis, ArqRedis):
        return
    try:
        await enqueue_cache_media(redis, "app", str(listing.id), images_version(urls))
    except Exception as error:
        log.warning("image caching not enqueued", listing=listing.slug, error=repr(error))


def _merge(listing: AppListing, changes: Mapping[str, Any]) -> dict[str, Any]:
    """The listing's content with ``changes`` applied. The Android package and its Google Play
    link go together: sending one re-derives the other; clearing the App Store link clears the
    bundle id."""
    merged = {**content_of(listing), **changes}
    if ("android_package" in changes) != ("google_play_url" in changes):
        other = "google_play_url" if "android_package" in changes else "android_package"
        merged[other] = None
    if "app_store_url" in changes and changes["app_store_url"] is None:
        merged["ios_bundle_id"] = changes.get("ios_bundle_id")
    return merged


STALE_LISTING = "the listing changed meanwhile; reload it and try again"


async def update_listing(
    listing: AppListing,
    changes: dict[str, Any],
    principal: Principal,
    redis: Redis | None,
    *,
    read_at: datetime | None = None,
) -> AppListing:
    """Apply ``changes`` (validated, JSON-compatible, only the fields sent); see the module
    docstring for which fields may change in which status.

    ``read_at``: the ``updated_at`` the caller's form was read at; the change applies only if
    the listing was not changed since (else 409: never an overwrite)."""
    _require_manager(principal, listing)
    unchanged_since(listing.updated_at, read_at, STALE_LISTING)  # 409 now, before any check
    if not changes:
        return listing
    if listing.origin != API_ORIGIN:
        message = f"declared by plugin {listing.origin}; change it in the plugin"
        raise FieldError.many(dict.fromkeys(changes, message))
    if listing.status is ListingStatus.IN_REVIEW:
        raise ConflictError("the listing is in review; withdraw it to edit it")
    if listing.status is ListingStatus.PUBLISHED and not principal.is_admin:
        reviewed = [f for f in changes if f not in LIVE_FIELDS and changes[f] != _field(listing, f)]
        if reviewed:
            message = "reviewed field of a published listing: delist, edit and submit it again"
            raise ConflictError(
                f"{', '.join(reviewed)}: {message}",
                fields=dict.fromkeys(reviewed, message),
            )
    if "slug" in changes and changes["slug"] != listing.slug:
        if listing.published_at is not None:
            raise FieldError("slug", "cannot change once the listing has been published")
        await _check_slug_free(changes["slug"], listing)
    if "agency" in changes and changes["agency"] != listing.agency:
        if principal.role is Role.AGENCY and not principal.acts_for(changes["agency"]):
            raise FieldError("agency", "not your agency")
        await check_active_agencies("agency", [changes["agency"]])
    merged = check_links(_merge(listing, changes))
    updates = {key: merged[key] for key in (*CONTENT_FIELDS, "platforms")}
    updates["search_terms"] = search_terms_of(merged)
    if listing.owner_kind is OwnerKind.AGENCY:
        updates["owner_id"] = merged["agency"]
    stored = await change_listing(listing, "update", updates, principal, redis, read_at=read_at)
    if image_urls_of(stored) != image_urls_of(listing):
        await cache_images_of(stored, redis)
    return stored


def _field(listing: AppListing, field: str) -> Any:
    return content_of(listing).get(field)


def _check_transition(listing: AppListing, action: str) -> ListingStatus:
    sources, target = TRANSITIONS[action]
    if listing.status not in sources:
        allowed = ", ".join(sorted(status.value for status in sources))
        raise ConflictError(
            f"cannot {action} a listing that is {listing.status.value} (only {allowed})"
        )
    return target


async def transition(
    listing: AppListing,
    action: str,
    principal: Principal,
    redis: Redis | None,
    reason: str | None = None,
) -> AppListing:
    """Submit, withdraw, approve, reject, delist or relist ``listing``.

    403 when ``principal`` may not take this action on it, 409 from a status the action does not
    apply to (or when publishing would put a second listing of the same app in the catalogue).
    """
    if action in STAFF_ACTIONS:
        _require_staff(principal)
    elif action in MANAGER_ACTIONS or not principal.is_staff:  # delist: staff or managers
        _require_manager(principal, listing)
    target = _check_transition(listing, action)
    now = utcnow()
    updates: dict[str, Any] = {"status": target, "status_reason": reason}
    if action == "submit":
        if not listing.declared:
            raise ConflictError(
                f"listing {listing.slug!r} is no longer declared by plugin {listing.origin}"
            )
        check_complete(content_of(listing))
        updates["submitted_at"] = now
    if principal.is_staff and action != "submit" and action != "withdraw":
        updates.update(reviewed_by=principal.id, reviewed_at=now)
    first_publication = False
    if target is ListingStatus.PUBLISHED:
        if not listing.declared:
            raise ConflictError(
                f"listing {listing.slug!r} is no longer declared by plugin {listing.origin}"
            )
        first_publication = listing.published_at is None
        updates["published_at"] = now
    else:
        updates["featured_until"] = None  # a listing leaving the catalogue loses its feature
    listing = await change_listing(listing, action, updates, principal, redis)
    if first_publication:
        await on_new_listing_published(listing)
    return listing


async def feature(
    listing: AppListing, until: datetime | None, principal: Principal, redis: Redis | None
) -> AppListing:
    """Feature a published listing until ``until`` (future, at most 30 days ahead: 422 naming
    ``until``), or stop featuring it (``None``, harmless when it is not featured)."""
    _require_staff(principal)
    if until is None:
        return await change_listing(
            listing, "unfeature", {"featured_until": None}, principal, redis
        )
    until = check_until(until)
    if listing.status is not ListingStatus.PUBLISHED:
        raise ConflictError(
            f"only published listings may be featured; this one is {listing.status.value}"
        )
    return await change_listing(listing, "feature", {"featured_until": until}, principal, redis)


NEW_APP_ORIGIN = "gac.new_app"
PUSH_PLATFORMS = ("android", "ios")
NOTIFICATION_BODY_CHARS = 240


def _shorten(text: str, limit: int) -> str:
    """``text`` on one line, cut to ``limit`` characters with an ellipsis when longer."""
    line = " ".join(text.split())
    return line if len(line) <= limit else line[: limit - 1].rstrip() + "…"


def new_app_notification(listing: AppListing) -> tuple[dict[str, Any], Audience]:
    """The draft notification announcing a newly published listing: its name and the start of
    its description (English too when the listing has an English name), its icon, a deep link
    to it in the app; to its target provinces (everyone for a national app), on the phone
    platforms it has (every platform for a web-only app)."""
    values: dict[str, Any] = {
        "title_th": _shorten(f"แอปใหม่ของรัฐ: {listing.name_th}", 200),
        "body_th": _shorten(listing.description_th or listing.name_th, NOTIFICATION_BODY_CHARS),
        "image_url": listing.icon_url,
        "data": {"app_slug": listing.slug},
        "deep_link": app_deep_link(listing.slug),
    }
    if listing.name_en:
        values["title_en"] = _shorten(f"New government app: {listing.name_en}", 200)
        english = listing.description_en or listing.name_en
        values["body_en"] = _shorten(english, NOTIFICATION_BODY_CHARS)
    platforms = [p for p in listing.platforms if p in PUSH_PLATFORMS]
    audience = Audience(
        everyone=not listing.provinces, provinces=list(listing.provinces), platforms=platforms
    )
    return values, audience


async def on_new_listing_published(listing: AppListing) -> None:
    """Called once when a listing is published for the first time (by an editor, or at once by
    the plugin sync of a trusted agency).

    Records ``app.published_new`` in the audit log and writes the draft notification "new
    official app" for editors (:func:`new_app_notification`), which they edit, send or discard
    under ``/api/v1/notifications``. A failure to write the draft is logged and does not undo
    the publication.
    """
    await audit.record(
        SYSTEM_ACTOR,
        "app.published_new",
        TARGET_TYPE,
        str(listing.id),
        after={"slug": listing.slug, "agency": listing.agency, "name_th": listing.name_th},
    )
    log.info("new app published", slug=listing.slug, agency=listing.agency)
    values, audience = new_app_notification(listing)
    try:
        draft = await notifications.create_draft(values, audience, SYSTEM_ACTOR, NEW_APP_ORIGIN)
    except Exception:  # the listing is published: report the draft's failure, don't undo it
        log.exception("new app draft notification not written", slug=listing.slug)
        return
    log.info("new app draft notification written", slug=listing.slug, notification=str(draft.id))


# -- the public catalogue -------------------------------------------------------------------------


AppWithAgency = tuple[AppListing, Agency | None]
"""A published listing and the agency it belongs to (None when the agency is gone)."""


async def published_app(slug: str) -> AppWithAgency:
    """A published listing by slug with its agency; 404 for anything not published (unpublished
    listings do not exist for the public)."""
    listing = await get_or_not_found(
        AppListing, {"slug": slug, "status": ListingStatus.PUBLISHED.value}, "no such app"
    )
    return listing, (await agencies_by_code([listing.agency])).get(listing.agency)


async def apps_page(
    criteria: Mapping[str, Any], limit: int, cursor: str | None
) -> tuple[list[AppWithAgency], str | None]:
    """One page of published listings matching ``criteria`` (:func:`catalogue_criteria`),
    newest publication first, each with its agency."""
    listings, next_cursor = await page_by_time(
        AppListing, criteria, "published_at", limit, descending=True, cursor=cursor
    )
    agencies = await agencies_by_code(listing.agency for listing in listings)
    return [(listing, agencies.get(listing.agency)) for listing in listings], next_cursor


async def agency_apps_page(
    code: str, limit: int, cursor: str | None
) -> tuple[list[AppWithAgency], str | None]:
    """One page of an agency's published listings, newest first; 404 for an unknown agency."""
    await agency_by_code(code)
    return await apps_page(catalogue_criteria(agency=code), limit, cursor)


def catalogue_criteria(
    *,
    category: str | None = None,
    agency: str | None = None,
    platform: str | None = None,
    province: str | None = None,
    featured: bool | None = None,
    q: str | None = None,
) -> dict[str, Any]:
    """The filter of published listings matching the catalogue's query parameters; 422 naming a
    parameter that is not valid.

    ``province`` gives that province's listings plus national ones (no target provinces);
    ``featured`` whether the listing is featured now; ``q`` listings holding every search term
    of the query (Thai is segmented as for news; a query without terms filters nothing).
    """
    conditions: list[dict[str, Any]] = [{"status": ListingStatus.PUBLISHED.value}]
    if category is not None:
        if category not in CATEGORY_CODES:
            raise FieldError("category", f"unknown category {category!r}")
        conditions.append({"categories": category})
    if agency is not None:
        conditions.append({"agency": agency})
    if platform is not None:
        conditions.append({"platforms": platform})
    if province is not None:
        try:
            code = check_province_code(province)
        except UnknownProvinceError as error:
            raise FieldError("province", str(error)) from None
        conditions.append({"$or": [{"provinces": code}, {"provinces": {"$size": 0}}]})
    if featured is not None:
        now = utcnow()
        if featured:
            conditions.append({"featured_until": {"$gt": now}})
        else:
            conditions.append(
                {"$or": [{"featured_until": None}, {"featured_until": {"$lte": now}}]}
            )
    if q is not None:
        if len(q) > MAX_QUERY_LENGTH:
            raise FieldError("q", f"at most {MAX_QUERY_LENGTH} characters")
        terms = query_terms(q)
        if terms:
            conditions.append({"search_terms": {"$all": terms}})
    return all_of(conditions)


async def agencies_by_code(codes: Iterable[str]) -> dict[str, Agency]:
    """The agencies with these codes, by code."""
    wanted = sorted(set(codes))
    if not wanted:
        return {}
    agencies = await Agency.find({"code": {"$in": wanted}}).to_list()
    return {agency.code: agency for agency in agencies}


async def category_counts() -> list[tuple[str, str, str, int]]:
    """Each category (code, Thai name, English name) with its number of published listings."""
    counts = []
    for category in CATEGORIES:
        count = await AppListing.find(
            all_of([{"status": ListingStatus.PUBLISHED.value}, {"categories": category.code}])
        ).count()
        counts.append((category.code, category.name_th, category.name_en, count))
    return counts

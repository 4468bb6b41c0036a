"""GAC's API: ``/api/v1/gac/...`` to maintain and review listings, ``/api/v1/apps`` (and
``/api/v1/agencies/{code}/apps``) for the public catalogue.

The rules live in :mod:`appcenter.service`; these controllers validate input and shape output.
Every action on one listing has the same shape: the listing (``listing``, looked up from the
path for the caller) goes to one service function with the caller and ``redis``. Public
responses are cached in Redis (namespace ``apps``, invalidated by every change to a published
listing) and carry an ETag (``If-None-Match`` gives 304).
"""

from __future__ import annotations

from collections.abc import Callable
from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter

from appcenter import service
from appcenter.models import AppListing, ListingStatus
from appcenter.schemas import AppCategoryOut, AppOut, ListingOut, Platform
from appcenter.validation import ListingIn, ListingPatch
from gnews.accounts.guards import BEARER, BEARER_OR_API_KEY, Caller, requires
from gnews.accounts.models import Role
from gnews.core.dependencies import RedisClient
from gnews.core.http_cache import cached_json
from gnews.core.pagination import Cursor, Limit, Page, check_limit
from gnews.core.rate_limit import READS, rate_limited
from gnews.core.schemas import ReasonIn, UntilIn
from gnews.geo.provinces import ProvinceQuery
from gnews.media.controllers import media_origin

Listing = NamedDependency[AppListing]
STAFF = [requires(Role.ADMIN, Role.EDITOR, api_keys=False)]


async def provide_listing(listing_id: FromPath[str], principal: Caller) -> AppListing:
    """Dependency ``listing``: the listing named by the path if the caller may see it; 404
    otherwise (another developer's, another agency's)."""
    return await service.listing_for(listing_id, principal)


class ListingController(Controller):
    """Listings as their developers, agencies and the editors maintain and review them."""

    path = "/api/v1/gac/listings"
    tags = ["gac"]
    guards = [requires()]
    security = BEARER_OR_API_KEY
    dependencies = {"listing": Provide(provide_listing)}

    @get("/", summary="List the listings the caller may see, newest first")
    async def list_listings(
        self,
        principal: Caller,
        status: FromQuery[ListingStatus | None] = None,
        agency: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ListingOut]:
        """A developer sees their own listings, an agency its agency's, staff all of them."""
        return Page.of(
            ListingOut.from_document,
            await service.list_listings(
                principal, status=status, agency=agency, cursor=cursor, limit=limit
            ),
        )

    @post(
        "/",
        guards=[requires(Role.ADMIN, Role.AGENCY, Role.DEVELOPER)],
        summary="Create a listing (a draft)",
    )
    async def create_listing(
        self, data: JSONBody[ListingIn], principal: Caller, redis: RedisClient
    ) -> ListingOut:
        """201 with the draft. A developer's listing is theirs; an agency creates listings for
        itself only (422 naming ``agency``); editors review rather than create (403). 422 naming
        each invalid field; 409 naming ``slug`` when it is taken."""
        values = data.model_dump(mode="json")
        return ListingOut.from_document(await service.create_listing(values, principal, redis))

    @get("/{listing_id:str}", summary="One listing, with its review outcome")
    async def get_listing(self, listing: Listing) -> ListingOut:
        """404 for a listing the caller may not see (another developer's, another agency's)."""
        return ListingOut.from_document(listing)

    @patch("/{listing_id:str}", summary="Change a listing")
    async def update_listing(
        self,
        listing: Listing,
        data: JSONBody[ListingPatch],
        principal: Caller,
        redis: RedisClient,
    ) -> ListingOut:
        """Only the fields sent change. 409 while in review (withdraw first) and, except for
        admins, for fields of a published listing other than descriptions, icon, screenshots,
        version, release notes, support contact and tags; 422 for a plugin's listing."""
        changes = data.model_dump(mode="json", exclude_unset=True)
        return ListingOut.from_document(
            await service.update_listing(listing, changes, principal, redis)
        )

    @post("/{listing_id:str}/submit", summary="Submit a listing for review", status_code=200)
    async def submit(self, listing: Listing, principal: Caller, redis: RedisClient) -> ListingOut:
        """From draft, rejected or delisted to ``in_review`` (its developer, agency or an
        admin). 422 without a Thai description or any platform; 409 from another status."""
        return ListingOut.from_document(
            await service.transition(listing, "submit", principal, redis)
        )

    @post("/{listing_id:str}/withdraw", summary="Take a listing back to draft", status_code=200)
    async def withdraw(self, listing: Listing, principal: Caller, redis: RedisClient) -> ListingOut:
        """From ``in_review`` back to ``draft``, to edit it; 409 from another status."""
        return ListingOut.from_document(
            await service.transition(listing, "withdraw", principal, redis)
        )

    @post(
        "/{listing_id:str}/approve",
        guards=STAFF,
        summary="Publish a listing (editors)",
        status_code=200,
    )
    async def approve(self, listing: Listing, principal: Caller, redis: RedisClient) -> ListingOut:
        """From ``in_review``; 409 otherwise, and when another published listing has the same
        Android package or iOS bundle id."""
        return ListingOut.from_document(
            await service.transition(listing, "approve", principal, redis)
        )

    @post(
        "/{listing_id:str}/reject",
        guards=STAFF,
        summary="Reject a listing, with the reason (editors)",
        status_code=200,
    )
    async def reject(
        self, listing: Listing, data: JSONBody[ReasonIn], principal: Caller, redis: RedisClient
    ) -> ListingOut:
        """From ``in_review``; the reason is shown to the developer or agency."""
        return ListingOut.from_document(
            await service.transition(listing, "reject", principal, redis, data.reason)
        )

    @post("/{listing_id:str}/delist", summary="Take a published listing down", status_code=200)
    async def delist(
        self, listing: Listing, data: JSONBody[ReasonIn], principal: Caller, redis: RedisClient
    ) -> ListingOut:
        """Editors, or the listing's own developer or agency; from ``published`` only."""
        return ListingOut.from_document(
            await service.transition(listing, "delist", principal, redis, data.reason)
        )

    @post(
        "/{listing_id:str}/relist",
        guards=STAFF,
        summary="Publish a delisted listing again (editors)",
        status_code=200,
    )
    async def relist(self, listing: Listing, principal: Caller, redis: RedisClient) -> ListingOut:
        """From ``delisted``; 409 for a listing its plugin no longer declares."""
        return ListingOut.from_document(
            await service.transition(listing, "relist", principal, redis)
        )

    @post(
        "/{listing_id:str}/feature",
        guards=STAFF,
        summary="Feature a published listing until a time (editors)",
        status_code=200,
    )
    async def feature(
        self, listing: Listing, data: JSONBody[UntilIn], principal: Caller, redis: RedisClient
    ) -> ListingOut:
        """``until`` at most 30 days ahead (422 otherwise); 409 for a listing not published."""
        return ListingOut.from_document(
            await service.feature(listing, data.until, principal, redis)
        )

    @delete(
        "/{listing_id:str}/feature",
        guards=STAFF,
        summary="Stop featuring a listing (editors)",
        status_code=200,
    )
    async def unfeature(
        self, listing: Listing, principal: Caller, redis: RedisClient
    ) -> ListingOut:
        """Harmless when it is not featured."""
        return ListingOut.from_document(await service.feature(listing, None, principal, redis))


class ReviewQueueController(Controller):
    """What the editors have to review."""

    path = "/api/v1/gac/queue"
    tags = ["gac"]
    guards = STAFF
    security = BEARER

    @get("/", summary="Listings waiting for review, first submitted first")
    async def queue(
        self,
        agency: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ListingOut]:
        """``in_review`` listings by ``submitted_at``, optionally of one agency."""
        return Page.of(
            ListingOut.from_document,
            await service.review_queue(agency=agency, cursor=cursor, limit=limit),
        )


# -- the public catalogue -------------------------------------------------------------------------


def _app_of(request: Request) -> Callable[[service.AppWithAgency], AppOut]:
    origin = media_origin(request)
    return lambda listing_and_agency: AppOut.of(*listing_and_agency, media_origin=origin)


_PAGE_OF_APPS = {200: ResponseSpec(data_container=Page[AppOut], description="a page of apps")}


class CatalogueController(Controller):
    """The public catalogue of published government apps, for everyone."""

    path = "/api/v1/apps"
    tags = ["apps"]
    guards = [rate_limited(READS)]

    @get("/", summary="Published apps, newest first", responses=_PAGE_OF_APPS)
    async def list_apps(
        self,
        request: Request,
        redis: RedisClient,
        category: FromQuery[str | None] = None,
        agency: FromQuery[str | None] = None,
        platform: FromQuery[Platform | None] = None,
        province: ProvinceQuery = None,
        featured: FromQuery[bool | None] = None,
        q: Annotated[
            str | None,
            QueryParameter(
                description="words of the app's name or description (Thai or English)",
                max_length=service.MAX_QUERY_LENGTH,
                examples=[Example(summary="ภาษี", value="ยื่นภาษี")],
            ),
        ] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Response[bytes]:
        """Filters combine. ``province``: that province's apps plus national ones; ``q``: apps
        whose names, descriptions or tags hold every word of the query (Thai is segmented as in
        news search), newest publication first. Cached; ETag / 304."""
        size = check_limit(limit)
        criteria = service.catalogue_criteria(
            category=category,
            agency=agency,
            platform=platform,
            province=province,
            featured=featured,
            q=q,
        )

        async def build() -> Page[AppOut]:
            return Page.of(_app_of(request), await service.apps_page(criteria, size, cursor))

        return await cached_json(
            request, redis, service.CACHE_NAMESPACE, build, extra_key=(media_origin(request),)
        )

    @get(
        "/categories",
        summary="Categories with their numbers of published apps",
        responses={200: ResponseSpec(data_container=list[AppCategoryOut], description="all")},
    )
    async def list_categories(self, request: Request, redis: RedisClient) -> Response[bytes]:
        """Every category, in a fixed order, with Thai and English names. Cached; ETag / 304."""

        async def build() -> list[dict[str, Any]]:
            return [
                AppCategoryOut(code=code, name_th=th, name_en=en, count=count).model_dump()
                for code, th, en, count in await service.category_counts()
            ]

        return await cached_json(request, redis, service.CACHE_NAMESPACE, build)

    @get(
        "/{slug:str}",
        summary="One published app",
        responses={200: ResponseSpec(data_container=AppOut, description="the app")},
    )
    async def get_app(
        self, slug: FromPath[str], request: Request, redis: RedisClient
    ) -> Response[bytes]:
        """404 for anything not published. Cached; ETag / 304."""

        async def build() -> AppOut:
            return _app_of(request)(await service.published_app(slug))

        return await cached_json(
            request, redis, service.CACHE_NAMESPACE, build, extra_key=(media_origin(request),)
        )


class AgencyAppsController(Controller):
    """An agency's published apps."""

    path = "/api/v1/agencies/{code:str}/apps"
    tags = ["apps"]
    guards = [rate_limited(READS)]

    @get("/", summary="An agency's published apps, newest first", responses=_PAGE_OF_APPS)
    async def list_agency_apps(
        self,
        code: FromPath[str],
        request: Request,
        redis: RedisClient,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Response[bytes]:
        """404 for an unknown agency. Cached; ETag / 304."""
        size = check_limit(limit)

        async def build() -> Page[AppOut]:
            return Page.of(_app_of(request), await service.agency_apps_page(code, size, cursor))

        return await cached_json(
            request, redis, service.CACHE_NAMESPACE, build, extra_key=(media_origin(request),)
        )

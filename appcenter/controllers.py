"""GAC's API: ``/api/v1/gac/...`` to maintain and review listings, ``/api/v1/apps`` (and
``/api/v1/agencies/{code}/apps``) for the public catalogue.

The rules live in :mod:`appcenter.service`; these controllers validate input and shape output.
Public responses are cached in Redis (namespace ``apps``, invalidated by every change to a
published listing) and carry an ETag (``If-None-Match`` gives 304).
"""

from __future__ import annotations

from typing import Annotated, Any, Literal

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.openapi.datastructures import ResponseSpec
from litestar.openapi.spec import Example
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import AwareDatetime, BaseModel, ConfigDict, Field, StringConstraints

from appcenter import service
from appcenter.models import AppListing, ListingStatus, OwnerKind
from appcenter.validation import ListingIn, ListingPatch
from gnews.accounts.guards import BEARER, BEARER_OR_API_KEY, Principal, requires
from gnews.accounts.models import Role
from gnews.agencies.models import Agency
from gnews.core.clock import UtcDateTime
from gnews.core.highlights import is_active
from gnews.core.http_cache import cached_json
from gnews.core.pagination import Cursor, Limit, Page, check_limit, page_by_id, page_by_time
from gnews.core.rate_limit import READS, rate_limited
from gnews.geo.provinces import ProvinceQuery

Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
Platform = Literal["android", "ios", "web"]


class ListingOut(BaseModel):
    """A listing as its developer, agency and the editors see it."""

    id: str
    slug: str
    origin: str = Field(description='"api", or the name of the plugin that declares it')
    owner_kind: OwnerKind
    owner_id: str = Field(description="the developer's user id, or the agency's code")
    agency: str
    name_th: str
    name_en: str | None
    description_th: str
    description_en: str | None
    categories: list[str]
    platforms: list[str]
    android_package: str | None
    google_play_url: str | None
    ios_bundle_id: str | None
    app_store_url: str | None
    web_url: str | None
    icon_url: str | None
    screenshot_urls: list[str]
    version: str | None
    release_notes: str | None
    privacy_policy_url: str | None
    support_contact: str | None
    tags: list[str]
    provinces: list[str]
    status: ListingStatus
    status_reason: str | None = Field(description="why it was rejected or delisted")
    declared: bool = Field(description="false once its plugin no longer declares it")
    featured_until: UtcDateTime | None
    submitted_at: UtcDateTime | None
    reviewed_by: str | None
    reviewed_at: UtcDateTime | None
    published_at: UtcDateTime | None
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, listing: AppListing) -> ListingOut:
        """Convert a stored listing."""
        fields = set(cls.model_fields) - {"id"}
        return cls(id=str(listing.id), **listing.model_dump(include=fields))


class ListingReasonIn(BaseModel):
    """Why a listing is rejected or delisted (shown to its developer or agency)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class ListingUntilIn(BaseModel):
    """Until when (timezone-aware, in the future, at most 30 days ahead)."""

    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime = Field(examples=["2026-12-01T00:00:00+07:00"])


def _redis(request: Request) -> Any:
    return request.app.state.redis


class ListingController(Controller):
    """Listings as their developers, agencies and the editors maintain and review them."""

    path = "/api/v1/gac/listings"
    tags = ["gac"]
    guards = [requires()]
    security = BEARER_OR_API_KEY

    @get("/", summary="List the listings the caller may see, newest first")
    async def list_listings(
        self,
        principal: NamedDependency[Principal],
        status: FromQuery[ListingStatus | None] = None,
        agency: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ListingOut]:
        """A developer sees their own listings, an agency its agency's, staff all of them."""
        size = check_limit(limit)
        criteria: dict[str, Any] = service.visible_criteria(principal)
        if status is not None:
            criteria["status"] = status.value
        if agency is not None:
            if criteria.get("agency", agency) != agency:
                return Page(items=[])
            criteria["agency"] = agency
        listings, next_cursor = await page_by_id(
            lambda after: AppListing.find({**criteria, **after}),
            size,
            descending=True,
            cursor=cursor,
        )
        return Page(items=[ListingOut.of(x) for x in listings], next_cursor=next_cursor)

    @post(
        "/",
        guards=[requires(Role.ADMIN, Role.AGENCY, Role.DEVELOPER)],
        summary="Create a listing (a draft)",
    )
    async def create_listing(
        self, data: JSONBody[ListingIn], principal: NamedDependency[Principal], request: Request
    ) -> ListingOut:
        """201 with the draft. A developer's listing is theirs; an agency creates listings for
        itself only (422 naming ``agency``); editors review rather than create (403). 422 naming
        each invalid field; 409 naming ``slug`` when it is taken."""
        values = data.model_dump(mode="json")
        listing = await service.create_listing(values, principal, _redis(request))
        return ListingOut.of(listing)

    @get("/{listing_id:str}", summary="One listing, with its review outcome")
    async def get_listing(
        self, listing_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> ListingOut:
        """404 for a listing the caller may not see (another developer's, another agency's)."""
        return ListingOut.of(await service.listing_for(listing_id, principal))

    @patch("/{listing_id:str}", summary="Change a listing")
    async def update_listing(
        self,
        listing_id: FromPath[str],
        data: JSONBody[ListingPatch],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ListingOut:
        """Only the fields sent change. 409 while in review (withdraw first) and, except for
        admins, for fields of a published listing other than descriptions, icon, screenshots,
        version, release notes, support contact and tags; 422 for a plugin's listing."""
        listing = await service.listing_for(listing_id, principal)
        changes = data.changes()
        return ListingOut.of(
            await service.update_listing(listing, changes, principal, _redis(request))
        )

    async def _transition(
        self,
        listing_id: str,
        action: str,
        principal: Principal,
        request: Request,
        reason: str | None = None,
    ) -> ListingOut:
        listing = await service.listing_for(listing_id, principal)
        return ListingOut.of(
            await service.transition(listing, action, principal, _redis(request), reason)
        )

    @post("/{listing_id:str}/submit", summary="Submit a listing for review", status_code=200)
    async def submit(
        self, listing_id: FromPath[str], principal: NamedDependency[Principal], request: Request
    ) -> ListingOut:
        """From draft, rejected or delisted to ``in_review`` (its developer, agency or an
        admin). 422 without a Thai description or any platform; 409 from another status."""
        return await self._transition(listing_id, "submit", principal, request)

    @post("/{listing_id:str}/withdraw", summary="Take a listing back to draft", status_code=200)
    async def withdraw(
        self, listing_id: FromPath[str], principal: NamedDependency[Principal], request: Request
    ) -> ListingOut:
        """From ``in_review`` back to ``draft``, to edit it; 409 from another status."""
        return await self._transition(listing_id, "withdraw", principal, request)

    @post(
        "/{listing_id:str}/approve",
        guards=[requires(Role.ADMIN, Role.EDITOR, api_keys=False)],
        summary="Publish a listing (editors)",
        status_code=200,
    )
    async def approve(
        self, listing_id: FromPath[str], principal: NamedDependency[Principal], request: Request
    ) -> ListingOut:
        """From ``in_review``; 409 otherwise, and when another published listing has the same
        Android package or iOS bundle id."""
        return await self._transition(listing_id, "approve", principal, request)

    @post(
        "/{listing_id:str}/reject",
        guards=[requires(Role.ADMIN, Role.EDITOR, api_keys=False)],
        summary="Reject a listing, with the reason (editors)",
        status_code=200,
    )
    async def reject(
        self,
        listing_id: FromPath[str],
        data: JSONBody[ListingReasonIn],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ListingOut:
        """From ``in_review``; the reason is shown to the developer or agency."""
        return await self._transition(listing_id, "reject", principal, request, data.reason)

    @post("/{listing_id:str}/delist", summary="Take a published listing down", status_code=200)
    async def delist(
        self,
        listing_id: FromPath[str],
        data: JSONBody[ListingReasonIn],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ListingOut:
        """Editors, or the listing's own developer or agency; from ``published`` only."""
        return await self._transition(listing_id, "delist", principal, request, data.reason)

    @post(
        "/{listing_id:str}/relist",
        guards=[requires(Role.ADMIN, Role.EDITOR, api_keys=False)],
        summary="Publish a delisted listing again (editors)",
        status_code=200,
    )
    async def relist(
        self, listing_id: FromPath[str], principal: NamedDependency[Principal], request: Request
    ) -> ListingOut:
        """From ``delisted``; 409 for a listing its plugin no longer declares."""
        return await self._transition(listing_id, "relist", principal, request)

    @post(
        "/{listing_id:str}/feature",
        guards=[requires(Role.ADMIN, Role.EDITOR, api_keys=False)],
        summary="Feature a published listing until a time (editors)",
        status_code=200,
    )
    async def feature(
        self,
        listing_id: FromPath[str],
        data: JSONBody[ListingUntilIn],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ListingOut:
        """``until`` at most 30 days ahead (422 otherwise); 409 for a listing not published."""
        listing = await service.listing_for(listing_id, principal)
        return ListingOut.of(await service.feature(listing, data.until, principal, _redis(request)))

    @delete(
        "/{listing_id:str}/feature",
        guards=[requires(Role.ADMIN, Role.EDITOR, api_keys=False)],
        summary="Stop featuring a listing (editors)",
        status_code=200,
    )
    async def unfeature(
        self, listing_id: FromPath[str], principal: NamedDependency[Principal], request: Request
    ) -> ListingOut:
        """Harmless when it is not featured."""
        listing = await service.listing_for(listing_id, principal)
        return ListingOut.of(await service.feature(listing, None, principal, _redis(request)))


class ReviewQueueController(Controller):
    """What the editors have to review."""

    path = "/api/v1/gac/queue"
    tags = ["gac"]
    guards = [requires(Role.ADMIN, Role.EDITOR, api_keys=False)]
    security = BEARER

    @get("/", summary="Listings waiting for review, first submitted first")
    async def queue(
        self,
        agency: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ListingOut]:
        """``in_review`` listings by ``submitted_at``, optionally of one agency."""
        criteria: dict[str, Any] = {"status": ListingStatus.IN_REVIEW.value}
        if agency is not None:
            criteria["agency"] = agency
        listings, next_cursor = await page_by_time(
            AppListing,
            criteria,
            "submitted_at",
            check_limit(limit),
            descending=False,
            cursor=cursor,
        )
        return Page(items=[ListingOut.of(x) for x in listings], next_cursor=next_cursor)


# -- the public catalogue -------------------------------------------------------------------------


class AgencyRef(BaseModel):
    """The agency an app officially belongs to."""

    code: str
    name_th: str
    name_en: str


class AppOut(BaseModel):
    """A published app as citizens see it."""

    slug: str
    name_th: str
    name_en: str | None
    description_th: str
    description_en: str | None
    agency: AgencyRef
    categories: list[str]
    platforms: list[str] = Field(description="android, ios, web: where the app is available")
    android_package: str | None
    google_play_url: str | None
    ios_bundle_id: str | None
    app_store_url: str | None
    web_url: str | None
    icon_url: str | None
    screenshot_urls: list[str]
    version: str | None
    release_notes: str | None
    privacy_policy_url: str | None
    support_contact: str | None
    tags: list[str]
    provinces: list[str] = Field(description="target province codes; empty means national")
    featured: bool
    published_at: UtcDateTime
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, listing: AppListing, agencies: dict[str, Agency]) -> AppOut:
        """Convert a stored listing, naming its agency."""
        agency = agencies.get(listing.agency)
        ref = AgencyRef(
            code=listing.agency,
            name_th=agency.name_th if agency else listing.agency,
            name_en=agency.name_en if agency else listing.agency,
        )
        fields = set(cls.model_fields) - {"agency", "featured"}
        return cls(
            agency=ref,
            featured=is_active(listing.featured_until),
            **listing.model_dump(include=fields),
        )


class AppCategoryOut(BaseModel):
    """A category and how many published apps it has."""

    code: str
    name_th: str
    name_en: str
    count: int


async def _app_page(criteria: dict[str, Any], limit: int, cursor: str | None) -> Page[AppOut]:
    listings, next_cursor = await service.catalogue_page(criteria, limit, cursor)
    agencies = await service.agencies_by_code(listing.agency for listing in listings)
    return Page(items=[AppOut.of(x, agencies) for x in listings], next_cursor=next_cursor)


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
        return await cached_json(
            request,
            _redis(request),
            service.CACHE_NAMESPACE,
            lambda: _app_page(criteria, size, cursor),
        )

    @get(
        "/categories",
        summary="Categories with their numbers of published apps",
        responses={200: ResponseSpec(data_container=list[AppCategoryOut], description="all")},
    )
    async def list_categories(self, request: Request) -> Response[bytes]:
        """Every category, in a fixed order, with Thai and English names. Cached; ETag / 304."""

        async def build() -> list[dict[str, Any]]:
            return [
                AppCategoryOut(code=code, name_th=th, name_en=en, count=count).model_dump()
                for code, th, en, count in await service.category_counts()
            ]

        return await cached_json(request, _redis(request), service.CACHE_NAMESPACE, build)

    @get(
        "/{slug:str}",
        summary="One published app",
        responses={200: ResponseSpec(data_container=AppOut, description="the app")},
    )
    async def get_app(self, slug: FromPath[str], request: Request) -> Response[bytes]:
        """404 for anything not published. Cached; ETag / 304."""

        async def build() -> AppOut:
            listing = await service.published_listing_or_404(slug)
            return AppOut.of(listing, await service.agencies_by_code([listing.agency]))

        return await cached_json(request, _redis(request), service.CACHE_NAMESPACE, build)


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
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Response[bytes]:
        """404 for an unknown agency. Cached; ETag / 304."""
        size = check_limit(limit)

        async def build() -> Page[AppOut]:
            if await Agency.find_one(Agency.code == code) is None:
                raise NotFoundException(f"no agency {code!r}")
            return await _app_page(service.catalogue_criteria(agency=code), size, cursor)

        return await cached_json(request, _redis(request), service.CACHE_NAMESPACE, build)

"""``/api/v1/sources`` (agency feeds), ``/api/v1/editorial`` (curation) and ``/api/v1/news``.

The rules live in :mod:`gnews.news.editorial`; these controllers validate input and shape output.
"""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody, QueryParameter
from pydantic import (
    AnyHttpUrl,
    AwareDatetime,
    BaseModel,
    ConfigDict,
    Field,
    StringConstraints,
    field_validator,
)
from redis.asyncio import Redis

from gnews.accounts.guards import BEARER, BEARER_OR_API_KEY, Principal, requires
from gnews.accounts.models import Role
from gnews.clock import UtcDateTime
from gnews.errors import ConflictError
from gnews.http_cache import cached_json
from gnews.jobs import POLL_SOURCE, enqueue
from gnews.localisation import Language, choose_language
from gnews.news import editorial, feed
from gnews.news.categories import CATEGORIES
from gnews.news.feed import NewsItemOut, NewsPage
from gnews.news.models import ItemStatus, NewsItem, ProvinceTag, Source
from gnews.news.search import check_query
from gnews.pagination import Cursor, Limit, Page, check_limit, page_by_id, page_by_time
from gnews.provinces import ProvinceCode
from gnews.rate_limit import READS, rate_limited
from gnews.specs import AGENCY_CODE_PATTERN, SLUG_PATTERN

Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Categories = Annotated[list[Category], Field(max_length=20)]
PollInterval = Annotated[int, Field(ge=5, le=24 * 60)]
SourceName = Annotated[str, StringConstraints(min_length=1, max_length=200)]
Reason = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]


class _NoNulls(BaseModel):
    """A patch: omitted fields stay as they are; ``null`` is refused (these fields need a value)."""

    model_config = ConfigDict(extra="forbid")

    @field_validator("*")
    @classmethod
    def _not_null(cls, value: Any) -> Any:
        if value is None:
            raise ValueError("may be omitted but not null")
        return value


# -- sources --------------------------------------------------------------------------------------


class SourceIn(BaseModel):
    """A new feed of an agency (RSS 2.0 or Atom)."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, examples=["ega-press"])
    agency: str = Field(pattern=AGENCY_CODE_PATTERN, examples=["ega"])
    name: SourceName = Field(examples=["ข่าวประชาสัมพันธ์ สพร."])
    feed_url: AnyHttpUrl = Field(examples=["https://www.dga.or.th/feed/"])
    language: Language = "th"
    provinces: list[ProvinceCode] = Field(
        default_factory=list, description="default provinces of its items; empty means national"
    )
    categories: Categories = Field(default_factory=list)
    poll_interval_minutes: PollInterval = 30
    trusted: bool = Field(False, description="publish items at once (EGA staff only)")
    enabled: bool = True


class SourcePatch(_NoNulls):
    """Changes to a source; plugin-declared sources only take ``enabled`` and ``trusted``."""

    name: SourceName | None = None
    feed_url: AnyHttpUrl | None = None
    language: Language | None = None
    provinces: list[ProvinceCode] | None = None
    categories: Categories | None = None
    poll_interval_minutes: PollInterval | None = None
    trusted: bool | None = None
    enabled: bool | None = None


class SourceOut(BaseModel):
    """A source with the health of its polling."""

    id: str
    origin: str
    slug: str
    agency: str
    name: str
    feed_url: str
    language: str
    provinces: list[str]
    categories: list[str]
    poll_interval_minutes: int
    trusted: bool
    enabled: bool
    declared: bool
    next_poll_at: UtcDateTime
    last_polled_at: UtcDateTime | None
    last_success_at: UtcDateTime | None
    last_error: str | None
    last_error_kind: str | None
    last_error_at: UtcDateTime | None
    consecutive_failures: int
    item_count: int
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, source: Source) -> SourceOut:
        """Convert a stored source."""
        return cls(id=str(source.id), **source.model_dump(include=set(cls.model_fields) - {"id"}))


def _redis(request: Request) -> Redis:
    return request.app.state.redis


def _dedup(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class SourceController(Controller):
    """Agencies' feeds: staff manage all of them, an agency its own."""

    path = "/api/v1/sources"
    tags = ["sources"]
    guards = [requires(Role.ADMIN, Role.EDITOR, Role.AGENCY)]
    security = BEARER_OR_API_KEY

    @get("/", summary="List sources with their health")
    async def list_sources(
        self,
        principal: NamedDependency[Principal],
        agency: FromQuery[str | None] = None,
        enabled: FromQuery[bool | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[SourceOut]:
        """Sources in order of creation; an agency sees only its own."""
        size = check_limit(limit)
        criteria: dict[str, Any] = {}
        if agency is not None:
            criteria["agency"] = agency
        if enabled is not None:
            criteria["enabled"] = enabled
        if not principal.is_staff:
            if agency is not None and agency != principal.agency:
                return Page(items=[])
            criteria["agency"] = principal.agency
        sources, next_cursor = await page_by_id(
            lambda after: Source.find({**criteria, **after}), size, cursor=cursor
        )
        return Page(items=[SourceOut.of(s) for s in sources], next_cursor=next_cursor)

    @post("/", summary="Create a source")
    async def create_source(
        self, data: JSONBody[SourceIn], principal: NamedDependency[Principal]
    ) -> SourceOut:
        """An agency may create sources for itself only; ``trusted`` is for staff; 409 when the
        slug is taken."""
        values = data.model_dump(mode="json")
        values["provinces"] = _dedup(values["provinces"])
        return SourceOut.of(await editorial.create_source(values, principal))

    @get("/{source_id:str}", summary="One source")
    async def get_source(
        self, source_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> SourceOut:
        """404 for another agency's source."""
        return SourceOut.of(await editorial.source_for(source_id, principal))

    @patch("/{source_id:str}", summary="Change a source")
    async def update_source(
        self,
        source_id: FromPath[str],
        data: JSONBody[SourcePatch],
        principal: NamedDependency[Principal],
    ) -> SourceOut:
        """Only the fields sent change. A plugin's source takes only ``enabled`` and ``trusted``
        (its other fields are the plugin's); ``trusted`` is for staff."""
        source = await editorial.source_for(source_id, principal)
        changes = data.model_dump(mode="json", exclude_unset=True)
        if "provinces" in changes:
            changes["provinces"] = _dedup(changes["provinces"])
        return SourceOut.of(await editorial.update_source(source, changes, principal))

    @post("/{source_id:str}/poll", summary="Poll a source now", status_code=202)
    async def poll_source(
        self, source_id: FromPath[str], principal: NamedDependency[Principal], request: Request
    ) -> dict[str, Any]:
        """Queues a poll: ``{"queued": true}``, or ``{"queued": false, "reason": …}`` when one
        is already queued. 409 for a disabled source."""
        source = await editorial.source_for(source_id, principal)
        if not source.enabled:
            raise ConflictError(f"source {source.slug!r} is disabled; enable it first")
        job = await enqueue(
            request.app.state.redis, POLL_SOURCE, str(source.id), job_id=f"poll:{source.id}:manual"
        )
        if job is None:
            return {"queued": False, "reason": "already queued"}
        return {"queued": True}


# -- editorial ------------------------------------------------------------------------------------


class ItemOut(BaseModel):
    """A news item as editors see it (everything but its search terms)."""

    id: str
    source_id: str
    source_slug: str
    agency: str
    key: str
    title: str
    summary: str
    content_html: str
    link: str | None
    image_url: str | None
    author: str | None
    language: str
    categories: list[str]
    published_at: UtcDateTime
    date_missing: bool
    feed_updated_at: UtcDateTime | None
    content_hash: str
    provinces: list[str]
    province_tags: list[ProvinceTag]
    status: ItemStatus
    rejection_reason: str | None
    edited_fields: list[str]
    featured_until: UtcDateTime | None
    pinned_until: UtcDateTime | None
    breaking: bool
    reviewed_by: str | None
    reviewed_at: UtcDateTime | None
    fetched_at: UtcDateTime
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, item: NewsItem) -> ItemOut:
        """Convert a stored item."""
        return cls(id=str(item.id), **item.model_dump(include=set(cls.model_fields) - {"id"}))


class ReasonIn(BaseModel):
    """Why an item is rejected or withdrawn (shown to the agency)."""

    model_config = ConfigDict(extra="forbid")

    reason: Reason


class UntilIn(BaseModel):
    """Until when (timezone-aware, in the future, at most 30 days ahead)."""

    model_config = ConfigDict(extra="forbid")

    until: AwareDatetime = Field(examples=["2026-12-01T00:00:00+07:00"])


class ItemPatch(_NoNulls):
    """An editor's corrections; every field sent is kept over later re-polls of the feed."""

    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
        | None
    ) = None
    summary: str | None = Field(None, max_length=2000)
    categories: Categories | None = None
    provinces: list[ProvinceCode] | None = Field(None, description="empty means national")


class EditorialController(Controller):
    """Curation of ingested news by EGA staff."""

    path = "/api/v1/editorial"
    tags = ["editorial"]
    guards = [requires(Role.ADMIN, Role.EDITOR, api_keys=False)]
    security = BEARER

    @get("/queue", summary="Items waiting for review, oldest first")
    async def queue(
        self,
        agency: FromQuery[str | None] = None,
        source_id: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ItemOut]:
        """Pending items by ``fetched_at`` (oldest first), optionally of one agency or source."""
        criteria: dict[str, Any] = {"status": ItemStatus.PENDING.value}
        if agency is not None:
            criteria["agency"] = agency
        if source_id is not None:
            criteria["source_id"] = source_id
        items, next_cursor = await page_by_time(
            NewsItem, criteria, "fetched_at", check_limit(limit), descending=False, cursor=cursor
        )
        return Page(items=[ItemOut.of(i) for i in items], next_cursor=next_cursor)

    @get("/items", summary="Items in any status, newest first")
    async def list_items(
        self,
        status: FromQuery[ItemStatus | None] = None,
        agency: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ItemOut]:
        """By ``published_at``, newest first."""
        criteria: dict[str, Any] = {}
        if status is not None:
            criteria["status"] = status.value
        if agency is not None:
            criteria["agency"] = agency
        items, next_cursor = await page_by_time(
            NewsItem, criteria, "published_at", check_limit(limit), descending=True, cursor=cursor
        )
        return Page(items=[ItemOut.of(i) for i in items], next_cursor=next_cursor)

    @get("/items/{item_id:str}", summary="One item")
    async def get_item(self, item_id: FromPath[str]) -> ItemOut:
        """Everything about the item, including how its provinces were found and what was
        edited."""
        return ItemOut.of(await editorial.item_or_404(item_id))

    @patch("/items/{item_id:str}", summary="Edit an item")
    async def edit_item(
        self,
        item_id: FromPath[str],
        data: JSONBody[ItemPatch],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """Title, summary, categories and provinces; edits survive re-polls of the feed."""
        item = await editorial.item_or_404(item_id)
        changes = data.model_dump(exclude_unset=True)
        return ItemOut.of(
            await editorial.edit_item(item, changes, principal, redis=_redis(request))
        )

    @post("/items/{item_id:str}/approve", summary="Publish an item", status_code=200)
    async def approve(
        self,
        item_id: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """From pending, rejected or withdrawn; 409 otherwise."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.transition(item, "approve", principal, redis=_redis(request))
        )

    @post("/items/{item_id:str}/reject", summary="Reject an item", status_code=200)
    async def reject(
        self,
        item_id: FromPath[str],
        data: JSONBody[ReasonIn],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """From pending or published; 409 otherwise."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.transition(
                item, "reject", principal, data.reason, redis=_redis(request)
            )
        )

    @post("/items/{item_id:str}/withdraw", summary="Withdraw a published item", status_code=200)
    async def withdraw(
        self,
        item_id: FromPath[str],
        data: JSONBody[ReasonIn],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """From published only; 409 otherwise."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.transition(
                item, "withdraw", principal, data.reason, redis=_redis(request)
            )
        )

    @post("/items/{item_id:str}/feature", summary="Feature a published item", status_code=200)
    async def feature(
        self,
        item_id: FromPath[str],
        data: JSONBody[UntilIn],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """Until ``until``; 409 for an item that is not published."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.highlight(item, "feature", data.until, principal, redis=_redis(request))
        )

    @delete("/items/{item_id:str}/feature", summary="Stop featuring an item", status_code=200)
    async def unfeature(
        self,
        item_id: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """Harmless when it is not featured."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.highlight(item, "feature", None, principal, redis=_redis(request))
        )

    @post("/items/{item_id:str}/pin", summary="Pin a published item", status_code=200)
    async def pin(
        self,
        item_id: FromPath[str],
        data: JSONBody[UntilIn],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """Until ``until``; 409 for an item that is not published."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.highlight(item, "pin", data.until, principal, redis=_redis(request))
        )

    @delete("/items/{item_id:str}/pin", summary="Unpin an item", status_code=200)
    async def unpin(
        self, item_id: FromPath[str], principal: NamedDependency[Principal], request: Request
    ) -> ItemOut:
        """Harmless when it is not pinned."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.highlight(item, "pin", None, principal, redis=_redis(request))
        )

    @post(
        "/items/{item_id:str}/breaking", summary="Mark a published item breaking", status_code=200
    )
    async def mark_breaking(
        self,
        item_id: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """409 for an item that is not published."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.set_breaking(item, True, principal, redis=_redis(request))
        )

    @delete("/items/{item_id:str}/breaking", summary="Unmark breaking", status_code=200)
    async def unmark_breaking(
        self,
        item_id: FromPath[str],
        principal: NamedDependency[Principal],
        request: Request,
    ) -> ItemOut:
        """Harmless when it is not breaking."""
        item = await editorial.item_or_404(item_id)
        return ItemOut.of(
            await editorial.set_breaking(item, False, principal, redis=_redis(request))
        )


# -- public news ----------------------------------------------------------------------------------

_NEWS_PAGE = {200: ResponseSpec(data_container=NewsPage, description="a page of news")}
_NEWS_ITEM = {200: ResponseSpec(data_container=NewsItemOut, description="the item")}

FeaturedFirst = Annotated[
    bool,
    QueryParameter(
        description="first page only: pinned, then featured items before the rest (not with q)"
    ),
]
Since = Annotated[
    str | None,
    QueryParameter(description="only items published at or after this ISO 8601 time (with offset)"),
]
SearchQuery = Annotated[
    str | None,
    QueryParameter(
        description="search (Thai or English, up to 200 characters): items with all the words "
        "first, then those with fewer, newest first within each"
    ),
]


class CategoryOut(BaseModel):
    """A category citizens can follow."""

    code: str
    name_th: str
    name_en: str


class NewsController(Controller):
    """Published news, for everyone: cached in Redis, ETag / 304, rate-limited per client.

    See :mod:`gnews.news.feed` (order, pagination, ``featured_first``, localised ``names``,
    caching) and :mod:`gnews.news.search` (matching and ranking of ``q``).
    """

    path = "/api/v1/news"
    tags = ["news"]
    guards = [rate_limited(READS)]

    @get("/", summary="Published news, newest first; search with q", responses=_NEWS_PAGE)
    async def list_news(
        self,
        request: Request,
        province: FromQuery[str | None] = None,
        agency: FromQuery[str | None] = None,
        category: FromQuery[str | None] = None,
        lang: FromQuery[Language | None] = None,
        since: Since = None,
        q: SearchQuery = None,
        featured_first: FeaturedFirst = False,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Response[bytes]:
        """``province`` gives the news of that province plus national news; ``category`` is a
        category code, a name or a source's own label; ``lang`` keeps items written in that
        language and names things in it (else ``Accept-Language``, else Thai). 429 with
        ``Retry-After`` past the client's read budget."""
        size = check_limit(limit)
        criteria = feed.feed_criteria(
            provinces=[code] if (code := feed.check_province(province)) else [],
            category=category,
            agency=agency,
            language=lang,
            since=feed.parse_since(since),
        )
        search = check_query(q)
        language = choose_language(lang, request.headers.get("accept-language"))
        return await cached_json(
            request,
            request.app.state.redis,
            feed.CACHE_NAMESPACE,
            lambda: feed.news_page(
                criteria, size, cursor, language, q=search, featured_first=featured_first
            ),
            extra_key=(language,),
            ttl=feed.CACHE_TTL_SECONDS,
            max_age=feed.LIST_MAX_AGE,
        )

    @get(
        "/categories",
        summary="The categories devices can follow",
        cache_control=CacheControlHeader(max_age=86400, public=True),
    )
    async def list_categories(self) -> list[CategoryOut]:
        """Every category with its code (what devices follow) and Thai and English names; the
        list changes with a release, not at run time."""
        return [CategoryOut(code=c.code, name_th=c.name_th, name_en=c.name_en) for c in CATEGORIES]

    @get("/{item_id:str}", summary="One published item", responses=_NEWS_ITEM)
    async def get_news(self, item_id: FromPath[str], request: Request) -> Response[bytes]:
        """404 for anything not published. Cached; ETag / 304."""

        async def build() -> NewsItemOut:
            return NewsItemOut.of(await editorial.published_item_or_404(item_id))

        return await cached_json(
            request,
            request.app.state.redis,
            feed.CACHE_NAMESPACE,
            build,
            ttl=feed.CACHE_TTL_SECONDS,
            max_age=feed.ITEM_MAX_AGE,
        )

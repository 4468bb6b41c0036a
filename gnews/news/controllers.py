"""``/api/v1/sources`` (agency feeds), ``/api/v1/editorial`` (curation) and ``/api/v1/news``.

The rules live in :mod:`gnews.news.service`; these controllers validate input and shape output.
"""

from __future__ import annotations

from litestar import Controller, Request, Response, delete, get, patch, post
from litestar.datastructures import CacheControlHeader
from litestar.di import NamedDependency, Provide
from litestar.openapi.datastructures import ResponseSpec
from litestar.params import FromPath, FromQuery, JSONBody

from gnews.accounts.guards import BEARER, BEARER_OR_API_KEY, Caller, requires
from gnews.accounts.models import Role
from gnews.core.dependencies import RedisClient
from gnews.core.http_cache import cached_json
from gnews.core.localisation import Language, choose_language
from gnews.core.pagination import Cursor, Limit, Page, check_limit
from gnews.core.rate_limit import READS, rate_limited
from gnews.core.schemas import ReasonIn, UntilIn
from gnews.geo.provinces import ProvinceQuery
from gnews.media.controllers import media_origin
from gnews.news import feed
from gnews.news import service as editorial
from gnews.news.categories import CATEGORIES
from gnews.news.feed import NewsItemOut, NewsPage
from gnews.news.models import ItemStatus, NewsItem
from gnews.news.schemas import (
    CategoryOut,
    FeaturedFirst,
    ItemOut,
    ItemPatch,
    SearchQuery,
    Since,
)
from gnews.news.search import check_query

Item = NamedDependency[NewsItem]


async def provide_item(item_id: FromPath[str]) -> NewsItem:
    """Dependency ``item``: the news item named by the path (any status), or 404."""
    return await editorial.item_or_404(item_id)


class AgencyItemsController(Controller):
    """An agency's own news items with their review outcome (its users, its API keys, admins)."""

    path = "/api/v1/agencies/{code:str}/items"
    tags = ["editorial"]
    guards = [requires(Role.ADMIN, Role.AGENCY)]
    security = BEARER_OR_API_KEY

    @get("/", summary="An agency's items in any status, with rejection reasons, newest first")
    async def list_agency_items(
        self,
        code: FromPath[str],
        principal: Caller,
        status: FromQuery[ItemStatus | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ItemOut]:
        """By ``published_at``, newest first; ``rejection_reason`` says why an editor rejected
        or withdrew an item. Another agency's items are 404 (their agency is "not found")."""
        return Page.of(
            ItemOut.from_document,
            await editorial.items_of_agency(
                code, principal, status=status, cursor=cursor, limit=limit
            ),
        )


class EditorialController(Controller):
    """Curation of ingested news by EGA staff.

    Every action on one item has the same shape: the item (``item``, looked up from the path)
    and the caller go to one function of :mod:`gnews.news.service`, which checks, stores,
    audits and invalidates the public cache (``redis``).
    """

    path = "/api/v1/editorial"
    tags = ["editorial"]
    guards = [requires(Role.ADMIN, Role.EDITOR, api_keys=False)]
    security = BEARER
    dependencies = {"item": Provide(provide_item)}

    @get("/queue", summary="Items waiting for review, oldest first")
    async def queue(
        self,
        agency: FromQuery[str | None] = None,
        source_id: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ItemOut]:
        """Pending items by ``fetched_at`` (oldest first), optionally of one agency or source."""
        return Page.of(
            ItemOut.from_document,
            await editorial.review_queue(
                agency=agency, source_id=source_id, cursor=cursor, limit=limit
            ),
        )

    @get("/items", summary="Items in any status, newest first")
    async def list_items(
        self,
        status: FromQuery[ItemStatus | None] = None,
        agency: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[ItemOut]:
        """By ``published_at``, newest first."""
        return Page.of(
            ItemOut.from_document,
            await editorial.list_items(status=status, agency=agency, cursor=cursor, limit=limit),
        )

    @get("/items/{item_id:str}", summary="One item")
    async def get_item(self, item: Item) -> ItemOut:
        """Everything about the item, including how its provinces were found and what was
        edited."""
        return ItemOut.from_document(item)

    @patch("/items/{item_id:str}", summary="Edit an item")
    async def edit_item(
        self, item: Item, data: JSONBody[ItemPatch], principal: Caller, redis: RedisClient
    ) -> ItemOut:
        """Title, summary, categories and provinces; edits survive re-polls of the feed."""
        changes = data.model_dump(exclude_unset=True)
        return ItemOut.from_document(
            await editorial.edit_item(item, changes, principal, redis=redis)
        )

    @post("/items/{item_id:str}/approve", summary="Publish an item", status_code=200)
    async def approve(self, item: Item, principal: Caller, redis: RedisClient) -> ItemOut:
        """From pending, rejected or withdrawn; 409 otherwise."""
        return ItemOut.from_document(
            await editorial.transition(item, "approve", principal, redis=redis)
        )

    @post("/items/{item_id:str}/reject", summary="Reject an item", status_code=200)
    async def reject(
        self, item: Item, data: JSONBody[ReasonIn], principal: Caller, redis: RedisClient
    ) -> ItemOut:
        """From pending or published; 409 otherwise."""
        return ItemOut.from_document(
            await editorial.transition(item, "reject", principal, data.reason, redis=redis)
        )

    @post("/items/{item_id:str}/withdraw", summary="Withdraw a published item", status_code=200)
    async def withdraw(
        self, item: Item, data: JSONBody[ReasonIn], principal: Caller, redis: RedisClient
    ) -> ItemOut:
        """From published only; 409 otherwise."""
        return ItemOut.from_document(
            await editorial.transition(item, "withdraw", principal, data.reason, redis=redis)
        )

    @post("/items/{item_id:str}/feature", summary="Feature a published item", status_code=200)
    async def feature(
        self, item: Item, data: JSONBody[UntilIn], principal: Caller, redis: RedisClient
    ) -> ItemOut:
        """Until ``until``; 409 for an item that is not published."""
        return ItemOut.from_document(
            await editorial.highlight(item, "feature", data.until, principal, redis=redis)
        )

    @delete("/items/{item_id:str}/feature", summary="Stop featuring an item", status_code=200)
    async def unfeature(self, item: Item, principal: Caller, redis: RedisClient) -> ItemOut:
        """Harmless when it is not featured."""
        return ItemOut.from_document(
            await editorial.highlight(item, "feature", None, principal, redis=redis)
        )

    @post("/items/{item_id:str}/pin", summary="Pin a published item", status_code=200)
    async def pin(
        self, item: Item, data: JSONBody[UntilIn], principal: Caller, redis: RedisClient
    ) -> ItemOut:
        """Until ``until``; 409 for an item that is not published."""
        return ItemOut.from_document(
            await editorial.highlight(item, "pin", data.until, principal, redis=redis)
        )

    @delete("/items/{item_id:str}/pin", summary="Unpin an item", status_code=200)
    async def unpin(self, item: Item, principal: Caller, redis: RedisClient) -> ItemOut:
        """Harmless when it is not pinned."""
        return ItemOut.from_document(
            await editorial.highlight(item, "pin", None, principal, redis=redis)
        )

    @post(
        "/items/{item_id:str}/breaking", summary="Mark a published item breaking", status_code=200
    )
    async def mark_breaking(self, item: Item, principal: Caller, redis: RedisClient) -> ItemOut:
        """409 for an item that is not published."""
        return ItemOut.from_document(
            await editorial.set_breaking(item, True, principal, redis=redis)
        )

    @delete("/items/{item_id:str}/breaking", summary="Unmark breaking", status_code=200)
    async def unmark_breaking(self, item: Item, principal: Caller, redis: RedisClient) -> ItemOut:
        """Harmless when it is not breaking."""
        return ItemOut.from_document(
            await editorial.set_breaking(item, False, principal, redis=redis)
        )


# -- public news ----------------------------------------------------------------------------------

_NEWS_PAGE = {200: ResponseSpec(data_container=NewsPage, description="a page of news")}


_NEWS_ITEM = {200: ResponseSpec(data_container=NewsItemOut, description="the item")}


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
        redis: RedisClient,
        province: ProvinceQuery = None,
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
        origin = media_origin(request)
        return await cached_json(
            request,
            redis,
            feed.CACHE_NAMESPACE,
            lambda: feed.news_page(
                criteria,
                size,
                cursor,
                language,
                q=search,
                featured_first=featured_first,
                media_origin=origin,
            ),
            extra_key=(language, origin),
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
    async def get_news(
        self, item_id: FromPath[str], request: Request, redis: RedisClient
    ) -> Response[bytes]:
        """404 for anything not published. Cached; ETag / 304."""

        origin = media_origin(request)

        async def build() -> NewsItemOut:
            return NewsItemOut.from_document(
                await editorial.published_item_or_404(item_id), media_origin=origin
            )

        return await cached_json(
            request,
            redis,
            feed.CACHE_NAMESPACE,
            build,
            extra_key=(origin,),
            ttl=feed.CACHE_TTL_SECONDS,
            max_age=feed.ITEM_MAX_AGE,
        )

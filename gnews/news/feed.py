"""The citizens' news feed: which published items a request selects, in what order, and the
shape of a page (``/api/v1/news`` and a device's ``/api/v1/devices/{id}/feed``).

Order: newest ``published_at`` first, then the larger id, paged by keyset (the cursor holds the
last item's ``(published_at, id)``), so items published between two pages are neither repeated
nor skipped. With ``q`` the order is search rank instead (:mod:`gnews.news.search`).

``featured_first``: the first page (no cursor) starts with the items pinned or featured at that
moment (pinned first, then featured, each newest first; at most :data:`MAX_HIGHLIGHTS`), followed
by the newest items that are not among them; their ids travel in the cursor, so later pages
leave them out too and nothing is shown twice. It does not apply to search results.

Localisation: items are shown in the language they were written in; a page names the provinces,
agencies and categories of its items in the response's language (``lang``, else
``Accept-Language``, else Thai; see :mod:`gnews.core.localisation`) under ``names``, with ``lang``
saying which language that is.

Caching: public responses are cached in Redis under namespace :data:`CACHE_NAMESPACE` (key: path,
sorted query, response language), invalidated whenever an item that is or was published changes
(editorial actions, ingestion of trusted feeds); Cache-Control lets clients keep a list
:data:`LIST_MAX_AGE` seconds and an item :data:`ITEM_MAX_AGE`, then revalidate by ETag. What
changes without an event (a feature or pin running out, an agency's new name) shows within the
cache's TTL, :data:`CACHE_TTL_SECONDS`. A device's feed is not kept in Redis (one entry per
device would not pay off); it carries an ETag and ``Cache-Control: private``.
"""

from __future__ import annotations

import re
from collections.abc import Iterable, Mapping, Sequence
from datetime import datetime
from typing import Any, Self

from beanie import PydanticObjectId, SortDirection
from bson.errors import InvalidId
from pydantic import BaseModel, Field

from gnews.agencies.models import Agency
from gnews.core.clock import UtcDateTime, as_utc, utcnow
from gnews.core.errors import FieldError
from gnews.core.highlights import is_active
from gnews.core.localisation import Language, pick
from gnews.core.pagination import (
    Page,
    decode_cursor,
    encode_cursor,
    page_by_key,
    time_key_bound,
)
from gnews.core.persistence.shapes import all_of
from gnews.core.schemas import DocumentOut
from gnews.geo.provinces import UnknownProvinceError, check_province_code, get_province
from gnews.media.service import local_url
from gnews.news import search
from gnews.news import service as editorial
from gnews.news.categories import category_name, category_values
from gnews.news.models import NATIONAL, ItemStatus, NewsItem

CACHE_NAMESPACE = editorial.CACHE_NAMESPACE
CACHE_TTL_SECONDS = 300
LIST_MAX_AGE = 30
ITEM_MAX_AGE = 60
MAX_HIGHLIGHTS = 20
# A cursor position before every item (newest first): a sort key above any real one.
FROM_THE_TOP = "~"


class NewsItemOut(DocumentOut):
    """A published news item."""

    id: str
    title: str
    summary: str
    content_html: str
    link: str | None
    image_url: str | None = Field(description="the agency's image URL, as the feed gave it")
    image_local_url: str | None = Field(
        description="our copy of `image_url` (absolute), or null while it is not cached"
    )
    author: str | None
    agency: str
    source: str = Field(description="the source's slug")
    language: str
    categories: list[str]
    published_at: UtcDateTime
    provinces: list[str] = Field(description="province codes; empty means national")
    featured: bool
    pinned: bool
    breaking: bool

    @classmethod
    def from_document(cls, document: Any, *, media_origin: str = "", **values: Any) -> Self:
        """Convert a stored item (its highlights as whether they are active now);
        ``image_local_url`` starts with ``media_origin`` (the API: the public origin; the pages
        pass "" to link their own host's path)."""
        local = local_url(document.image_url, document.cached_images)
        return super().from_document(
            document,
            image_local_url=f"{media_origin}{local}" if local else None,
            source=document.source_slug,
            featured=is_active(document.featured_until),
            pinned=is_active(document.pinned_until),
            **values,
        )


class Names(BaseModel):
    """Names, in the response's language, of what the page's items refer to by code."""

    provinces: dict[str, str] = Field(description="province code → name")
    agencies: dict[str, str] = Field(description="agency code → name")
    categories: dict[str, str] = Field(
        description="an item category → its name, for the categories citizens can follow"
    )


class NewsPage(Page[NewsItemOut]):
    """A page of news, with the names of its provinces, agencies and categories."""

    lang: Language = Field(description="the language of `names`")
    names: Names


# -- selecting ------------------------------------------------------------------------------------


def check_province(value: str | None) -> str | None:
    """A province code from the query string, canonical; 422 naming ``province``."""
    if value is None:
        return None
    try:
        return check_province_code(value)
    except UnknownProvinceError as error:
        raise FieldError("province", str(error)) from None


_SPACED_OFFSET = re.compile(r" (\d{2}:?\d{2})$")


def parse_since(value: str | None) -> datetime | None:
    """``since`` (ISO 8601 with a UTC offset or ``Z``) as UTC; 422 naming ``since``.

    A ``+`` left unencoded in a query string arrives as a space; it is read as ``+``.
    """
    if value is None:
        return None
    text = _SPACED_OFFSET.sub(r"+\1", value.strip())
    try:
        moment = datetime.fromisoformat(text)
    except ValueError:
        raise FieldError(
            "since", "not an ISO 8601 date-time, e.g. 2026-05-01T08:00:00+07:00"
        ) from None
    if moment.tzinfo is None:
        raise FieldError("since", "needs a UTC offset or Z, e.g. 2026-05-01T08:00:00+07:00")
    return as_utc(moment)


def feed_criteria(
    *,
    provinces: Iterable[str] = (),
    category: str | None = None,
    agency: str | None = None,
    language: str | None = None,
    since: datetime | None = None,
    followed_categories: Iterable[str] = (),
    followed_agencies: Iterable[str] = (),
) -> dict[str, Any]:
    """The filter of published items for a feed.

    One flat filter on the fields the feed's indexes hold (``status``, ``reach``, ``agency``,
    ``categories``, ``sort_key``: see :class:`~gnews.news.models.NewsItem`).

    ``provinces``: items of any of them plus national items (none: every item). ``category``
    (a code, a name or a free label: :func:`~gnews.news.categories.category_values`),
    ``agency``, ``language``: equal. ``since``: published at or after it (equal times are
    kept, so a client passing its newest item's time loses nothing). ``followed_categories`` /
    ``followed_agencies``: a device's interests; an item must match one of either (none: all).
    """
    conditions: list[dict[str, Any]] = [{"status": ItemStatus.PUBLISHED.value}]
    codes = list(dict.fromkeys(provinces))
    if codes:
        conditions.append({"reach": {"$in": [*codes, NATIONAL]}})
    if category is not None:
        conditions.append({"categories": {"$in": category_values(category)}})
    if agency is not None:
        conditions.append({"agency": agency})
    if language is not None:
        conditions.append({"language": language})
    if since is not None:
        conditions.append({"sort_key": {"$gte": time_key_bound(since)}})
    interests: list[dict[str, Any]] = []
    labels = [value for code in followed_categories for value in category_values(code)]
    if labels:
        interests.append({"categories": {"$in": labels}})
    followed = list(followed_agencies)
    if followed:
        interests.append({"agency": {"$in": followed}})
    if len(interests) == 1:
        conditions.append(interests[0])
    elif interests:
        conditions.append({"$or": interests})
    return all_of(conditions)


# -- paging ---------------------------------------------------------------------------------------


def _shown_highlights(cursor: str | None) -> list[PydanticObjectId]:
    """The highlighted items a ``featured_first`` cursor says were shown on the first page."""
    if cursor is None:
        return []
    values = decode_cursor(cursor)
    if len(values) < 2:
        return []
    shown = values[1]
    try:
        if not isinstance(shown, list) or len(shown) > MAX_HIGHLIGHTS:
            raise TypeError
        return [PydanticObjectId(value) for value in shown]
    except (InvalidId, TypeError, ValueError):
        raise FieldError("cursor", "not a cursor returned by this API") from None


async def highlighted(criteria: Mapping[str, Any], at: datetime) -> list[NewsItem]:
    """Items matching ``criteria`` pinned or featured at ``at``: pinned first, then featured,
    newest first within each; at most :data:`MAX_HIGHLIGHTS`."""
    active = {"$or": [{"pinned_until": {"$gt": at}}, {"featured_until": {"$gt": at}}]}
    found = (
        await NewsItem.find(all_of([criteria, active]))
        .sort([("sort_key", SortDirection.DESCENDING)])
        .limit(MAX_HIGHLIGHTS * 5)
        .to_list()
    )

    def pinned(item: NewsItem) -> bool:
        return item.pinned_until is not None and as_utc(item.pinned_until) > at

    found.sort(key=lambda item: not pinned(item))  # stable: newest first within each group
    return found[:MAX_HIGHLIGHTS]


async def chronological_page(
    criteria: Mapping[str, Any], limit: int, cursor: str | None, *, featured_first: bool
) -> tuple[list[NewsItem], str | None]:
    """A page by publication time, highlighted items first when asked (module docstring)."""
    shown = _shown_highlights(cursor)
    first: list[NewsItem] = []
    if featured_first and cursor is None:
        first = (await highlighted(criteria, utcnow()))[:limit]  # they count toward the limit
        shown = [PydanticObjectId(item.id) for item in first]
    stream = all_of([criteria, {"_id": {"$nin": shown}}]) if shown else criteria
    if len(first) == limit:  # highlights fill the page: the next one starts from the newest
        return first, encode_cursor([FROM_THE_TOP, [str(i) for i in shown]])
    items, next_cursor = await page_by_key(
        NewsItem, stream, "sort_key", limit - len(first), descending=True, cursor=cursor
    )
    if next_cursor is not None and shown:
        next_cursor = encode_cursor([*decode_cursor(next_cursor)[:1], [str(i) for i in shown]])
    return first + items, next_cursor


async def news_items(
    criteria: Mapping[str, Any],
    limit: int,
    cursor: str | None = None,
    *,
    q: str | None = None,
    featured_first: bool = False,
) -> tuple[list[NewsItem], str | None]:
    """One page of the feed ``criteria`` select: ranked by ``q`` when given, else by time."""
    if q is not None:
        return await search.search_page(criteria, q, limit, cursor)
    return await chronological_page(criteria, limit, cursor, featured_first=featured_first)


# -- shaping --------------------------------------------------------------------------------------


async def names_of(items: Sequence[NewsItem], language: Language) -> Names:
    """The names, in ``language``, of the provinces, agencies and categories of ``items``."""
    provinces: dict[str, str] = {}
    for code in dict.fromkeys(code for item in items for code in item.provinces):
        province = get_province(code)
        if province is not None:
            provinces[code] = pick(language, province.name_th, province.name_en)
    agencies: dict[str, str] = {}
    codes = list(dict.fromkeys(item.agency for item in items))
    if codes:
        async for agency in Agency.find({"code": {"$in": codes}}):
            agencies[agency.code] = pick(language, agency.name_th, agency.name_en)
    categories: dict[str, str] = {}
    for value in dict.fromkeys(value for item in items for value in item.categories):
        name = category_name(value, language)
        if name is not None:
            categories[value] = name
    return Names(provinces=provinces, agencies=agencies, categories=categories)


async def news_page(
    criteria: Mapping[str, Any],
    limit: int,
    cursor: str | None,
    language: Language,
    *,
    q: str | None = None,
    featured_first: bool = False,
    media_origin: str,
) -> NewsPage:
    """A page of the feed, shaped for citizens (``media_origin``: see
    :meth:`NewsItemOut.from_document`)."""
    items, next_cursor = await news_items(
        criteria, limit, cursor, q=q, featured_first=featured_first
    )
    return NewsPage(
        items=[NewsItemOut.from_document(item, media_origin=media_origin) for item in items],
        next_cursor=next_cursor,
        lang=language,
        names=await names_of(items, language),
    )

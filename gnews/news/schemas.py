"""What the staff API takes and shows of news items, and the shared field types of news."""

from __future__ import annotations

from typing import Annotated

from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from pydantic import BaseModel, Field, StringConstraints

from gnews.core.clock import UtcDateTime
from gnews.core.schemas import DocumentOut, NoNullsPatch
from gnews.geo.provinces import ProvinceCode
from gnews.news.models import ItemStatus, ProvinceTag
from gnews.news.search import MAX_QUERY_LENGTH

Category = Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=50)]
Categories = Annotated[list[Category], Field(max_length=20)]

# Query parameters of the public news and of a device's feed.
FeaturedFirst = Annotated[
    bool,
    QueryParameter(
        description="first page only: pinned, then featured items before the rest (not with q)"
    ),
]
Since = Annotated[
    str | None,
    QueryParameter(
        description="only items published at or after this ISO 8601 time (with offset)",
        schema_extra={"format": "date-time"},
        examples=[Example(summary="เที่ยงคืนเวลาไทย", value="2026-11-25T00:00:00+07:00")],
    ),
]
SearchQuery = Annotated[
    str | None,
    QueryParameter(
        description="search (Thai or English, up to 200 characters): items with all the words "
        "first, then those with fewer, newest first within each",
        max_length=MAX_QUERY_LENGTH,
        examples=[Example(summary="ค่าฝุ่น", value="ฝุ่น PM2.5 เชียงใหม่")],
    ),
]


class ItemOut(DocumentOut):
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


class ItemPatch(NoNullsPatch):
    """An editor's corrections; every field sent is kept over later re-polls of the feed."""

    title: (
        Annotated[str, StringConstraints(strip_whitespace=True, min_length=1, max_length=500)]
        | None
    ) = None
    summary: str | None = Field(None, max_length=2000)
    categories: Categories | None = None
    provinces: list[ProvinceCode] | None = Field(None, description="empty means national")


class CategoryOut(BaseModel):
    """A category citizens can follow."""

    code: str
    name_th: str
    name_en: str

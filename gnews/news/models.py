"""Documents of news sources (agency feeds) and news items."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from gnews.core.clock import utcnow


class ItemStatus(StrEnum):
    """Where an item is in curation. Only ``published`` items reach citizens."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


class ProvinceTag(BaseModel):
    """A province an item concerns, and why it was tagged."""

    code: str
    reason: Literal["source", "text", "plugin", "editor"]
    detail: str | None = None  # the plugin's name, or who edited


class NewsItem(Document):
    """One news entry of a source, normalised: clean HTML, UTC date, provinces."""

    # References to other documents are hex strings, not ObjectIds (one representation for
    # every server the persistence package supports).
    source_id: str
    source_slug: str
    agency: str
    key: str  # stable per source: guid, else link, else a content hash
    title: str
    summary: str = ""
    content_html: str = ""
    link: str | None = None
    image_url: str | None = None
    author: str | None = None
    language: Literal["th", "en"] = "th"
    categories: list[str] = Field(default_factory=list)
    published_at: datetime
    date_missing: bool = False  # no usable date in the feed: published_at is the fetch time
    feed_updated_at: datetime | None = None
    content_hash: str
    provinces: list[str] = Field(default_factory=list)  # codes; empty = national
    province_tags: list[ProvinceTag] = Field(default_factory=list)
    search_terms: list[str] = Field(default_factory=list)

    status: ItemStatus = ItemStatus.PENDING
    rejection_reason: str | None = None
    edited_fields: list[str] = Field(default_factory=list)  # re-polls never overwrite these
    featured_until: datetime | None = None
    pinned_until: datetime | None = None
    breaking: bool = False
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None

    fetched_at: datetime = Field(default_factory=utcnow)
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "news_items"
        # No "_id" in compound indexes: nx-27017 rejects inserts into such collections.
        indexes = [
            IndexModel([("source_id", ASCENDING), ("key", ASCENDING)], unique=True),
            IndexModel([("status", ASCENDING), ("published_at", DESCENDING)]),
            IndexModel([("provinces", ASCENDING)]),
            IndexModel([("search_terms", ASCENDING)]),
            IndexModel([("agency", ASCENDING)]),
        ]

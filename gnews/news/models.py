"""Documents of news sources (agency feeds) and news items."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum
from typing import Literal

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from gnews.clock import utcnow

API_ORIGIN = "api"  # sources created through the API rather than declared by a plugin


class Source(Document):
    """An agency's RSS/Atom feed, with the health of its polling."""

    origin: str = API_ORIGIN  # the declaring plugin's name, or "api"
    slug: str
    agency: str
    name: str
    feed_url: str
    language: Literal["th", "en"] = "th"
    provinces: list[str] = Field(default_factory=list)  # default provinces; empty = national
    categories: list[str] = Field(default_factory=list)
    poll_interval_minutes: int = 30
    trusted: bool = False  # items are published at once instead of waiting for review
    enabled: bool = True
    declared: bool = True  # False once its plugin stops declaring it (then it is disabled)

    # Polling state and health
    next_poll_at: datetime = Field(default_factory=utcnow)
    last_polled_at: datetime | None = None
    last_success_at: datetime | None = None
    last_error: str | None = None
    last_error_kind: str | None = None
    last_error_at: datetime | None = None
    consecutive_failures: int = 0
    last_warning: str | None = None  # e.g. malformed XML that could still be read
    etag: str | None = None
    last_modified: str | None = None
    body_hash: str | None = None
    item_count: int = 0

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "sources"
        indexes = [
            IndexModel([("origin", ASCENDING), ("slug", ASCENDING)], unique=True),
            IndexModel([("enabled", ASCENDING), ("next_poll_at", ASCENDING)]),
            IndexModel([("agency", ASCENDING)]),
        ]


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

    # References to other documents are hex strings, not ObjectIds: nx-27017 (the embedded
    # server) never matches equality on an ObjectId field other than _id.
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

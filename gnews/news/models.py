"""Documents of news sources (agency feeds) and news items."""

from __future__ import annotations

from collections.abc import Iterable, Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field, model_validator
from pymongo import ASCENDING, DESCENDING, IndexModel

from gnews.core.clock import utcnow
from gnews.core.pagination import time_key
from gnews.media.service import CachedImage


class ItemStatus(StrEnum):
    """Where an item is in curation. Only ``published`` items reach citizens."""

    PENDING = "pending"
    PUBLISHED = "published"
    REJECTED = "rejected"
    WITHDRAWN = "withdrawn"


NATIONAL = "TH"
"""In ``reach``: the item is national news (it names no province), shown with every province."""


def reach_of(provinces: Iterable[str]) -> list[str]:
    """The provinces an item is shown with: its own, or :data:`NATIONAL` when it has none."""
    return list(provinces) or [NATIONAL]


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
    # Which of its image URLs (image_url, <img> of content_html) we hold (the cache_media job).
    cached_images: list[CachedImage] = Field(default_factory=list)

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

    # Derived (see derive()): kept in step on every write, filled in for older documents by
    # gnews.core.persistence.backfill.
    sort_key: str = ""  # time_key(published_at, id): the feed's order, one indexed field
    queue_key: str = ""  # time_key(fetched_at, id): the review queue's order
    reach: list[str] = Field(default_factory=list)  # reach_of(provinces)

    derived_fields: ClassVar[tuple[str, ...]] = ("sort_key", "queue_key", "reach")

    @classmethod
    def derive(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        """The derived fields of a stored item (from ``_id``, ``published_at``, ``fetched_at``,
        ``provinces``)."""
        return {
            "sort_key": time_key(document["published_at"], document["_id"]),
            "queue_key": time_key(document["fetched_at"], document["_id"]),
            "reach": reach_of(document.get("provinces") or []),
        }

    @model_validator(mode="after")
    def _derive(self) -> NewsItem:
        # A new item gets its id now, so its sort key can hold it.
        if self.id is None:
            self.id = PydanticObjectId()
        self.refresh_derived()
        return self

    def refresh_derived(self) -> dict[str, Any]:
        """Recompute the derived fields from the current values; returns them (for a ``$set``
        of changes to ``published_at`` or ``provinces``)."""
        derived = self.derive(
            {
                "_id": self.id,
                "published_at": self.published_at,
                "fetched_at": self.fetched_at,
                "provinces": self.provinces,
            }
        )
        for field, value in derived.items():
            object.__setattr__(self, field, value)
        return derived

    class Settings:
        name = "news_items"
        # MongoDB's indexes (the embedded server's variant: gnews.core.persistence.indexes).
        indexes = [
            IndexModel([("source_id", ASCENDING), ("key", ASCENDING)], unique=True),
            # the citizens' feed: all, by agency, by province (reach), by category, by term
            IndexModel([("status", ASCENDING), ("sort_key", DESCENDING), ("_id", DESCENDING)]),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("agency", ASCENDING),
                    ("sort_key", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("reach", ASCENDING),
                    ("sort_key", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("categories", ASCENDING),
                    ("sort_key", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("search_terms", ASCENDING),
                    ("sort_key", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            # staff: the review queue (oldest fetched first), items by status and/or agency
            IndexModel([("status", ASCENDING), ("queue_key", ASCENDING), ("_id", ASCENDING)]),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("agency", ASCENDING),
                    ("queue_key", ASCENDING),
                    ("_id", ASCENDING),
                ]
            ),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("source_id", ASCENDING),
                    ("queue_key", ASCENDING),
                    ("_id", ASCENDING),
                ]
            ),
            IndexModel([("sort_key", DESCENDING), ("_id", DESCENDING)]),
            IndexModel([("agency", ASCENDING), ("sort_key", DESCENDING), ("_id", DESCENDING)]),
        ]

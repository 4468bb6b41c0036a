"""The GAC listing document (collection ``apps``)."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from gnews.core.clock import utcnow
from gnews.media.service import CachedImage
from gnews.sources.models import API_ORIGIN

__all__ = ["API_ORIGIN", "PUBLISHED_UNIQUE_FIELDS", "AppListing", "ListingStatus", "OwnerKind"]


class ListingStatus(StrEnum):
    """Where a listing is in review. Only ``published`` listings reach citizens."""

    DRAFT = "draft"
    IN_REVIEW = "in_review"
    PUBLISHED = "published"
    REJECTED = "rejected"
    DELISTED = "delisted"


class OwnerKind(StrEnum):
    """Who maintains a listing: the developer who created it, or an agency."""

    DEVELOPER = "developer"
    AGENCY = "agency"


PUBLISHED_UNIQUE_FIELDS = ("android_package", "ios_bundle_id")
"""At most one published listing has a given value of each (a partial unique index)."""


class AppListing(Document):
    """A government app in the catalogue, with its review state."""

    slug: str
    origin: str = API_ORIGIN  # the declaring plugin's name, or "api"
    owner_kind: OwnerKind
    owner_id: str  # the developer's user id (hex), or the agency's code
    agency: str
    name_th: str
    name_en: str | None = None
    description_th: str = ""
    description_en: str | None = None
    categories: list[str] = Field(default_factory=list)
    platforms: list[str] = Field(default_factory=list)  # derived from the links present
    android_package: str | None = None
    google_play_url: str | None = None
    ios_bundle_id: str | None = None
    app_store_url: str | None = None
    web_url: str | None = None
    icon_url: str | None = None
    screenshot_urls: list[str] = Field(default_factory=list)
    # Which of icon_url and screenshot_urls we hold (the cache_media job; gnews.media).
    cached_images: list[CachedImage] = Field(default_factory=list)
    version: str | None = None
    release_notes: str | None = None
    privacy_policy_url: str | None = None
    support_contact: str | None = None
    tags: list[str] = Field(default_factory=list)
    provinces: list[str] = Field(default_factory=list)  # target provinces; empty = national
    search_terms: list[str] = Field(default_factory=list)

    status: ListingStatus = ListingStatus.DRAFT
    status_reason: str | None = None  # why it was rejected or delisted
    declared: bool = True  # False once its plugin stops declaring it (then it is delisted)
    featured_until: datetime | None = None
    submitted_at: datetime | None = None
    reviewed_by: str | None = None
    reviewed_at: datetime | None = None
    published_at: datetime | None = None  # the latest publication

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "apps"
        # MongoDB's indexes (the embedded server's variant: gnews.core.persistence.indexes).
        indexes = [
            IndexModel([("slug", ASCENDING)], unique=True),
            # the catalogue, newest publication first: all, by category, province or term
            IndexModel([("status", ASCENDING), ("published_at", DESCENDING), ("_id", DESCENDING)]),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("categories", ASCENDING),
                    ("published_at", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("provinces", ASCENDING),
                    ("published_at", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            IndexModel(
                [
                    ("status", ASCENDING),
                    ("search_terms", ASCENDING),
                    ("published_at", DESCENDING),
                    ("_id", DESCENDING),
                ]
            ),
            # the review queue, oldest submission first
            IndexModel([("status", ASCENDING), ("submitted_at", ASCENDING), ("_id", ASCENDING)]),
            # staff, agency and developer lists, newest (_id) first
            IndexModel([("status", ASCENDING), ("_id", DESCENDING)]),
            IndexModel([("agency", ASCENDING), ("_id", DESCENDING)]),
            IndexModel([("owner_id", ASCENDING), ("_id", DESCENDING)]),
            IndexModel([("origin", ASCENDING)]),
            IndexModel([("android_package", ASCENDING)]),
            # One published listing per app: unique among published listings only (drafts of
            # the same app may exist; publishing a second one is refused by the database).
            *(
                IndexModel(
                    [(field, ASCENDING)],
                    name=f"published_{field}",
                    unique=True,
                    partialFilterExpression={
                        "status": ListingStatus.PUBLISHED.value,
                        field: {"$type": "string"},
                    },
                )
                for field in PUBLISHED_UNIQUE_FIELDS
            ),
        ]

"""What GAC's API shows of listings and the public catalogue. What a listing's content must
look like (its input models and cross-field checks) is :mod:`appcenter.validation`, shared with
the plugin sync."""

from __future__ import annotations

from typing import Literal

from pydantic import BaseModel, Field

from appcenter.models import AppListing, ListingStatus, OwnerKind
from gnews.agencies.models import Agency
from gnews.core.clock import UtcDateTime
from gnews.core.highlights import is_active
from gnews.core.schemas import DocumentOut
from gnews.media.service import local_url

Platform = Literal["android", "ios", "web"]


class ListingOut(DocumentOut):
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


class AgencyRef(BaseModel):
    """The agency an app officially belongs to."""

    code: str
    name_th: str
    name_en: str


class AppOut(DocumentOut):
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
    icon_url: str | None = Field(description="the icon at its publisher's URL")
    icon_local_url: str | None = Field(
        description="our copy of `icon_url` (absolute), or null while it is not cached"
    )
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
    def of(cls, listing: AppListing, agency: Agency | None, media_origin: str = "") -> AppOut:
        """Convert a stored listing, naming its agency (its code when the agency is gone);
        ``icon_local_url`` starts with ``media_origin``."""
        icon = local_url(listing.icon_url, listing.cached_images)
        ref = AgencyRef(
            code=listing.agency,
            name_th=agency.name_th if agency else listing.agency,
            name_en=agency.name_en if agency else listing.agency,
        )
        return cls.from_document(
            listing,
            agency=ref,
            featured=is_active(listing.featured_until),
            icon_local_url=f"{media_origin}{icon}" if icon else None,
        )


class AppCategoryOut(BaseModel):
    """A category and how many published apps it has."""

    code: str
    name_th: str
    name_en: str
    count: int

"""Types that plugins hand to G-News through the hooks (see :mod:`gnews.hookspecs`).

They validate what a plugin declares, so a typo in a plugin is reported with the plugin's name
instead of corrupting stored data.
"""

from __future__ import annotations

from typing import Literal

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from gnews.provinces import ProvinceCode

SLUG_PATTERN = r"^[a-z0-9][a-z0-9-]{1,62}$"
AGENCY_CODE_PATTERN = r"^[a-z][a-z0-9-]{1,31}$"


class AgencySpec(BaseModel):
    """An agency a plugin speaks for. Created if missing; admins own it afterwards (names,
    trust), so a plugin never overrides what an admin decided."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    code: str = Field(pattern=AGENCY_CODE_PATTERN)
    name_th: str = Field(min_length=1, max_length=300)
    name_en: str = Field(min_length=1, max_length=300)
    website: AnyHttpUrl | None = None


class NewsSourceSpec(BaseModel):
    """A news feed an agency publishes (RSS 2.0 or Atom)."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN, description="unique within the plugin")
    agency: str = Field(pattern=AGENCY_CODE_PATTERN, description="agency code, e.g. 'ega'")
    name: str = Field(min_length=1, max_length=200)
    feed_url: AnyHttpUrl
    language: Literal["th", "en"] = "th"
    provinces: list[ProvinceCode] = Field(
        default_factory=list, description="default provinces; empty means national"
    )
    categories: list[str] = Field(default_factory=list, max_length=20)
    poll_interval_minutes: int = Field(30, ge=5, le=24 * 60)
    trusted: bool = Field(False, description="publish items at once instead of queueing them")
    enabled: bool = True


class AppListingSpec(BaseModel):
    """A government app for the GAC catalogue."""

    model_config = ConfigDict(extra="forbid", frozen=True)

    slug: str = Field(pattern=SLUG_PATTERN)
    agency: str = Field(pattern=AGENCY_CODE_PATTERN)
    name_th: str = Field(min_length=1, max_length=200)
    name_en: str | None = Field(None, max_length=200)
    description_th: str = Field("", max_length=10_000)
    description_en: str | None = Field(None, max_length=10_000)
    categories: list[str] = Field(default_factory=list, max_length=10)
    android_package: str | None = None
    google_play_url: AnyHttpUrl | None = None
    ios_bundle_id: str | None = None
    app_store_url: AnyHttpUrl | None = None
    web_url: AnyHttpUrl | None = None
    icon_url: AnyHttpUrl | None = None
    screenshot_urls: list[AnyHttpUrl] = Field(default_factory=list, max_length=20)
    privacy_policy_url: AnyHttpUrl | None = None
    support_contact: str | None = None
    tags: list[str] = Field(default_factory=list, max_length=30)
    provinces: list[ProvinceCode] = Field(default_factory=list)

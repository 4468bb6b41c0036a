"""What the API takes and shows of news sources."""

from __future__ import annotations

from typing import Annotated

from pydantic import AfterValidator, AnyHttpUrl, BaseModel, ConfigDict, Field, StringConstraints

from gnews.core.clock import UtcDateTime
from gnews.core.localisation import Language
from gnews.core.schemas import DocumentOut, NoNullsPatch
from gnews.geo.provinces import ProvinceCode
from gnews.news.schemas import Categories
from gnews.specs import AGENCY_CODE_PATTERN, SLUG_PATTERN

PollInterval = Annotated[int, Field(ge=5, le=24 * 60)]
Provinces = Annotated[list[ProvinceCode], AfterValidator(lambda codes: list(dict.fromkeys(codes)))]
"""Province codes, duplicates dropped."""
SourceName = Annotated[str, StringConstraints(min_length=1, max_length=200)]


class SourceIn(BaseModel):
    """A new feed of an agency (RSS 2.0 or Atom)."""

    model_config = ConfigDict(extra="forbid")

    slug: str = Field(pattern=SLUG_PATTERN, examples=["ega-press"])
    agency: str = Field(pattern=AGENCY_CODE_PATTERN, examples=["ega"])
    name: SourceName = Field(examples=["ข่าวประชาสัมพันธ์ สพร."])
    feed_url: AnyHttpUrl = Field(examples=["https://www.dga.or.th/feed/"])
    language: Language = "th"
    provinces: Provinces = Field(
        default_factory=list, description="default provinces of its items; empty means national"
    )
    categories: Categories = Field(default_factory=list)
    poll_interval_minutes: PollInterval = 30
    trusted: bool = Field(False, description="publish items at once (EGA staff only)")
    enabled: bool = True


class SourcePatch(NoNullsPatch):
    """Changes to a source; plugin-declared sources only take ``enabled`` and ``trusted``."""

    name: SourceName | None = None
    feed_url: AnyHttpUrl | None = None
    language: Language | None = None
    provinces: Provinces | None = None
    categories: Categories | None = None
    poll_interval_minutes: PollInterval | None = None
    trusted: bool | None = None
    enabled: bool | None = None


class SourceOut(DocumentOut):
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

"""What the API takes and shows of agencies."""

from __future__ import annotations

from typing import ClassVar

from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from gnews.core.clock import UtcDateTime
from gnews.core.schemas import DocumentOut, NoNullsPatch
from gnews.specs import AGENCY_CODE_PATTERN


class AgencyIn(BaseModel):
    """A new agency."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=AGENCY_CODE_PATTERN, examples=["ega"])
    name_th: str = Field(min_length=1, max_length=300, examples=["สำนักงานพัฒนารัฐบาลดิจิทัล"])
    name_en: str = Field(
        min_length=1, max_length=300, examples=["Digital Government Development Agency"]
    )
    website: AnyHttpUrl | None = None
    trusted: bool = False


class AgencyPatch(NoNullsPatch):
    """Changes to an agency; omitted fields stay as they are. ``null`` clears ``website``; it
    is refused for the others."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"website"})

    name_th: str | None = Field(None, min_length=1, max_length=300)
    name_en: str | None = Field(None, min_length=1, max_length=300)
    website: AnyHttpUrl | None = None
    trusted: bool | None = None
    active: bool | None = None


class AgencyOut(DocumentOut):
    """An agency as the API shows it."""

    code: str
    name_th: str
    name_en: str
    website: str | None
    trusted: bool
    active: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime

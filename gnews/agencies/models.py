"""The agency document."""

from __future__ import annotations

from datetime import datetime

from beanie import Document, Indexed
from pydantic import Field

from gnews.core.clock import utcnow


class Agency(Document):
    """A government agency, e.g. ``ega``, the Electronic Government Agency."""

    code: Indexed(str, unique=True)  # type: ignore[valid-type]
    name_th: str
    name_en: str
    website: str | None = None
    trusted: bool = False  # its plugins' GAC listings are published without review
    active: bool = True
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "agencies"

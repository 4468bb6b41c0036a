"""The source document: an agency's news feed and the health of its polling."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document
from pydantic import Field
from pymongo import ASCENDING, IndexModel

from gnews.core.clock import utcnow

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
    # A poll's lease (database clock): another poll of this source (the worker's, the CLI's)
    # is skipped until the poll ends or this time passes.
    polling_until: datetime | None = None

    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "sources"
        indexes = [
            IndexModel([("origin", ASCENDING), ("slug", ASCENDING)], unique=True),
            IndexModel([("enabled", ASCENDING), ("next_poll_at", ASCENDING)]),
            IndexModel([("agency", ASCENDING), ("_id", ASCENDING)]),  # lists, in _id order
            IndexModel([("enabled", ASCENDING), ("_id", ASCENDING)]),
        ]

"""The stored images and the pairs that link an item's or a listing's image URLs to them."""

from __future__ import annotations

from datetime import datetime
from typing import Literal

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, IndexModel

from gnews.core.clock import utcnow

MEDIA_ID_PATTERN = r"^[0-9a-f]{64}$"
ContentType = Literal["image/jpeg", "image/png", "image/gif", "image/webp"]


class CachedImage(BaseModel):
    """One image URL of an item or listing whose bytes we hold (a list of these, not a dict keyed
    by URL: MongoDB field names cannot hold dots)."""

    url: str
    media_id: str = Field(pattern=MEDIA_ID_PATTERN)


class MediaObject(Document):
    """An image, keyed by the SHA-256 of its bytes (the same image of two items is stored once).

    ``content_type`` is what Pillow decoded, never what the remote server claimed.
    """

    id: str = Field(alias="_id", pattern=MEDIA_ID_PATTERN)  # type: ignore[assignment]  # SHA-256
    content_type: ContentType
    size: int = Field(ge=1)
    width: int = Field(ge=1)
    height: int = Field(ge=1)
    data: bytes  # BinData; at most GNEWS_MEDIA_MAX_BYTES (default 5 MiB, < 16 MB a document)
    source_url: str  # the first URL it was fetched from
    fetched_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "media"
        # Looked up by _id only; fetched_at for finding old images (retention, operations).
        indexes = [IndexModel([("fetched_at", ASCENDING)])]

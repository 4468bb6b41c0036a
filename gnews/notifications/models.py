"""Documents of push notifications and of each device's inbox.

The push issue fills them (fan-out writes one :class:`InboxEntry` per targeted device and bumps
the :class:`Notification`'s counters); the citizen API reads the inbox and records opens.

nx-27017 notes: references are hex strings (equality on non-``_id`` ObjectIds never matches
there); counters change with ``$inc``; times are written by replacing the whole document
(``gnews.db.store_changes``), since ``$set`` of a datetime stores a string there. That is why an
open is claimed with ``$inc`` on :attr:`InboxEntry.opens` and its time stored afterwards.
"""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document
from pydantic import BaseModel, Field
from pymongo import ASCENDING, DESCENDING, IndexModel

from gnews.clock import utcnow


class NotificationStatus(StrEnum):
    """Where a notification is in sending."""

    DRAFT = "draft"
    QUEUED = "queued"
    SENDING = "sending"
    SENT = "sent"
    CANCELLED = "cancelled"
    FAILED = "failed"


class NotificationStats(BaseModel):
    """Counters, changed only with ``$inc`` (``stats.<name>``)."""

    targeted: int = 0  # devices the fan-out matched (inbox entries written)
    sent: int = 0  # accepted by FCM / APNs
    failed: int = 0
    opened: int = 0  # devices that opened it (each counted once)


class Notification(Document):
    """A push message: Thai text, optionally English, and data for the app."""

    title_th: str
    title_en: str | None = None
    body_th: str
    body_en: str | None = None
    data: dict[str, str] = Field(default_factory=dict)  # FCM data values must be strings
    news_item_id: str | None = None
    status: NotificationStatus = NotificationStatus.DRAFT
    stats: NotificationStats = Field(default_factory=NotificationStats)
    created_by: str | None = None  # the principal's id
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("created_at", DESCENDING)]),
            IndexModel([("status", ASCENDING)]),
        ]


class InboxEntry(Document):
    """A notification a device was targeted by (one per device and notification)."""

    device_id: str
    notification_id: str
    created_at: datetime = Field(default_factory=utcnow)  # when it was sent to this device
    opens: int = 0  # 0 until the first open claims it with $inc (then 1: see the module doc)
    opened_at: datetime | None = None

    class Settings:
        name = "inbox_entries"
        # No "_id" in compound indexes: nx-27017 rejects inserts into such collections.
        indexes = [
            IndexModel([("device_id", ASCENDING), ("notification_id", ASCENDING)], unique=True),
            IndexModel([("device_id", ASCENDING), ("created_at", DESCENDING)]),
        ]


def stats_field(name: str) -> str:
    """The dotted field of a counter, for ``$inc`` (e.g. ``stats.opened``)."""
    if name not in NotificationStats.model_fields:
        raise ValueError(f"no counter {name!r}")
    return f"stats.{name}"

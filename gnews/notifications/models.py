"""Documents of push notifications, their push batches, and each device's inbox.

A :class:`Notification` is what staff send: texts, an :class:`Audience`, when to send it and
until when, and live counters. The fan-out job (``workers/jobs/fanout.py``) cuts the matching
devices into :class:`PushBatch` documents (at most 500 tokens, one platform and one language
each); send jobs (``workers/jobs/send.py``) claim a batch with a lease, send it and write one
:class:`InboxEntry` per device reached. The rules of those state changes are in
:mod:`gnews.notifications.lifecycle`; ``docs/operations.md`` tells the whole story.

References to other documents are hex strings. A notification and its batches are changed by
many jobs at once, so they are only ever changed with guarded partial updates
(:mod:`gnews.core.persistence`), never replaced. Times are datetimes (UTC); leases are measured
on the database's clock (:func:`gnews.core.persistence.database_now`). An open is claimed with
one conditional update of :attr:`InboxEntry.opens` and :attr:`InboxEntry.opened_at`.
"""

from __future__ import annotations

import re
from collections.abc import Mapping
from datetime import datetime
from enum import StrEnum
from typing import Any, ClassVar, Literal

from beanie import Document, PydanticObjectId
from pydantic import BaseModel, Field, model_validator
from pymongo import ASCENDING, DESCENDING, IndexModel

from gnews.core.clock import utcnow
from gnews.core.pagination import time_key


class NotificationStatus(StrEnum):
    """Where a notification is in sending.

    ``draft`` (written, by staff or by the system, e.g. GAC's "new official app"; nothing is
    sent until staff send it, which makes it ``scheduled``; it may be edited, or discarded by
    cancelling it) → ``scheduled`` (waiting for ``send_at``) → ``fanning_out`` (devices being
    cut into batches, the first batches already sending) → ``sending`` (every batch written)
    → ``done`` (every batch sent), or ``failed`` (every batch sent and not one device reached),
    ``cancelled`` (by staff) or ``expired`` (``expires_at`` passed before every batch was
    sent).
    """

    DRAFT = "draft"
    SCHEDULED = "scheduled"
    FANNING_OUT = "fanning_out"
    SENDING = "sending"
    DONE = "done"
    CANCELLED = "cancelled"
    EXPIRED = "expired"
    FAILED = "failed"


ACTIVE_STATUSES = (
    NotificationStatus.SCHEDULED,
    NotificationStatus.FANNING_OUT,
    NotificationStatus.SENDING,
)
"""Statuses from which a notification may still send, be cancelled or expire."""

CANCELLABLE_STATUSES = (NotificationStatus.DRAFT, *ACTIVE_STATUSES)
"""Statuses from which staff may cancel a notification (a draft is discarded that way)."""


class Audience(BaseModel):
    """Who gets a notification: active devices matching every dimension given (a device matches
    a dimension when it follows, or is, any of its values). ``everyone`` drops the province,
    region, category and agency dimensions; platforms and languages still narrow it."""

    everyone: bool = False
    provinces: list[str] = Field(default_factory=list)  # province codes
    regions: list[str] = Field(default_factory=list)  # region codes: all their provinces
    categories: list[str] = Field(default_factory=list)  # category codes followed
    agencies: list[str] = Field(default_factory=list)  # agency codes followed
    platforms: list[str] = Field(default_factory=list)  # platform names: android, ios, huawei…
    languages: list[str] = Field(default_factory=list)  # th, en (the device's language)


class NotificationStats(BaseModel):
    """Counters, changed with ``$inc`` while sending (``stats.<name>``) and set to the exact
    totals of the batches once every batch is settled (``Notification.settled``)."""

    targeted: int = 0  # devices the fan-out matched (put in a batch)
    sent: int = 0  # accepted by FCM / APNs
    failed: int = 0  # not delivered (after the transport's retries), invalid tokens included
    failed_by_reason: dict[str, int] = Field(default_factory=dict)  # see reason_key()
    deactivated: int = 0  # devices deactivated because the gateway refused their token for good
    skipped: int = 0  # targeted but never sent: cancelled or expired before their batch went
    opened: int = 0  # devices that opened it (each counted once)
    # Devices sent to, by each province they follow (a device following two provinces counts
    # in both): $inc'd per batch by the send job, summed over the batches once settled.
    sent_by_province: dict[str, int] = Field(default_factory=dict)
    # Devices sent to per second of the database's clock (epoch-second keys): $inc'd once per
    # batch pass, so at most one key per batch pass (live only: not re-summed at the end).
    sent_by_second: dict[str, int] = Field(default_factory=dict)
    # Opens per hour (epoch-second key of the hour's start): at most 24 keys a day of opens.
    opened_by_hour: dict[str, int] = Field(default_factory=dict)


class Notification(Document):
    """A push message: Thai text, optionally English, data for the app, and its delivery."""

    title_th: str
    title_en: str | None = None
    body_th: str
    body_en: str | None = None
    data: dict[str, str] = Field(default_factory=dict)  # FCM data values must be strings
    news_item_id: str | None = None
    deep_link: str | None = None
    image_url: str | None = None
    priority: Literal["high", "normal"] = "high"
    audience: Audience = Field(default_factory=Audience)
    agency: str | None = None  # the news item's agency: its agency users may see this one
    status: NotificationStatus = NotificationStatus.SCHEDULED
    send_at: datetime | None = None  # None while a draft: the times are given when it is sent
    expires_at: datetime | None = None  # nothing is sent from then on
    started_at: datetime | None = None  # the fan-out first claimed it
    finished_at: datetime | None = None  # done, failed, cancelled or expired
    fanout_runs: int = 0  # claims of the fan-out (part of the fan-out job id)
    fanout_lease_until: datetime | None = None  # a fan-out past it is presumed dead
    batches_total: int = 0  # batches written by the fan-out
    batches_done: int = 0  # batches sent (a hint: "all done" is confirmed on the batches)
    settled: bool = False  # terminal, and ``stats`` are the exact totals of the batches
    stats: NotificationStats = Field(default_factory=NotificationStats)
    created_by: str | None = None  # the principal's id; None when the system wrote it
    origin: str | None = None  # what wrote it when not staff: "gac.new_app"
    created_at: datetime = Field(default_factory=utcnow)

    class Settings:
        name = "notifications"
        indexes = [
            IndexModel([("created_at", DESCENDING)]),
            # staff lists, newest (_id) first: all, by status, by agency, by both
            IndexModel([("status", ASCENDING), ("_id", DESCENDING)]),
            IndexModel([("agency", ASCENDING), ("_id", DESCENDING)]),
            IndexModel([("agency", ASCENDING), ("status", ASCENDING), ("_id", DESCENDING)]),
            IndexModel([("settled", ASCENDING)]),
        ]


class BatchStatus(StrEnum):
    """Where a push batch is: waiting for a send job, leased by one, sent, or never to be sent."""

    PENDING = "pending"
    CLAIMED = "claimed"
    DONE = "done"
    CANCELLED = "cancelled"


class BatchResult(BaseModel):
    """What became of a batch's devices (``$inc`` as they are sent; a deferred batch adds up
    over its passes)."""

    sent: int = 0
    failed: int = 0
    deactivated: int = 0
    failed_by_reason: dict[str, int] = Field(default_factory=dict)
    sent_by_province: dict[str, int] = Field(default_factory=dict)  # as the notification's


class BatchFailure(BaseModel):
    """A device of the batch that was not reached, and why (the gateway's reason)."""

    device_id: str
    reason: str | None = None
    deactivated: bool = False  # the gateway refused its token for good


class PushBatch(Document):
    """Up to 500 devices of one platform and one message language, sent by one send job.

    ``seq`` numbers a notification's batches in the order the fan-out wrote them; the unique
    ``(notification_id, seq)`` makes a re-run of the fan-out unable to write a batch twice.
    ``device_ids`` and ``tokens`` are emptied once the batch is settled (``size`` stays).
    """

    notification_id: str
    seq: int
    platform: str
    language: Literal["th", "en"] = "th"
    device_ids: list[str]  # hex ids, in the order of ``tokens``
    tokens: list[str]
    size: int  # devices targeted by this batch
    last_device_id: str  # hex id of its last device: where a re-run of the fan-out resumes
    status: BatchStatus = BatchStatus.PENDING
    lease_until: datetime | None = None  # a claim past it is presumed dead
    attempts: int = 0  # claims so far (part of the send job id)
    not_before: datetime | None = None  # enqueued for then (deferred after a Retry-After)
    deferrals: int = 0
    result: BatchResult = Field(default_factory=BatchResult)
    failures: list[BatchFailure] = Field(default_factory=list)  # per device not reached

    class Settings:
        name = "push_batches"
        indexes = [
            IndexModel([("notification_id", ASCENDING), ("seq", ASCENDING)], unique=True),
            IndexModel([("status", ASCENDING)]),
        ]


class InboxEntry(Document):
    """A notification sent to a device (one per device and notification)."""

    device_id: str
    notification_id: str
    created_at: datetime = Field(default_factory=utcnow)  # when it was sent to this device
    opens: int = 0  # 0 until the first open claims it (then 1: see the module doc)
    opened_at: datetime | None = None
    # Derived: time_key(created_at, id), the inbox's order as one indexed field (written with
    # the entry; filled in for older entries by gnews.core.persistence.backfill).
    sort_key: str = ""

    derived_fields: ClassVar[tuple[str, ...]] = ("sort_key",)

    @classmethod
    def derive(cls, document: Mapping[str, Any]) -> dict[str, Any]:
        """The derived fields of a stored entry (from ``_id`` and ``created_at``)."""
        return {"sort_key": time_key(document["created_at"], document["_id"])}

    @model_validator(mode="after")
    def _derive(self) -> InboxEntry:
        # A new entry gets its id now, so its sort key can hold it.
        if self.id is None:
            self.id = PydanticObjectId()
        object.__setattr__(self, "sort_key", time_key(self.created_at, self.id))
        return self

    class Settings:
        name = "inbox_entries"
        # MongoDB's indexes (the embedded server's variant: gnews.core.persistence.indexes).
        indexes = [
            IndexModel([("device_id", ASCENDING), ("notification_id", ASCENDING)], unique=True),
            IndexModel([("device_id", ASCENDING), ("sort_key", DESCENDING), ("_id", DESCENDING)]),
            IndexModel([("created_at", ASCENDING)]),  # retention (workers/jobs/retention.py)
        ]


def stats_field(name: str) -> str:
    """The dotted field of a counter, for ``$inc`` (e.g. ``stats.opened``)."""
    if name not in NotificationStats.model_fields:
        raise ValueError(f"no counter {name!r}")
    return f"stats.{name}"


_NOT_KEY = re.compile(r"[^A-Za-z0-9_]+")
_WORD = re.compile(r"^[A-Za-z_]+$")


def reason_key(reason: str | None) -> str:
    """A failure reason as a key of ``failed_by_reason``: the gateway's code (the text before
    ``:``, e.g. ``UNREGISTERED``, ``BadDeviceToken``), or for a transport's own message its
    leading words (``cannot connect to 10.0.0.1:443`` → ``cannot_connect_to``); only
    ``A-Z a-z 0-9 _`` (it becomes part of a dotted field name), at most 64 characters."""
    code = (reason or "").split(":", 1)[0].strip()
    words = code.split()
    if len(words) > 1:
        leading = []
        for word in words:
            if not _WORD.match(word):
                break
            leading.append(word)
        code = "_".join(leading) or code
    return _NOT_KEY.sub("_", code).strip("_")[:64] or "unknown"

"""Notifications: creating, previewing, listing and cancelling them (staff and agencies), and a
device's inbox of the notifications it was sent, with recording that it opened one.

Creating a notification writes it and enqueues its fan-out job by name (``gnews.jobs``): the
API never sends a push itself. A notification to send now is enqueued at once, a scheduled one
for its ``send_at``; should Redis lose the job, the worker's reconciler starts it when due.
Who may: admins and editors any notification; an agency's users only one about a news item of
their agency (``news_item_id`` is then required; 403 without it, 404 for another agency's item),
and they see only their agency's notifications.

Inbox: a device's inbox lists the notifications sent to it (the send job writes the entries).

Opening is idempotent and counted once, also when the app sends it twice at the same moment:
the first call claims the entry with one conditional update (``opens`` from 0 to 1 and
``opened_at``: only one caller can match ``opens: 0``), then bumps the notification's
``stats.opened`` with ``$inc``. Should the process die between those steps, the count is off by
at most that one open.
"""

from __future__ import annotations

import time
from collections.abc import Callable, Sequence
from datetime import UTC, datetime
from typing import Any

import structlog
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gnews.accounts.guards import Principal
from gnews.agencies.service import check_active_agencies
from gnews.audit import service as audit
from gnews.core.clock import utcnow
from gnews.core.errors import ConflictError, FieldError, ForbiddenError, NotFoundError
from gnews.core.pagination import page_by_id, page_by_key
from gnews.core.persistence import find_one_and_update, object_id, update_one
from gnews.core.persistence.lookup import get_or_not_found
from gnews.core.persistence.shapes import count_by
from gnews.devices.models import Device
from gnews.devices.platforms import push_platforms
from gnews.jobs import FANOUT, enqueue, fanout_job_id
from gnews.news.models import ItemStatus, NewsItem
from gnews.notifications import lifecycle
from gnews.notifications.audience import audience_platforms, device_filter
from gnews.notifications.message import MAX_TTL_SECONDS, deep_link
from gnews.notifications.models import (
    CANCELLABLE_STATUSES,
    Audience,
    InboxEntry,
    Notification,
    NotificationStatus,
    stats_field,
)
from gnews.specs import PushMessage

log = structlog.get_logger(__name__)

MAX_SCHEDULE_AHEAD = 30 * 86_400  # send_at at most 30 days ahead
SEND_AT_SLACK = 60  # a send_at this much in the past is taken as "now" (clocks differ)
DEFAULT_TTL = 86_400  # expires a day after send_at unless told otherwise
MAX_TTL = MAX_TTL_SECONDS


async def inbox_page(
    device_id: str, limit: int, cursor: str | None = None
) -> tuple[list[tuple[InboxEntry, Notification]], str | None]:
    """A page of the device's inbox, newest first, each entry with its notification (entries
    whose notification is gone are left out)."""
    entries, next_cursor = await page_by_key(
        InboxEntry, {"device_id": device_id}, "sort_key", limit, descending=True, cursor=cursor
    )
    return await _with_notifications(entries), next_cursor


async def _with_notifications(
    entries: Sequence[InboxEntry],
) -> list[tuple[InboxEntry, Notification]]:
    ids = [oid for e in entries if (oid := object_id(e.notification_id)) is not None]
    found: dict[str, Notification] = {}
    if ids:
        found = {str(n.id): n for n in await Notification.find({"_id": {"$in": ids}}).to_list()}
    return [(e, found[e.notification_id]) for e in entries if e.notification_id in found]


async def record_open(device_id: str, notification_id: str) -> bool:
    """Record that the device opened the notification; True when this call counted it (the
    first open). 404 when the notification is not in the device's inbox."""
    entry = await get_or_not_found(
        InboxEntry,
        {"device_id": device_id, "notification_id": notification_id},
        "no such notification in this device's inbox",
    )
    first = await update_one(
        InboxEntry, {"_id": entry.id, "opens": 0}, inc={"opens": 1}, set={"opened_at": utcnow()}
    )
    oid = object_id(notification_id)
    if first and oid is not None:
        hour = int(time.time()) // 3600 * 3600
        await update_one(
            Notification,
            {"_id": oid},
            inc={stats_field("opened"): 1, f"{stats_field('opened_by_hour')}.{hour}": 1},
        )
    return first


# -- notifications as staff send them -------------------------------------------------------------


async def _news_item_for(item_id: str, principal: Principal) -> NewsItem:
    """The published news item a notification links to; see the module docstring for who."""
    oid = object_id(item_id)
    item = await NewsItem.get(oid) if oid is not None else None
    if not principal.is_staff and (item is None or not principal.acts_for(item.agency)):
        raise NotFoundError("no such news item")
    if item is None:
        raise FieldError("news_item_id", "no such news item")
    if item.status is not ItemStatus.PUBLISHED:
        raise FieldError("news_item_id", "the news item is not published")
    return item


def _epoch(value: datetime | None, default: float) -> float:
    return value.timestamp() if value is not None else default


def _moment(epoch_seconds: float) -> datetime:
    # Milliseconds, as BSON keeps them: the answer now is what a read answers later.
    return datetime.fromtimestamp(round(epoch_seconds, 3), UTC)


def _check_times(values: dict[str, Any], at: float) -> tuple[datetime, datetime]:
    """(send_at, expires_at), checked (module constants); ``at`` is now in epoch seconds."""
    send_at = _epoch(values.get("send_at"), at)
    if send_at < at - SEND_AT_SLACK:
        raise FieldError("send_at", "is in the past")
    if send_at > at + MAX_SCHEDULE_AHEAD:
        raise FieldError("send_at", "at most 30 days ahead")
    send_at = max(send_at, at)
    ttl = values.get("ttl_seconds")
    if ttl is not None and values.get("expires_at") is not None:
        raise FieldError("ttl_seconds", "give expires_at or ttl_seconds, not both")
    expires_at = _epoch(values.get("expires_at"), send_at + (ttl or DEFAULT_TTL))
    if expires_at <= send_at:
        raise FieldError("expires_at", "must be after send_at")
    if expires_at > send_at + MAX_TTL:
        raise FieldError("expires_at", "at most 28 days after send_at")
    return _moment(send_at), _moment(expires_at)


def _check_payload(values: dict[str, Any], audience: Audience) -> None:
    """422 when the texts or data do not fit a platform the audience may reach, by that
    platform's declared limits (:class:`gnews.specs.PushPlatform`): a title or body longer than
    it takes names that text; a payload over its ``max_payload_bytes`` names ``data``, measured
    with the platform's own payload builder (APNs's for ``ios``) on the largest message the
    texts and data can make."""
    registry = push_platforms()
    for name in audience_platforms(audience):
        platform = registry.get(name)
        if platform is None:  # a stored audience naming a platform no longer loaded
            continue
        for language in ("th", "en"):
            for text, limit in (
                ("title", platform.max_title_chars),
                ("body", platform.max_body_chars),
            ):
                value = values.get(f"{text}_{language}")
                if value and len(value) > limit:
                    raise FieldError(
                        f"{text}_{language}",
                        f"at most {limit} characters for {platform.label_en} devices",
                    )
        if platform.payload_bytes is None or platform.max_payload_bytes is None:
            continue
        for language in ("th", "en"):
            size = platform.payload_bytes(_largest_message(values, language))
            if values.get("image_url") is None:  # room for an image (APNs's mutable-content too)
                size += len(',"mutable-content":1,"image_url":""')
            if size > platform.max_payload_bytes:
                raise FieldError(
                    "data",
                    f"texts and data take {size} bytes; at most {platform.max_payload_bytes} "
                    f"for {platform.label_en} devices",
                )


def _largest_message(values: dict[str, Any], language: str) -> PushMessage:
    """The largest push message ``values`` can make in ``language``, only to be measured."""
    data = dict(values.get("data", {}))
    data["news_item_id"] = values.get("news_item_id") or ""
    return PushMessage.model_construct(  # already validated: only measured
        notification_id="0" * 24,
        title=values.get(f"title_{language}") or values["title_th"],
        body=values.get(f"body_{language}") or values["body_th"],
        data=data,
        image_url=values.get("image_url") or None,
        deep_link=values.get("deep_link") or "",
        ttl_seconds=0,
        priority="high",
        language="en" if language == "en" else "th",
    )


CONTENT_FIELDS = ("title_th", "title_en", "body_th", "body_en", "image_url", "priority", "data")
TIME_FIELDS = ("send_at", "expires_at", "ttl_seconds")


def _check_english(fields: dict[str, Any]) -> None:
    """422 naming the missing one unless the English title and body are both given or both
    absent (a device reading English gets both, or the Thai texts)."""
    if (fields.get("title_en") is None) != (fields.get("body_en") is None):
        missing = "body_en" if fields.get("body_en") is None else "title_en"
        raise FieldError(missing, "is required with the other English text")


def _content(values: dict[str, Any]) -> dict[str, Any]:
    """The texts, image, priority and data of ``values``, checked (English pairs, payload)."""
    fields = {key: values.get(key) for key in CONTENT_FIELDS}
    fields["priority"] = fields["priority"] or "high"
    fields["data"] = dict(fields["data"] or {})
    _check_english(fields)
    return fields


async def create_notification(
    values: dict[str, Any], principal: Principal, redis: Redis | None
) -> Notification:
    """Create a notification from validated ``values`` and start or schedule its sending; with
    ``draft`` true, store it as a draft instead (its times are given when it is sent: 422 naming
    ``send_at``, ``expires_at`` or ``ttl_seconds`` when one comes with a draft)."""
    at = time.time()
    news_item_id = values.get("news_item_id")
    if not principal.is_staff and not news_item_id:
        raise ForbiddenError(
            "agency users may only send notifications about their agency's news items"
        )
    audience = Audience.model_validate(values["audience"])
    await check_active_agencies("audience.agencies", audience.agencies)
    item = await _news_item_for(news_item_id, principal) if news_item_id else None
    draft = bool(values.get("draft"))
    if draft:
        if given := [name for name in TIME_FIELDS if values.get(name) is not None]:
            raise FieldError(given[0], "is given when the draft is sent, not with the draft")
        send_at = expires_at = None
    else:
        send_at, expires_at = _check_times(values, at)
    fields = _content(values)
    if item is not None:
        fields.update(
            news_item_id=str(item.id),
            deep_link=deep_link(str(item.id)),
            agency=item.agency,
        )
    _check_payload(fields, audience)
    notification = await _insert(
        fields,
        audience,
        principal,
        status=NotificationStatus.DRAFT if draft else NotificationStatus.SCHEDULED,
        send_at=send_at,
        expires_at=expires_at,
    )
    if redis is not None and not draft:
        await start_fanout(redis, notification)
    return notification


async def create_draft(
    values: dict[str, Any], audience: Audience, actor: dict[str, Any], origin: str
) -> Notification:
    """A draft written by the system (``origin`` says what wrote it, ``actor`` is its audit
    actor): texts and the rest as in :func:`create_notification`, plus ``deep_link``. Staff
    edit it, send it or discard it; nothing is sent before."""
    fields = {**_content(values), "deep_link": values.get("deep_link")}
    _check_payload(fields, audience)
    return await _insert(fields, audience, actor, status=NotificationStatus.DRAFT, origin=origin)


async def _insert(
    fields: dict[str, Any],
    audience: Audience,
    actor: Principal | dict[str, Any],
    *,
    status: NotificationStatus,
    send_at: datetime | None = None,
    expires_at: datetime | None = None,
    origin: str | None = None,
) -> Notification:
    """Store a new notification (checked ``fields``) and audit it as created or drafted."""
    created_at = utcnow()
    notification = await Notification(
        **fields,
        audience=audience,
        status=status,
        send_at=send_at,
        expires_at=expires_at,
        created_by=actor.id if isinstance(actor, Principal) else None,
        origin=origin,
        # BSON keeps milliseconds: the answer now is what a read answers later.
        created_at=created_at.replace(microsecond=created_at.microsecond // 1000 * 1000),
    ).insert()
    draft = status is NotificationStatus.DRAFT
    await audit.record(
        actor,
        "notification.draft" if draft else "notification.create",
        "notification",
        str(notification.id),
        after={**fields, "audience": audience.model_dump(), "send_at": send_at, "origin": origin},
    )
    return notification


async def _draft_for(notification_id: str, principal: Principal) -> Notification:
    """The draft if ``principal`` may see it; 404 as :func:`notification_for`, 409 when it is
    no longer a draft."""
    notification = await notification_for(notification_id, principal)
    if notification.status is not NotificationStatus.DRAFT:
        raise ConflictError(
            f"only a draft can be changed or sent; this one is {notification.status.value}"
        )
    return notification


async def _replace_draft(notification: Notification, changes: dict[str, Any]) -> Notification:
    """Store ``changes`` on the draft if it still is one (409 otherwise): a conditional update,
    so that a draft sent or discarded meanwhile is not changed."""
    updated = await find_one_and_update(
        Notification,
        {"_id": notification.id, "status": NotificationStatus.DRAFT.value},
        set=changes,
    )
    if updated is None:
        raise ConflictError("the draft was sent or discarded meanwhile")
    return updated


async def update_draft(
    notification_id: str, values: dict[str, Any], principal: Principal
) -> Notification:
    """Change a draft's texts, image, priority, data or audience (the fields in ``values``;
    ``None`` for ``title_en``, ``body_en`` or ``image_url`` removes it). 409 unless a draft."""
    notification = await _draft_for(notification_id, principal)
    before = notification.model_dump(include=set(CONTENT_FIELDS) | {"audience"}, mode="json")
    merged = {**before, **values}
    fields = _content(merged)
    fields["deep_link"] = notification.deep_link
    fields["news_item_id"] = notification.news_item_id
    audience = notification.audience
    if "audience" in values:
        audience = Audience.model_validate(values["audience"])
        await check_active_agencies("audience.agencies", audience.agencies)
    _check_payload(fields, audience)
    changes = {key: fields[key] for key in CONTENT_FIELDS}
    if "audience" in values:
        changes["audience"] = audience.model_dump()
    updated = await _replace_draft(notification, changes)
    await audit.record(
        principal,
        "notification.edit",
        "notification",
        notification_id,
        before={key: before[key] for key in changes},
        after=changes,
    )
    return updated


async def send_draft(
    notification_id: str, values: dict[str, Any], principal: Principal, redis: Redis | None
) -> Notification:
    """Send a draft now or at ``send_at`` (times as in :func:`create_notification`): it becomes
    ``scheduled`` and its fan-out is enqueued. 409 unless a draft (so sending twice is a 409)."""
    notification = await _draft_for(notification_id, principal)
    send_at, expires_at = _check_times(values, time.time())
    scheduled = await _replace_draft(
        notification,
        {
            "status": NotificationStatus.SCHEDULED.value,
            "send_at": send_at,
            "expires_at": expires_at,
        },
    )
    await audit.record(
        principal,
        "notification.send",
        "notification",
        notification_id,
        before={"status": NotificationStatus.DRAFT.value},
        after={"status": scheduled.status.value, "send_at": send_at, "expires_at": expires_at},
    )
    if redis is not None:
        await start_fanout(redis, scheduled)
    return scheduled


async def start_fanout(redis: Redis, notification: Notification) -> None:
    """Enqueue the notification's first fan-out job (for ``send_at``). A Redis failure is only
    logged: the reconciler enqueues the fan-out of a due notification anyway."""
    send_at = notification.send_at or utcnow()
    delay = max(0.0, (send_at - utcnow()).total_seconds())
    try:
        await enqueue(
            redis,  # type: ignore[arg-type]
            FANOUT,
            str(notification.id),
            job_id=fanout_job_id(str(notification.id), 0),
            defer_by=delay or None,
        )
    except (RedisError, OSError) as error:
        log.warning(
            "fan-out not enqueued; the reconciler will start it",
            notification=str(notification.id),
            error=repr(error),
        )


async def notify_news_item(
    item_id: str, values: dict[str, Any], principal: Principal, redis: Redis | None
) -> Notification:
    """A notification about a breaking news item, in one call: its title and summary, its
    provinces as the audience (everyone for national news) unless ``values`` say otherwise.
    409 unless the item is published and marked breaking."""
    item = await get_or_not_found(
        NewsItem, item_id, "no such news item", visible=_visible_to(principal)
    )
    if item.status is not ItemStatus.PUBLISHED or not item.breaking:
        raise ConflictError("only a published news item marked breaking can be notified this way")
    audience = values.get("audience") or (
        {"provinces": list(item.provinces)} if item.provinces else {"everyone": True}
    )
    image = item.image_url if (item.image_url or "").startswith(("https://", "http://")) else None
    title = item.title.strip()[:200]
    body = " ".join(item.summary.split())[:2000] or title
    created = {
        "title_th": title,
        "body_th": body,
        "news_item_id": str(item.id),
        "image_url": image,
        **{key: value for key, value in values.items() if value is not None},
        "audience": audience,
    }
    return await create_notification(created, principal, redis)


async def preview(audience: Audience) -> dict[str, Any]:
    """How many active devices the audience reaches now, by platform (the fan-out's filter)."""
    await check_active_agencies("audience.agencies", audience.agencies)
    query = device_filter(audience)
    collection = Device.get_pymongo_collection()
    query.pop("platform", None)  # counted by platform below
    by_platform = await count_by(collection, query, "platform", audience_platforms(audience))
    return {"total": sum(by_platform.values()), "by_platform": by_platform}


async def notification_for(notification_id: str, principal: Principal) -> Notification:
    """The notification if ``principal`` may see it; 404 otherwise (also when malformed)."""
    return await get_or_not_found(
        Notification, notification_id, "no such notification", visible=_visible_to(principal)
    )


def _visible_to(principal: Principal) -> Callable[[Notification | NewsItem], bool]:
    """Staff see every notification and news item here, an agency's users their agency's."""
    return lambda record: principal.is_staff or principal.acts_for(record.agency)


async def list_notifications(
    principal: Principal, status: NotificationStatus | None, limit: int, cursor: str | None
) -> tuple[list[Notification], str | None]:
    """Newest first; an agency's users see their agency's only."""
    criteria: dict[str, Any] = {}
    if not principal.is_staff:
        criteria["agency"] = principal.agency
    if status is not None:
        criteria["status"] = status.value
    return await page_by_id(
        Notification,
        criteria,
        limit,
        descending=True,
        cursor=cursor,
    )


async def cancel(notification_id: str, principal: Principal) -> Notification:
    """Stop sending: no batch not yet claimed is sent (those in flight finish); a draft is
    discarded. Cancelling a cancelled notification changes nothing; 409 for one that is done,
    failed or expired."""
    notification = await notification_for(notification_id, principal)
    if notification.status in CANCELLABLE_STATUSES:
        ended = await lifecycle.end(notification_id, NotificationStatus.CANCELLED)
        if ended is not None:
            await audit.record(
                principal,
                "notification.cancel",
                "notification",
                notification_id,
                before={"status": notification.status.value},
                after={"status": ended.status.value},
            )
            return ended
        notification = await notification_for(notification_id, principal)
    if notification.status is NotificationStatus.CANCELLED:
        return notification
    raise ConflictError(f"the notification is already {notification.status.value}")

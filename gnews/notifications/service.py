"""A device's inbox: the notifications it was targeted by, and recording that it opened one.

Opening is idempotent and counted once, also when the app sends it twice at the same moment:
the first call claims the entry with a conditional ``$inc`` (``opens`` from 0 to 1: only one
caller can match ``opens: 0``), then bumps the notification's ``stats.opened`` with ``$inc``,
then stores ``opened_at`` by replacing the entry (a datetime via ``$set`` would be stored as a
string on nx-27017). Should the process die between those steps, the count is off by at most
that one open, and a later call fills in a missing ``opened_at``.
"""

from __future__ import annotations

from collections.abc import Sequence

from litestar.exceptions import NotFoundException

from gnews.clock import utcnow
from gnews.db import object_id, store_changes
from gnews.notifications.models import InboxEntry, Notification, stats_field
from gnews.pagination import page_by_time


async def inbox_page(
    device_id: str, limit: int, cursor: str | None = None
) -> tuple[list[tuple[InboxEntry, Notification]], str | None]:
    """A page of the device's inbox, newest first, each entry with its notification (entries
    whose notification is gone are left out)."""
    entries, next_cursor = await page_by_time(
        InboxEntry, {"device_id": device_id}, "created_at", limit, descending=True, cursor=cursor
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
    entry = await InboxEntry.find_one({"device_id": device_id, "notification_id": notification_id})
    if entry is None:
        raise NotFoundException("no such notification in this device's inbox")
    claim = await InboxEntry.get_pymongo_collection().update_one(
        {"_id": entry.id, "opens": 0}, {"$inc": {"opens": 1}}
    )
    first = claim.modified_count == 1
    oid = object_id(notification_id)
    if first and oid is not None:
        await Notification.get_pymongo_collection().update_one(
            {"_id": oid}, {"$inc": {stats_field("opened"): 1}}
        )
    if first or entry.opened_at is None:
        fresh = await InboxEntry.get(entry.id)
        if fresh is not None and fresh.opened_at is None:
            await store_changes(fresh, {"opened_at": utcnow()})
    return first

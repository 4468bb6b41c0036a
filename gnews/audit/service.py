"""The audit log: writing it (:func:`record`, used by every service that changes a record) and
reading it (:func:`list_entries`).

An entry's ``_id`` is an ObjectId whose time is the entry's ``at`` (to the second), so "when"
filters are a range on ``_id``: the indexes that page the log newest first (an equality
prefix, then ``_id``) serve them on MongoDB and on the embedded server alike, with no datetime
in the filter.
"""

from __future__ import annotations

from collections.abc import Mapping
from datetime import datetime
from typing import Any

from beanie import PydanticObjectId
from bson import ObjectId

from gnews.accounts.guards import Principal
from gnews.audit.models import AuditEntry
from gnews.core.clock import as_utc, utcnow
from gnews.core.errors import FieldError
from gnews.core.pagination import check_limit, page_by_id


def id_at(moment: datetime) -> PydanticObjectId:
    """A new, unique ObjectId whose time is ``moment`` (to the second): a fresh ObjectId's
    process-unique tail behind ``moment``'s seconds."""
    seconds = int(as_utc(moment).timestamp())
    return PydanticObjectId(seconds.to_bytes(4, "big") + ObjectId().binary[4:])


def first_id_at(moment: datetime) -> PydanticObjectId:
    """The lowest ObjectId of any entry recorded at or after ``moment`` (whole seconds; a
    moment outside what an ObjectId can hold, 1970 to 2106, is clamped to its ends)."""
    seconds = min(max(int(as_utc(moment).timestamp()), 0), 2**32 - 1)
    return PydanticObjectId(seconds.to_bytes(4, "big") + bytes(8))


async def record(
    actor: Principal | Mapping[str, Any],
    action: str,
    target_type: str,
    target_id: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log."""
    at = utcnow()
    await AuditEntry(
        id=id_at(at),
        at=at,
        actor=actor.audit_actor() if isinstance(actor, Principal) else dict(actor),
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
    ).insert()


async def list_entries(
    *,
    target_type: str | None,
    target_id: str | None,
    action: str | None,
    actor_id: str | None,
    cursor: str | None,
    limit: int | None,
    since: datetime | None = None,
    until: datetime | None = None,
) -> tuple[list[AuditEntry], str | None]:
    """One page of entries, newest first, filtered by target, action or actor id, and recorded
    at or after ``since`` and before ``until`` (whole seconds; 422 naming ``until`` when it is
    not after ``since``)."""
    if since is not None and until is not None and as_utc(until) <= as_utc(since):
        raise FieldError("until", "must be after since")
    criteria: dict[str, Any] = {}
    for key, value in (
        ("target_type", target_type),
        ("target_id", target_id),
        ("action", action),
        ("actor.id", actor_id),
    ):
        if value:
            criteria[key] = value
    return await page_by_id(
        AuditEntry,
        criteria,
        check_limit(limit),
        descending=True,
        cursor=cursor,
        id_from=first_id_at(since) if since is not None else None,
        id_before=first_id_at(until) if until is not None else None,
    )

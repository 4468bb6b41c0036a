"""The audit log: writing it (:func:`record`, used by every service that changes a record) and
reading it (:func:`list_entries`)."""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

from gnews.accounts.guards import Principal
from gnews.audit.models import AuditEntry
from gnews.core.pagination import check_limit, page_by_id


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
    await AuditEntry(
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
) -> tuple[list[AuditEntry], str | None]:
    """One page of entries, newest first, filtered by target, action or actor id."""
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
    )

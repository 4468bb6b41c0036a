"""Writing the audit log (:func:`record`), used by every service that changes a record."""

from __future__ import annotations

from typing import Any

from gnews.accounts.guards import Principal
from gnews.audit.models import AuditEntry


async def record(
    actor: Principal | dict[str, Any],
    action: str,
    target_type: str,
    target_id: str,
    *,
    before: dict[str, Any] | None = None,
    after: dict[str, Any] | None = None,
) -> None:
    """Append one entry to the audit log."""
    await AuditEntry(
        actor=actor.audit_actor() if isinstance(actor, Principal) else actor,
        action=action,
        target_type=target_type,
        target_id=target_id,
        before=before,
        after=after,
    ).insert()

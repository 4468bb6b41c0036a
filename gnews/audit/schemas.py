"""What the API shows of the audit log."""

from __future__ import annotations

from typing import Any

from pydantic import BaseModel

from gnews.audit.models import AuditEntry
from gnews.core.clock import UtcDateTime


class AuditEntryOut(BaseModel):
    """An audit-log entry as the API shows it."""

    id: str
    at: UtcDateTime
    actor: dict[str, Any]
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

    @classmethod
    def of(cls, entry: AuditEntry) -> AuditEntryOut:
        """Convert a stored entry."""
        return cls(id=str(entry.id), **entry.model_dump(exclude={"id", "revision_id"}))

"""What the API shows of the audit log."""

from __future__ import annotations

from typing import Any

from gnews.core.clock import UtcDateTime
from gnews.core.schemas import DocumentOut


class AuditEntryOut(DocumentOut):
    """An audit-log entry as the API shows it."""

    id: str
    at: UtcDateTime
    actor: dict[str, Any]
    action: str
    target_type: str
    target_id: str
    before: dict[str, Any] | None
    after: dict[str, Any] | None

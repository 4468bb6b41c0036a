"""The audit-log document: who did what, when, to which record, with its state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from beanie import Document
from pydantic import Field
from pymongo import DESCENDING, IndexModel

from gnews.core.clock import utcnow


class AuditEntry(Document):
    """One recorded action."""

    at: datetime = Field(default_factory=utcnow)
    actor: dict[str, Any]
    action: str  # e.g. "agency.create", "api_key.revoke", "news.approve"
    target_type: str
    target_id: str
    before: dict[str, Any] | None = None
    after: dict[str, Any] | None = None

    class Settings:
        name = "audit_log"
        # MongoDB's indexes, newest (_id) first by target, action or actor (the embedded
        # server's variant: gnews.core.persistence.indexes).
        indexes = [
            IndexModel([("target_type", 1), ("target_id", 1), ("_id", DESCENDING)]),
            IndexModel([("action", 1), ("_id", DESCENDING)]),
            IndexModel([("actor.id", 1), ("_id", DESCENDING)]),
            IndexModel([("at", DESCENDING)]),
        ]

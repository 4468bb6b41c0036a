"""The audit log: who did what, when, to which record, with its state before and after."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated, Any

from beanie import Document
from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter
from pydantic import BaseModel, Field
from pymongo import DESCENDING, IndexModel

from gnews.accounts.guards import BEARER, Principal, requires
from gnews.accounts.models import Role
from gnews.clock import UtcDateTime, utcnow
from gnews.pagination import Cursor, Limit, Page, check_limit, page_by_id


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
        # No "_id" inside compound indexes: nx-27017 (the embedded server) rejects every insert
        # into a collection that has one. MongoDB sorts the matched entries by _id instead.
        indexes = [
            IndexModel([("target_type", 1), ("target_id", 1)]),
            IndexModel([("actor.id", 1)]),
            IndexModel([("at", DESCENDING)]),
        ]


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


class AuditController(Controller):
    """Read the audit log (admins)."""

    path = "/api/v1/audit"
    tags = ["audit"]
    guards = [requires(Role.ADMIN, api_keys=False)]
    security = BEARER

    @get("/", summary="List audit-log entries, newest first")
    async def list_entries(
        self,
        target_type: FromQuery[str | None] = None,
        target_id: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        actor_id: Annotated[str | None, QueryParameter(name="actor")] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[AuditEntryOut]:
        """Entries filtered by target, action or actor id; keyset-paginated."""
        criteria: dict[str, Any] = {}
        for key, value in (
            ("target_type", target_type),
            ("target_id", target_id),
            ("action", action),
            ("actor.id", actor_id),
        ):
            if value:
                criteria[key] = value
        entries, next_cursor = await page_by_id(
            lambda after: AuditEntry.find({**criteria, **after}),
            check_limit(limit),
            descending=True,
            cursor=cursor,
        )
        return Page(items=[AuditEntryOut.of(e) for e in entries], next_cursor=next_cursor)

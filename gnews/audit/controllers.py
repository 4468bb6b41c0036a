"""``/api/v1/audit``: the audit log, for admins."""

from __future__ import annotations

from typing import Annotated, Any

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from gnews.accounts.guards import BEARER, requires
from gnews.accounts.models import Role
from gnews.audit.models import AuditEntry
from gnews.audit.schemas import AuditEntryOut
from gnews.core.pagination import Cursor, Limit, Page, check_limit, page_by_id


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

"""``/api/v1/audit``: the audit log, for admins."""

from __future__ import annotations

from datetime import datetime
from typing import Annotated

from litestar import Controller, get
from litestar.params import FromQuery, QueryParameter

from gnews.accounts.guards import BEARER, requires
from gnews.accounts.models import Role
from gnews.audit import service
from gnews.audit.schemas import AuditEntryOut
from gnews.core.pagination import Cursor, Limit, Page


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
        since: FromQuery[datetime | None] = None,
        until: FromQuery[datetime | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[AuditEntryOut]:
        """Entries filtered by target, action or actor id, and by when they were recorded
        (``since`` inclusive, ``until`` exclusive, ISO 8601 with an offset; whole seconds);
        keyset-paginated."""
        return Page.of(
            AuditEntryOut.from_document,
            await service.list_entries(
                target_type=target_type,
                target_id=target_id,
                action=action,
                actor_id=actor_id,
                since=since,
                until=until,
                cursor=cursor,
                limit=limit,
            ),
        )

"""``/api/v1/sources``: agencies' feeds and the health of their polling."""

from __future__ import annotations

from typing import Any

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from gnews.accounts.guards import BEARER_OR_API_KEY, Caller, requires
from gnews.accounts.models import Role
from gnews.core.dependencies import RedisClient
from gnews.core.pagination import Cursor, Limit, Page
from gnews.sources import service
from gnews.sources.models import Source
from gnews.sources.schemas import SourceIn, SourceOut, SourcePatch


async def provide_source(source_id: FromPath[str], principal: Caller) -> Source:
    """Dependency ``source``: the source named by the path if the caller may see it; 404
    otherwise (another agency's source stays private)."""
    return await service.source_for(source_id, principal)


class SourceController(Controller):
    """Agencies' feeds: staff manage all of them, an agency its own."""

    path = "/api/v1/sources"
    tags = ["sources"]
    guards = [requires(Role.ADMIN, Role.EDITOR, Role.AGENCY)]
    security = BEARER_OR_API_KEY
    dependencies = {"source": Provide(provide_source)}

    @get("/", summary="List sources with their health")
    async def list_sources(
        self,
        principal: Caller,
        agency: FromQuery[str | None] = None,
        enabled: FromQuery[bool | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[SourceOut]:
        """Sources in order of creation; an agency sees only its own."""
        return Page.of(
            SourceOut.from_document,
            await service.list_sources(
                principal, agency=agency, enabled=enabled, cursor=cursor, limit=limit
            ),
        )

    @post("/", summary="Create a source")
    async def create_source(self, data: JSONBody[SourceIn], principal: Caller) -> SourceOut:
        """An agency may create sources for itself only; ``trusted`` is for staff; 409 when the
        slug is taken."""
        values = data.model_dump(mode="json")
        return SourceOut.from_document(await service.create_source(values, principal))

    @get("/{source_id:str}", summary="One source")
    async def get_source(self, source: NamedDependency[Source]) -> SourceOut:
        """404 for another agency's source."""
        return SourceOut.from_document(source)

    @patch("/{source_id:str}", summary="Change a source")
    async def update_source(
        self, source: NamedDependency[Source], data: JSONBody[SourcePatch], principal: Caller
    ) -> SourceOut:
        """Only the fields sent change. A plugin's source takes only ``enabled`` and ``trusted``
        (its other fields are the plugin's); ``trusted`` is for staff."""
        changes = data.model_dump(mode="json", exclude_unset=True)
        return SourceOut.from_document(await service.update_source(source, changes, principal))

    @post("/{source_id:str}/poll", summary="Poll a source now", status_code=202)
    async def poll_source(
        self, source: NamedDependency[Source], redis: RedisClient
    ) -> dict[str, Any]:
        """Queues a poll: ``{"queued": true}``, or ``{"queued": false, "reason": …}`` when one
        is already queued or running. 409 for a disabled source."""
        if not await service.request_poll(source, redis):
            return {"queued": False, "reason": "already queued or running"}
        return {"queued": True}

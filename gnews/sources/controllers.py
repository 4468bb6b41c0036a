"""``/api/v1/sources``: agencies' feeds and the health of their polling."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, patch, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery, JSONBody

from gnews.accounts.guards import BEARER_OR_API_KEY, Principal, requires
from gnews.accounts.models import Role
from gnews.core.errors import ConflictError
from gnews.core.pagination import Cursor, Limit, Page, check_limit, page_by_id
from gnews.jobs import enqueue_poll
from gnews.sources import service
from gnews.sources.models import Source
from gnews.sources.schemas import SourceIn, SourceOut, SourcePatch


def _dedup(values: list[str]) -> list[str]:
    return list(dict.fromkeys(values))


class SourceController(Controller):
    """Agencies' feeds: staff manage all of them, an agency its own."""

    path = "/api/v1/sources"
    tags = ["sources"]
    guards = [requires(Role.ADMIN, Role.EDITOR, Role.AGENCY)]
    security = BEARER_OR_API_KEY

    @get("/", summary="List sources with their health")
    async def list_sources(
        self,
        principal: NamedDependency[Principal],
        agency: FromQuery[str | None] = None,
        enabled: FromQuery[bool | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[SourceOut]:
        """Sources in order of creation; an agency sees only its own."""
        size = check_limit(limit)
        criteria: dict[str, Any] = {}
        if agency is not None:
            criteria["agency"] = agency
        if enabled is not None:
            criteria["enabled"] = enabled
        if not principal.is_staff:
            if agency is not None and agency != principal.agency:
                return Page(items=[])
            criteria["agency"] = principal.agency
        sources, next_cursor = await page_by_id(
            lambda after: Source.find({**criteria, **after}), size, cursor=cursor
        )
        return Page(items=[SourceOut.of(s) for s in sources], next_cursor=next_cursor)

    @post("/", summary="Create a source")
    async def create_source(
        self, data: JSONBody[SourceIn], principal: NamedDependency[Principal]
    ) -> SourceOut:
        """An agency may create sources for itself only; ``trusted`` is for staff; 409 when the
        slug is taken."""
        values = data.model_dump(mode="json")
        values["provinces"] = _dedup(values["provinces"])
        return SourceOut.of(await service.create_source(values, principal))

    @get("/{source_id:str}", summary="One source")
    async def get_source(
        self, source_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> SourceOut:
        """404 for another agency's source."""
        return SourceOut.of(await service.source_for(source_id, principal))

    @patch("/{source_id:str}", summary="Change a source")
    async def update_source(
        self,
        source_id: FromPath[str],
        data: JSONBody[SourcePatch],
        principal: NamedDependency[Principal],
    ) -> SourceOut:
        """Only the fields sent change. A plugin's source takes only ``enabled`` and ``trusted``
        (its other fields are the plugin's); ``trusted`` is for staff."""
        source = await service.source_for(source_id, principal)
        changes = data.model_dump(mode="json", exclude_unset=True)
        if "provinces" in changes:
            changes["provinces"] = _dedup(changes["provinces"])
        return SourceOut.of(await service.update_source(source, changes, principal))

    @post("/{source_id:str}/poll", summary="Poll a source now", status_code=202)
    async def poll_source(
        self, source_id: FromPath[str], principal: NamedDependency[Principal], request: Request
    ) -> dict[str, Any]:
        """Queues a poll: ``{"queued": true}``, or ``{"queued": false, "reason": …}`` when one
        is already queued or running. 409 for a disabled source."""
        source = await service.source_for(source_id, principal)
        if not source.enabled:
            raise ConflictError(f"source {source.slug!r} is disabled; enable it first")
        job = await enqueue_poll(request.app.state.redis, str(source.id))
        if job is None:
            return {"queued": False, "reason": "already queued or running"}
        return {"queued": True}

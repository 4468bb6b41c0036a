"""``/api/v1/agencies``: listed publicly, managed by admins."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from gnews.accounts.guards import BEARER, Principal, requires
from gnews.accounts.models import Role
from gnews.agencies import service
from gnews.agencies.models import Agency
from gnews.agencies.schemas import AgencyIn, AgencyOut, AgencyPatch
from gnews.core.pagination import Cursor, Limit, Page


async def provide_agency(code: FromPath[str]) -> Agency:
    """Dependency ``agency``: the agency named by the path (active or not), or 404."""
    return await service.agency_by_code(code)


class AgencyController(Controller):
    """Agencies: anyone may list them; admins create and change them."""

    path = "/api/v1/agencies"
    tags = ["agencies"]
    dependencies = {"agency": Provide(provide_agency)}

    @get("/", summary="List agencies")
    async def list_agencies(
        self,
        include_inactive: FromQuery[bool] = False,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[AgencyOut]:
        """Active agencies (all with ``include_inactive``), in order of creation."""
        return Page.of(
            AgencyOut.from_document,
            await service.list_agencies(
                include_inactive=include_inactive, cursor=cursor, limit=limit
            ),
        )

    @get("/{code:str}", summary="One agency")
    async def get_agency(self, agency: NamedDependency[Agency]) -> AgencyOut:
        """The agency with this code."""
        return AgencyOut.from_document(agency)

    @post(
        "/",
        guards=[requires(Role.ADMIN, api_keys=False)],
        security=BEARER,
        summary="Create an agency",
    )
    async def create_agency(
        self, data: JSONBody[AgencyIn], principal: NamedDependency[Principal]
    ) -> AgencyOut:
        """Admins only; 409 when the code is taken."""
        agency = await service.create_agency(data.model_dump(mode="json"), principal)
        return AgencyOut.from_document(agency)

    @patch(
        "/{code:str}",
        guards=[requires(Role.ADMIN, api_keys=False)],
        security=BEARER,
        summary="Change an agency",
    )
    async def update_agency(
        self,
        agency: NamedDependency[Agency],
        data: JSONBody[AgencyPatch],
        principal: NamedDependency[Principal],
    ) -> AgencyOut:
        """Admins only; only the given fields change."""
        changes = data.model_dump(mode="json", exclude_unset=True)
        return AgencyOut.from_document(await service.update_agency(agency, changes, principal))

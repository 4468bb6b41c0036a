"""``/api/v1/agencies``: listed publicly, managed by admins."""

from __future__ import annotations

from litestar import Controller, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import AnyHttpUrl, BaseModel, ConfigDict, Field

from gnews.accounts.guards import BEARER, Principal, requires
from gnews.accounts.models import Role
from gnews.agencies.models import Agency
from gnews.audit import service as audit
from gnews.core.clock import UtcDateTime, utcnow
from gnews.core.errors import ConflictError
from gnews.core.pagination import Cursor, Limit, Page, check_limit, page_by_id
from gnews.core.persistence import store_changes
from gnews.specs import AGENCY_CODE_PATTERN


class AgencyIn(BaseModel):
    """A new agency."""

    model_config = ConfigDict(extra="forbid")

    code: str = Field(pattern=AGENCY_CODE_PATTERN, examples=["ega"])
    name_th: str = Field(min_length=1, max_length=300, examples=["สำนักงานพัฒนารัฐบาลดิจิทัล"])
    name_en: str = Field(
        min_length=1, max_length=300, examples=["Digital Government Development Agency"]
    )
    website: AnyHttpUrl | None = None
    trusted: bool = False


class AgencyPatch(BaseModel):
    """Changes to an agency; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    name_th: str | None = Field(None, min_length=1, max_length=300)
    name_en: str | None = Field(None, min_length=1, max_length=300)
    website: AnyHttpUrl | None = None
    trusted: bool | None = None
    active: bool | None = None


class AgencyOut(BaseModel):
    """An agency as the API shows it."""

    code: str
    name_th: str
    name_en: str
    website: str | None
    trusted: bool
    active: bool
    created_at: UtcDateTime
    updated_at: UtcDateTime

    @classmethod
    def of(cls, agency: Agency) -> AgencyOut:
        """Convert a stored agency."""
        return cls(**agency.model_dump(exclude={"id", "revision_id"}))


async def get_agency_or_404(code: FromPath[str]) -> Agency:
    """The agency with this code, or 404."""
    agency = await Agency.find_one(Agency.code == code)
    if agency is None:
        raise NotFoundException(f"no agency {code!r}")
    return agency


class AgencyController(Controller):
    """Agencies: anyone may list them; admins create and change them."""

    path = "/api/v1/agencies"
    tags = ["agencies"]

    @get("/", summary="List agencies")
    async def list_agencies(
        self,
        include_inactive: FromQuery[bool] = False,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[AgencyOut]:
        """Active agencies (all with ``include_inactive``), in order of creation."""
        criteria = {} if include_inactive else {"active": True}
        agencies, next_cursor = await page_by_id(
            lambda after: Agency.find({**criteria, **after}), check_limit(limit), cursor=cursor
        )
        return Page(items=[AgencyOut.of(a) for a in agencies], next_cursor=next_cursor)

    @get("/{code:str}", summary="One agency")
    async def get_agency(self, code: FromPath[str]) -> AgencyOut:
        """The agency with this code."""
        return AgencyOut.of(await get_agency_or_404(code))

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
        if await Agency.find_one(Agency.code == data.code):
            raise ConflictError(f"agency {data.code!r} already exists")
        values = data.model_dump(mode="json")
        agency = await Agency(**values).insert()
        await audit.record(principal, "agency.create", "agency", agency.code, after=values)
        return AgencyOut.of(agency)

    @patch(
        "/{code:str}",
        guards=[requires(Role.ADMIN, api_keys=False)],
        security=BEARER,
        summary="Change an agency",
    )
    async def update_agency(
        self,
        code: FromPath[str],
        data: JSONBody[AgencyPatch],
        principal: NamedDependency[Principal],
    ) -> AgencyOut:
        """Admins only; only the given fields change."""
        agency = await get_agency_or_404(code)
        changes = data.model_dump(mode="json", exclude_unset=True)
        before = {key: getattr(agency, key) for key in changes}
        if changes:
            await store_changes(agency, {**changes, "updated_at": utcnow()})
            await audit.record(
                principal, "agency.update", "agency", code, before=before, after=changes
            )
        return AgencyOut.of(agency)

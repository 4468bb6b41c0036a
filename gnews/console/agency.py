"""The agency staff's console: their agency's sources with health, their news items with review
outcomes and rejection reasons, and API keys (shared with admins, who
manage any agency's keys).

Every page calls the same services as the API with the signed-in ``Principal``: another
agency's source, items or keys are "not found" there, so they are here.
"""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from gnews.accounts import service as accounts
from gnews.accounts.guards import Principal
from gnews.accounts.models import Role
from gnews.accounts.schemas import ApiKeyIn
from gnews.agencies.service import agency_managed_by
from gnews.console.access import require_role
from gnews.console.forms import FormInvalid, errors_of, form_values, parse_form
from gnews.console.rendering import page
from gnews.console.source_health import health_of
from gnews.core.errors import DomainError
from gnews.news import service as news
from gnews.news.models import ItemStatus
from gnews.sources import service as sources


def _status_or_none(enum: Any, value: str | None) -> Any:
    try:
        return enum(value) if value else None
    except ValueError:
        return None


class AgencyController(Controller):
    """``/console/agency/...``: an agency user's own sources and items (their notifications are
    the agency-filtered /console/notifications)."""

    path = "/agency"
    include_in_schema = False

    @get("/sources")
    async def source_list(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """The agency's sources with their health."""
        require_role(principal, Role.AGENCY)
        found, next_cursor = await sources.list_sources(
            principal, agency=principal.agency, enabled=None, cursor=cursor, limit=50
        )
        rows = [(source, health_of(source)) for source in found]
        return page(request, "agency/sources.html", principal, rows=rows, next_cursor=next_cursor)

    @get("/sources/{source_id:str}")
    async def source_detail(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        source_id: FromPath[str],
    ) -> Template:
        """One source of the agency (another agency's: not found)."""
        require_role(principal, Role.AGENCY)
        source = await sources.source_for(source_id, principal)
        return page(
            request, "agency/source.html", principal, source=source, health=health_of(source)
        )

    @get("/items")
    async def item_list(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        status: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """The agency's news items with their review outcome and rejection reason."""
        require_role(principal, Role.AGENCY)
        chosen = _status_or_none(ItemStatus, status)
        items, next_cursor = await news.items_of_agency(
            principal.agency or "", principal, status=chosen, cursor=cursor, limit=50
        )
        return page(
            request,
            "agency/items.html",
            principal,
            items=items,
            next_cursor=next_cursor,
            status=chosen.value if chosen else "",
            statuses=list(ItemStatus),
        )

    @get("/keys")
    async def own_keys(self, principal: NamedDependency[Principal]) -> Redirect:
        """The agency user's own keys page."""
        require_role(principal, Role.AGENCY)
        return Redirect(f"/console/agencies/{principal.agency}/keys", status_code=303)


class ApiKeysController(Controller):
    """``/console/agencies/{code}/keys``: an agency's API keys, for its users and admins
    (another agency's: not found). A new key's secret is shown once, on the page that answers
    its creation, and never again (only its hash is kept)."""

    path = "/agencies/{code:str}/keys"
    include_in_schema = False

    async def _keys_page(
        self,
        request: Request[Any, Any, Any],
        principal: Principal,
        code: str,
        *,
        status_code: int = 200,
        **context: Any,
    ) -> Template:
        agency = await agency_managed_by(code, principal)
        keys = await accounts.list_api_keys(agency, include_revoked=True)
        return page(
            request,
            "agency/keys.html",
            principal,
            status_code=status_code,
            agency=agency,
            keys=keys,
            **context,
        )

    @get("/")
    async def key_list(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        code: FromPath[str],
        flash: FromQuery[str | None] = None,
    ) -> Template:
        """The agency's keys (without secrets) and a form for a new one."""
        require_role(principal, Role.AGENCY, Role.ADMIN)
        notice = {"revoked": "revoked"}.get(flash or "")
        return await self._keys_page(request, principal, code, notice=notice)

    @post("/")
    async def create_key(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        code: FromPath[str],
    ) -> Template:
        """Create a key: the answer shows its secret this once."""
        require_role(principal, Role.AGENCY, Role.ADMIN)
        agency = await agency_managed_by(code, principal)
        values = form_values(await request.form())
        try:
            data = parse_form(ApiKeyIn, values)
            key, secret = await accounts.create_api_key(agency, data.name, principal)
        except (FormInvalid, DomainError) as error:
            return await self._keys_page(
                request, principal, code, status_code=422, errors=errors_of(error), values=values
            )
        shown_once = page(
            request, "agency/key_created.html", principal, agency=agency, key=key, secret=secret
        )
        shown_once.headers["Cache-Control"] = "no-store"  # the secret stays in no cache
        return shown_once

    @post("/{key_id:str}/revoke")
    async def revoke_key(
        self,
        principal: NamedDependency[Principal],
        code: FromPath[str],
        key_id: FromPath[str],
    ) -> Redirect:
        """Revoke a key at once."""
        require_role(principal, Role.AGENCY, Role.ADMIN)
        agency = await agency_managed_by(code, principal)
        await accounts.revoke_api_key(agency, key_id, principal)
        return Redirect(f"/console/agencies/{agency.code}/keys?flash=revoked", status_code=303)

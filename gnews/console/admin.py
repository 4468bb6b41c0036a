"""The admins' console: accounts (create, change role, deactivate, reset password), agencies
(create, edit; their API keys through :class:`gnews.console.agency.ApiKeysController`) and the
audit log with filters (who, what, when in Bangkok time) and each change's before and after.

A changed account's console sessions end on its next request (the session checks the account's
token version, which the service moves on for a new role, status or password).
"""

from __future__ import annotations

from dataclasses import dataclass
from datetime import date, datetime, timedelta
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from gnews.accounts import service as accounts
from gnews.accounts.guards import Principal
from gnews.accounts.models import Role
from gnews.accounts.schemas import UserIn, UserPatch
from gnews.agencies import service as agencies
from gnews.agencies.schemas import AgencyIn, AgencyPatch
from gnews.audit import service as audit
from gnews.audit.models import AuditEntry
from gnews.console.access import require_role
from gnews.console.forms import FormInvalid, errors_of, form_values, parse_form
from gnews.console.rendering import page
from gnews.core.errors import ConflictError, DomainError
from gnews.thai.dates import BANGKOK

ROLE_OPTIONS = [(role.value, role.value) for role in Role]


def _read_at(form: Any) -> datetime | None:
    """The ``updated_at`` an edit form was read at (its hidden ``read_at``), or None."""
    try:
        return datetime.fromisoformat(str(form.get("read_at", "")))
    except ValueError:
        return None


def _status(error: Exception) -> int:
    return 409 if isinstance(error, ConflictError) else 422


class UsersController(Controller):
    """``/console/admin/users``: accounts."""

    path = "/admin/users"
    include_in_schema = False

    @get("/")
    async def user_list(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        role: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
        flash: FromQuery[str | None] = None,
    ) -> Template:
        """Accounts in order of creation (keyset-paged), optionally of one role."""
        require_role(principal, Role.ADMIN)
        chosen = Role(role) if role in {r.value for r in Role} else None
        users, next_cursor = await accounts.list_users(
            role=chosen, agency=None, cursor=cursor, limit=50
        )
        return page(
            request,
            "admin/users.html",
            principal,
            users=users,
            next_cursor=next_cursor,
            role=chosen.value if chosen else "",
            roles=ROLE_OPTIONS,
            notice=flash,
        )

    @get("/new")
    async def new_form(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Template:
        """The form of a new account."""
        require_role(principal, Role.ADMIN)
        return page(request, "admin/user_new.html", principal, roles=ROLE_OPTIONS)

    @post("/new")
    async def create(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Any:
        """Create an account (the API's ``UserIn``)."""
        require_role(principal, Role.ADMIN)
        values = form_values(await request.form())
        try:
            data = parse_form(UserIn, values)
            user = await accounts.create_account(data.model_dump(), principal)
        except (FormInvalid, DomainError) as error:
            errors = errors_of(error)
            if isinstance(error, ConflictError) and not error.fields:
                errors = {"email": error.message}
            shown = {k: v for k, v in values.items() if k != "password"}
            return page(
                request,
                "admin/user_new.html",
                principal,
                status_code=_status(error),
                roles=ROLE_OPTIONS,
                errors=errors,
                values=shown,
            )
        return Redirect(f"/console/admin/users/{user.id}?flash=created", status_code=303)

    @get("/{user_id:str}")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        user_id: FromPath[str],
        flash: FromQuery[str | None] = None,
    ) -> Template:
        """One account: change role, agency, name; deactivate or reactivate; new password."""
        require_role(principal, Role.ADMIN)
        user = await accounts.user_by_id(user_id)
        values = {"role": user.role.value, "agency": user.agency or "", "name": user.name or ""}
        return page(
            request,
            "admin/user.html",
            principal,
            user=user,
            values=values,
            roles=ROLE_OPTIONS,
            notice=flash,
        )

    @post("/{user_id:str}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        user_id: FromPath[str],
    ) -> Any:
        """Apply one of the account forms (``change``: details, active, password), refused
        when the account changed since the form was read."""
        require_role(principal, Role.ADMIN)
        user = await accounts.user_by_id(user_id)
        form = await request.form()
        values = form_values(form)
        change = values.pop("change", "details")
        values.pop("read_at", None)
        if change == "details":
            raw: dict[str, Any] = {
                "role": values.get("role"),
                "agency": values.get("agency"),
                "name": values.get("name"),
            }
        elif change == "active":
            raw = {"active": values.get("active") == "true"}
        else:
            raw = {"password": values.get("password", "")}
        try:
            read_at = _read_at(form)
            if read_at is None:
                raise ConflictError("the form has no version; reload it and try again")
            data = parse_form(UserPatch, raw)
            changes = data.model_dump(exclude_unset=True)
            await accounts.update_user(user, changes, principal, read_at=read_at)
        except (FormInvalid, DomainError) as error:
            shown = {k: v for k, v in values.items() if k != "password"}
            return page(
                request,
                "admin/user.html",
                principal,
                status_code=_status(error),
                user=user,
                roles=ROLE_OPTIONS,
                errors=errors_of(error),
                stale=isinstance(error, ConflictError),
                values={"role": user.role.value, **shown},
            )
        return Redirect(f"/console/admin/users/{user.id}?flash={change}", status_code=303)


class AgenciesController(Controller):
    """``/console/admin/agencies``: agencies."""

    path = "/admin/agencies"
    include_in_schema = False

    @get("/")
    async def agency_list(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        cursor: FromQuery[str | None] = None,
        flash: FromQuery[str | None] = None,
    ) -> Template:
        """Every agency (active or not), in order of creation."""
        require_role(principal, Role.ADMIN)
        found, next_cursor = await agencies.list_agencies(
            include_inactive=True, cursor=cursor, limit=50
        )
        return page(
            request,
            "admin/agencies.html",
            principal,
            agencies=found,
            next_cursor=next_cursor,
            notice=flash,
        )

    @get("/new")
    async def new_form(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Template:
        """The form of a new agency."""
        require_role(principal, Role.ADMIN)
        return page(request, "admin/agency.html", principal, agency=None)

    @post("/new")
    async def create(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Any:
        """Create an agency (the API's ``AgencyIn``)."""
        require_role(principal, Role.ADMIN)
        values = form_values(await request.form())
        values["trusted"] = values.get("trusted") == "true"
        try:
            data = parse_form(AgencyIn, values)
            await agencies.create_agency(data.model_dump(mode="json"), principal)
        except (FormInvalid, DomainError) as error:
            errors = errors_of(error)
            if isinstance(error, ConflictError) and not error.fields:
                errors = {"code": error.message}
            return page(
                request,
                "admin/agency.html",
                principal,
                status_code=_status(error),
                agency=None,
                errors=errors,
                values=values,
            )
        return Redirect("/console/admin/agencies?flash=created", status_code=303)

    @get("/{code:str}")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        code: FromPath[str],
        flash: FromQuery[str | None] = None,
    ) -> Template:
        """One agency's edit form."""
        require_role(principal, Role.ADMIN)
        agency = await agencies.agency_by_code(code)
        values = agency.model_dump(mode="json", include={"name_th", "name_en", "website"})
        values.update(trusted=agency.trusted, active=agency.active)
        return page(
            request, "admin/agency.html", principal, agency=agency, values=values, notice=flash
        )

    @post("/{code:str}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        code: FromPath[str],
    ) -> Any:
        """Change an agency (the API's ``AgencyPatch``), refused when it changed since the
        form was read."""
        require_role(principal, Role.ADMIN)
        agency = await agencies.agency_by_code(code)
        form = await request.form()
        values = form_values(form)
        values.pop("read_at", None)
        raw = {
            "name_th": values.get("name_th", ""),
            "name_en": values.get("name_en", ""),
            "website": values.get("website"),
            "trusted": values.get("trusted") == "true",
            "active": values.get("active") == "true",
        }
        try:
            read_at = _read_at(form)
            if read_at is None:
                raise ConflictError("the form has no version; reload it and try again")
            data = parse_form(AgencyPatch, raw)
            changes = data.model_dump(mode="json", exclude_unset=True)
            changes = {k: v for k, v in changes.items() if v != getattr(agency, k)}
            await agencies.update_agency(agency, changes, principal, read_at=read_at)
        except (FormInvalid, DomainError) as error:
            return page(
                request,
                "admin/agency.html",
                principal,
                status_code=_status(error),
                agency=agency,
                errors=errors_of(error),
                stale=isinstance(error, ConflictError),
                values={**raw, "website": raw["website"] or ""},
            )
        return Redirect(f"/console/admin/agencies/{agency.code}?flash=saved", status_code=303)


@dataclass(frozen=True)
class FieldChange:
    """One field of an audited change: before, after, and whether it changed."""

    field: str
    before: Any
    after: Any
    changed: bool


def _blank(value: Any) -> bool:
    return value is None or value == "" or value == [] or value == {}


def diff_of(entry: AuditEntry) -> list[FieldChange]:
    """The fields of ``entry``'s before and after, side by side (changed ones flagged; fields
    blank on both sides left out)."""
    before, after = entry.before or {}, entry.after or {}
    fields = [
        field
        for field in dict.fromkeys([*before, *after])
        if not (_blank(before.get(field)) and _blank(after.get(field)))
    ]
    return [
        FieldChange(
            field,
            _readable(before.get(field)),
            _readable(after.get(field)),
            field not in before or field not in after or before[field] != after[field],
        )
        for field in fields
    ]


def _readable(value: Any) -> Any:
    """An audited value as the page shows it: a time (stored as ISO 8601 text) as a datetime, so
    the page writes it in Bangkok time; anything else as it is."""
    if isinstance(value, str) and len(value) >= 19 and value[10:11] == "T":
        try:
            return datetime.fromisoformat(value)
        except ValueError:
            return value
    return value


def bangkok_day_start(day: date) -> datetime:
    """The first moment of ``day`` in Bangkok time (aware)."""
    return datetime(day.year, day.month, day.day, tzinfo=BANGKOK)


class AuditController(Controller):
    """``/console/admin/audit``: the audit log, newest first."""

    path = "/admin/audit"
    include_in_schema = False

    @get("/")
    async def entries(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        actor: FromQuery[str | None] = None,
        action: FromQuery[str | None] = None,
        target_type: FromQuery[str | None] = None,
        since: FromQuery[str | None] = None,
        until: FromQuery[str | None] = None,
        cursor: FromQuery[str | None] = None,
    ) -> Template:
        """Entries by who (an e-mail or an account id), what (action, target type) and when
        (Bangkok dates, both days included), each with its before and after."""
        require_role(principal, Role.ADMIN)
        filters = {
            "actor": (actor or "").strip(),
            "action": (action or "").strip(),
            "target_type": (target_type or "").strip(),
            "since": (since or "").strip(),
            "until": (until or "").strip(),
        }
        errors: dict[str, str] = {}
        days: dict[str, date] = {}
        for name in ("since", "until"):
            if filters[name]:
                try:
                    days[name] = date.fromisoformat(filters[name])
                except ValueError:
                    errors[name] = "not a date (YYYY-MM-DD)"
        actor_id: str | None = filters["actor"] or None
        if actor_id and "@" in actor_id:
            who = await accounts.user_by_email(actor_id)
            actor_id = str(who.id) if who else "-"  # an unknown e-mail matches nothing
        found: list[AuditEntry] = []
        next_cursor = None
        if not errors:
            try:
                found, next_cursor = await audit.list_entries(
                    target_type=filters["target_type"] or None,
                    target_id=None,
                    action=filters["action"] or None,
                    actor_id=actor_id,
                    since=bangkok_day_start(days["since"]) if "since" in days else None,
                    until=(
                        bangkok_day_start(days["until"] + timedelta(days=1))
                        if "until" in days
                        else None
                    ),
                    cursor=cursor,
                    limit=50,
                )
            except DomainError as error:
                errors = errors_of(error)
        return page(
            request,
            "admin/audit.html",
            principal,
            status_code=422 if errors else 200,
            rows=[(entry, diff_of(entry)) for entry in found],
            next_cursor=next_cursor,
            filters=filters,
            values=filters,
            errors=errors,
        )

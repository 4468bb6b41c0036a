"""App developers in the console: signing up (the API's registration rule), their GAC listings,
creating and editing them (the API's input models; a stale form is refused), submitting them for
review and reading the review outcome and reason.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromPath, FromQuery
from litestar.response import Redirect, Template

from appcenter import service as gac
from appcenter.categories import CATEGORIES
from appcenter.models import AppListing
from appcenter.validation import CONTENT_FIELDS, ListingIn, ListingPatch
from gnews.accounts import service as accounts
from gnews.accounts.guards import Principal
from gnews.accounts.models import Role
from gnews.accounts.schemas import RegisterIn
from gnews.agencies.service import list_agencies
from gnews.console import sessions
from gnews.console.access import require_role
from gnews.console.forms import FormInvalid, errors_of, form_values, parse_form
from gnews.console.rendering import page
from gnews.core.errors import ConflictError, DomainError, NotFoundError

LIST_FIELDS = ("categories", "screenshot_urls", "tags", "provinces")
LISTING_ROLES = (Role.DEVELOPER, Role.AGENCY)


class RegisterController(Controller):
    """``/console/register``: a public sign-up page for app developers."""

    path = "/register"
    include_in_schema = False

    @get("/")
    async def register_form(self, request: Request[Any, Any, Any]) -> Template:
        """The sign-up form."""
        return page(request, "developer/register.html", None)

    @post("/")
    async def register(self, request: Request[Any, Any, Any]) -> Any:
        """Create a developer account (the API's rule), sign it in, go to its listings."""
        values = form_values(await request.form())
        try:
            data = parse_form(RegisterIn, values)
            user = await accounts.register_developer(data.email, data.password, data.name)
        except (FormInvalid, DomainError) as error:
            errors = errors_of(error)
            if isinstance(error, ConflictError):
                errors = {"email": error.message}
            shown = {k: v for k, v in values.items() if k != "password"}
            status = 409 if isinstance(error, ConflictError) else 422
            return page(
                request,
                "developer/register.html",
                None,
                status_code=status,
                errors=errors,
                values=shown,
            )
        sessions.sign_in(request, user)
        return Redirect("/console/developer/listings?flash=welcome", status_code=303)


def _listing_values(values: dict[str, Any], *, patch: bool) -> dict[str, Any]:
    """The form's values for the API's listing models: a blank optional field of an edit
    clears it (``None``), a blank required text stays blank (so its rule names it)."""
    shaped = {k: v for k, v in values.items() if k in CONTENT_FIELDS}
    if not patch:
        return shaped
    for field in CONTENT_FIELDS:
        if field in shaped:
            continue
        if field in ListingPatch.nullable_fields:
            shaped[field] = None
        elif field in LIST_FIELDS:
            shaped[field] = []
        elif field in ("name_th", "description_th", "slug", "agency"):
            shaped[field] = ""
    return shaped


def _form_of(listing: AppListing) -> dict[str, Any]:
    """A listing's values as its edit form shows them."""
    content = gac.content_of(listing)
    for field in LIST_FIELDS:
        content[field] = ", ".join(content.get(field) or [])
    content["screenshot_urls"] = "\n".join(listing.screenshot_urls)
    return {k: v for k, v in content.items() if v is not None}


class ListingsController(Controller):
    """``/console/developer/listings``: a developer's (or agency's) own GAC listings."""

    path = "/developer/listings"
    include_in_schema = False

    async def _form_context(self) -> dict[str, Any]:
        agencies, _ = await list_agencies(include_inactive=False, cursor=None, limit=100)
        return {
            "agencies": [(a.code, f"{a.name_th} ({a.code})") for a in agencies],
            "categories": [(c.code, c.name_th, c.name_en) for c in CATEGORIES],
        }

    @get("/")
    async def listing_list(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        cursor: FromQuery[str | None] = None,
        flash: FromQuery[str | None] = None,
    ) -> Template:
        """The caller's listings with their review outcome."""
        require_role(principal, *LISTING_ROLES)
        listings, next_cursor = await gac.list_listings(
            principal, status=None, agency=None, cursor=cursor, limit=50
        )
        return page(
            request,
            "developer/listings.html",
            principal,
            listings=listings,
            next_cursor=next_cursor,
            notice=flash,
        )

    @get("/new")
    async def new_form(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Template:
        """An empty listing form."""
        require_role(principal, *LISTING_ROLES)
        values = {"agency": principal.agency} if principal.agency else {}
        return page(
            request,
            "developer/listing_form.html",
            principal,
            listing=None,
            values=values,
            **await self._form_context(),
        )

    @post("/new")
    async def create(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Any:
        """Create a draft listing (the API's ``ListingIn``)."""
        require_role(principal, *LISTING_ROLES)
        values = form_values(await request.form(), lists=LIST_FIELDS)
        try:
            data = parse_form(ListingIn, _listing_values(values, patch=False))
            listing = await gac.create_listing(data.model_dump(mode="json"), principal, None)
        except (FormInvalid, DomainError) as error:
            return page(
                request,
                "developer/listing_form.html",
                principal,
                status_code=409 if isinstance(error, ConflictError) else 422,
                listing=None,
                errors=errors_of(error),
                values=_shown(values),
                **await self._form_context(),
            )
        return Redirect(f"/console/developer/listings/{listing.id}?flash=created", status_code=303)

    @get("/{listing_id:str}")
    async def detail(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        listing_id: FromPath[str],
        flash: FromQuery[str | None] = None,
    ) -> Template:
        """One listing: its review outcome, its edit form, submit / withdraw."""
        require_role(principal, *LISTING_ROLES)
        listing = await gac.listing_for(listing_id, principal)
        return page(
            request,
            "developer/listing_form.html",
            principal,
            listing=listing,
            values=_form_of(listing),
            notice=flash,
            **await self._form_context(),
        )

    @post("/{listing_id:str}")
    async def update(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        listing_id: FromPath[str],
    ) -> Any:
        """Change a listing (the API's ``ListingPatch``), refused when it changed since the
        form was read."""
        require_role(principal, *LISTING_ROLES)
        listing = await gac.listing_for(listing_id, principal)
        form = await request.form()
        values = form_values(form, lists=LIST_FIELDS)
        try:
            read_at = datetime.fromisoformat(str(form.get("read_at", "")))
        except ValueError:
            read_at = None
        try:
            if read_at is None:
                raise ConflictError("the form has no version; reload it and try again")
            data = parse_form(ListingPatch, _listing_values(values, patch=True))
            changes = data.model_dump(mode="json", exclude_unset=True)
            await gac.update_listing(listing, changes, principal, None, read_at=read_at)
        except (FormInvalid, DomainError) as error:
            conflict = isinstance(error, ConflictError) and not error.fields
            return page(
                request,
                "developer/listing_form.html",
                principal,
                status_code=409 if isinstance(error, ConflictError) else 422,
                listing=listing,
                errors=errors_of(error),
                stale=conflict,
                values=_shown(values),
                read_at=form.get("read_at"),
                **await self._form_context(),
            )
        return Redirect(f"/console/developer/listings/{listing.id}?flash=saved", status_code=303)

    @post("/{listing_id:str}/{action:str}")
    async def act(
        self,
        request: Request[Any, Any, Any],
        principal: NamedDependency[Principal],
        listing_id: FromPath[str],
        action: FromPath[str],
    ) -> Any:
        """Submit the listing for review (what it lacks is shown next to its fields), or
        withdraw it to draft."""
        require_role(principal, *LISTING_ROLES)
        if action not in ("submit", "withdraw"):
            raise NotFoundError(f"no action {action!r}")
        listing = await gac.listing_for(listing_id, principal)
        try:
            await gac.transition(listing, action, principal, None)
        except DomainError as error:
            return page(
                request,
                "developer/listing_form.html",
                principal,
                status_code=error.status_code,
                listing=listing,
                errors=errors_of(error),
                values=_form_of(listing),
                **await self._form_context(),
            )
        flash = "submitted" if action == "submit" else "withdrawn"
        return Redirect(f"/console/developer/listings/{listing.id}?flash={flash}", status_code=303)


def _shown(values: dict[str, Any]) -> dict[str, Any]:
    """Submitted values as the form shows them again (lists joined)."""
    shown = dict(values)
    for field in LIST_FIELDS:
        joiner = "\n" if field == "screenshot_urls" else ", "
        shown[field] = joiner.join(shown.get(field) or [])
    return shown

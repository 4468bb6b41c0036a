"""Signing in and out of the console, and its home page."""

from __future__ import annotations

from typing import Any

from litestar import Controller, Request, get, post
from litestar.di import NamedDependency
from litestar.params import FromQuery
from litestar.response import Redirect, Template

from gnews.accounts import service as accounts
from gnews.accounts.guards import Principal
from gnews.console import sessions
from gnews.console.forms import FORM_FIELD
from gnews.console.rendering import page
from gnews.core.errors import UnauthorizedError


class SignInController(Controller):
    """``/console/sign-in``, ``/console/sign-out``: sessions (no session needed to get here)."""

    path = "/"
    include_in_schema = False

    @get("/sign-in")
    async def sign_in_form(
        self,
        request: Request[Any, Any, Any],
        next: FromQuery[str | None] = None,
        reason: FromQuery[str | None] = None,
    ) -> Template:
        """The sign-in form (``reason``: why the last session ended)."""
        return page(request, "sign_in.html", None, next=sessions.safe_next(next), reason=reason)

    @post("/sign-in")
    async def sign_in(self, request: Request[Any, Any, Any]) -> Any:
        """Check the e-mail and password (the API's rule), start a session, go on."""
        data = await request.form()
        email, password = str(data.get("email", "")).strip(), str(data.get("password", ""))
        target = sessions.safe_next(data.get("next"))
        errors = {}
        if not email:
            errors["email"] = "required"
        if not password:
            errors["password"] = "required"
        if not errors:
            try:
                user = await accounts.check_credentials(email, password)
            except UnauthorizedError as error:
                errors[FORM_FIELD] = error.message
            else:
                sessions.sign_in(request, user)
                return Redirect(target, status_code=303)
        return page(
            request,
            "sign_in.html",
            None,
            status_code=422 if errors.keys() - {FORM_FIELD} else 401,
            next=target,
            errors=errors,
            values={"email": email},
        )

    @post("/sign-out")
    async def sign_out(self, request: Request[Any, Any, Any]) -> Redirect:
        """End the session."""
        sessions.sign_out(request)
        return Redirect(
            sessions.sign_in_location(sessions.PATH + "/", "signed-out"), status_code=303
        )


class HomeController(Controller):
    """``/console/``: what needs the signed-in person."""

    path = "/"
    include_in_schema = False

    @get("/")
    async def home(
        self, request: Request[Any, Any, Any], principal: NamedDependency[Principal]
    ) -> Template:
        """The home page of the role."""
        return page(request, "home.html", principal)

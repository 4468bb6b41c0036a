"""The console's router: its pages, sessions, CSRF and error pages (HTML, never JSON)."""

from __future__ import annotations

from typing import Any

from litestar import Request, Response, Router
from litestar.di import Provide
from litestar.exceptions import HTTPException
from litestar.response import Redirect
from litestar.stores.base import Store
from litestar.types import ControllerRouterHandler

from gnews.config import Settings
from gnews.console import sessions
from gnews.console.auth import HomeController, SignInController
from gnews.console.notifications import NotificationPagesController
from gnews.console.rendering import page
from gnews.core.errors import DomainError

CONTROLLERS: list[ControllerRouterHandler] = [
    SignInController,
    HomeController,
    NotificationPagesController,
]
"""Every page controller of the console (each area adds its own)."""


def _sign_in_required(
    request: Request[Any, Any, Any], exc: sessions.SignInRequired
) -> Response[Any]:
    if request.headers.get("hx-request"):  # htmx: reload the whole page at the sign-in form
        location = sessions.sign_in_location(exc.next_path, exc.reason)
        return Response(b"", status_code=401, headers={"HX-Redirect": location})
    return Redirect(sessions.sign_in_location(exc.next_path, exc.reason), status_code=303)


def _error_page(request: Request[Any, Any, Any], exc: Exception) -> Response[Any]:
    status = getattr(exc, "status_code", 500)
    message = getattr(exc, "message", None) or getattr(exc, "detail", "") or str(exc)
    if status == 403 and "CSRF" in str(message):
        message = "This form has expired or did not come from the console: reload and try again."
    return page(request, "error.html", None, status_code=status, status=status, message=message)


def console_router(settings: Settings) -> Router:
    """``/console``: every console page, with sessions and CSRF protection."""
    return Router(
        sessions.PATH,
        route_handlers=CONTROLLERS,
        middleware=sessions.middleware(settings),
        dependencies={"principal": Provide(sessions.provide_console_principal)},
        exception_handlers={
            sessions.SignInRequired: _sign_in_required,
            DomainError: _error_page,
            HTTPException: _error_page,
        },
        include_in_schema=False,
    )


def console_stores(settings: Settings) -> dict[str, Store]:
    """The stores the console needs registered on the application."""
    return {sessions.STORE: sessions.session_store(settings)}

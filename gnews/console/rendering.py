"""Rendering a console page: the layout's context (language, account, menu, CSRF token)."""

from __future__ import annotations

from typing import Any

from litestar import MediaType, Request
from litestar.response import Template
from litestar.utils.scope.state import ScopeState

from gnews.accounts.guards import Principal
from gnews.console.menu import menu_for
from gnews.web import language_cookies, page_language


def csrf_token(request: Request[Any, Any, Any]) -> str:
    """This request's CSRF token (forms send it as ``_csrf_token``, htmx as ``x-csrftoken``)."""
    token = ScopeState.from_scope(request.scope).csrf_token
    return token if isinstance(token, str) else ""


def page(
    request: Request[Any, Any, Any],
    template: str,
    principal: Principal | None,
    *,
    status_code: int = 200,
    **context: Any,
) -> Template:
    """``console/<template>`` rendered in the layout for ``principal`` (None: signed out)."""
    if principal is None and not request.session:
        request.clear_session()  # no empty session kept in the store for anonymous visitors
    return Template(
        template_name=f"console/{template}",
        status_code=status_code,
        media_type=MediaType.HTML,  # also from handlers that may answer a redirect instead
        cookies=language_cookies(request),
        context={
            "lang": page_language(request),
            "principal": principal,
            "menu": menu_for(principal) if principal else [],
            "csrf_token": csrf_token(request),
            "path": request.url.path,
            "errors": {},
            "values": {},
            **context,
        },
    )

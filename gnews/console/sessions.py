"""Console sessions: server-side in Redis, CSRF-protected, expiring, and re-checked on every
request against the account (a deactivated account, or one whose password or role changed, is
signed out on its next request).

The session holds the account id, its token version at sign-in and when it signed in. It expires
after ``GNEWS_CONSOLE_IDLE_SECONDS`` without a request (the store's expiry, renewed on access)
and ``GNEWS_CONSOLE_MAX_SECONDS`` after sign-in whatever happens.
"""

from __future__ import annotations

import time
from typing import Any
from urllib.parse import quote

from litestar import Request
from litestar.config.csrf import CSRFConfig
from litestar.middleware.base import DefineMiddleware
from litestar.middleware.csrf import CSRFMiddleware
from litestar.middleware.session.server_side import ServerSideSessionConfig
from litestar.stores.redis import RedisStore

from gnews.accounts.guards import Principal, signed_in_principal
from gnews.accounts.models import User
from gnews.config import Settings

PATH = "/console"
STORE = "console-sessions"
COOKIE = "gnews_console"
CSRF_COOKIE = "gnews_console_csrf"


class SignInRequired(Exception):
    """No valid session: the console answers with the sign-in page (``next`` = where to go)."""

    def __init__(self, next_path: str, reason: str | None = None) -> None:
        super().__init__(reason or "sign in required")
        self.next_path = next_path
        self.reason = reason


def session_store(settings: Settings) -> RedisStore:
    """Where console sessions live (a namespace of the application's Redis)."""
    return RedisStore.with_client(url=settings.redis_url or "", namespace="gnews:console")


def middleware(settings: Settings) -> list[DefineMiddleware]:
    """Sessions then CSRF, for the console's router only (the API uses bearer tokens)."""
    secure = settings.is_production
    sessions = ServerSideSessionConfig(
        store=STORE,
        key=COOKIE,
        path=PATH,
        max_age=settings.console_idle_seconds,
        renew_on_access=True,
        httponly=True,
        secure=secure,
        samesite="lax",
    )
    csrf = CSRFConfig(
        secret=settings.signing_key,
        cookie_name=CSRF_COOKIE,
        cookie_path=PATH,
        cookie_secure=secure,
        cookie_samesite="strict",
    )
    return [sessions.middleware, DefineMiddleware(CSRFMiddleware, config=csrf)]


def sign_in(request: Request[Any, Any, Any], user: User) -> None:
    """Start a session for ``user`` (a new session id: no fixation)."""
    request.clear_session()
    request.set_session(
        {"user_id": str(user.id), "version": user.token_version, "signed_in_at": time.time()}
    )


def sign_out(request: Request[Any, Any, Any]) -> None:
    """End the session (deleted from the store)."""
    request.clear_session()


async def provide_console_principal(request: Request[Any, Any, Any]) -> Principal:
    """Dependency ``principal`` of the console: the session's account, checked now.

    :class:`SignInRequired` (→ the sign-in page) without a session (``expired`` when the
    browser still had one), too long after signing in, or when the account was deactivated or
    its password or role changed meanwhile.
    """
    session = request.session or {}
    next_path = request.url.path + (f"?{request.url.query}" if request.url.query else "")
    if not session.get("user_id"):
        had_one = request.cookies.get(COOKIE) not in (None, "", "null")  # "null": signed out
        raise SignInRequired(next_path, "expired" if had_one else None)
    settings: Settings = request.app.state.settings
    if time.time() - float(session.get("signed_in_at", 0)) > settings.console_max_seconds:
        sign_out(request)
        raise SignInRequired(next_path, "expired")
    principal = await signed_in_principal(str(session["user_id"]), int(session.get("version", -1)))
    if principal is None:
        sign_out(request)
        raise SignInRequired(next_path, "revoked")
    return principal


def sign_in_location(next_path: str, reason: str | None = None) -> str:
    """The sign-in page's URL, coming back to ``next_path`` afterwards."""
    location = f"{PATH}/sign-in?next={quote(next_path, safe='')}"
    return location + (f"&reason={reason}" if reason else "")


def safe_next(next_path: str | None) -> str:
    """Where to go after signing in: a console path only (no open redirect)."""
    if next_path == PATH or (next_path or "").startswith((PATH + "/", PATH + "?")):
        return next_path  # type: ignore[return-value]
    return PATH + "/"

"""Who is calling, and guards that say who may.

Credentials: ``Authorization: Bearer <token>`` (people, from ``POST /api/v1/auth/login``) or
``X-API-Key: <key>`` (an agency's systems). A guard authenticates once per request and keeps the
:class:`Principal` on the connection; handlers receive it through the ``principal`` dependency.
Wrong credentials → 401; a role that may not → 403. Resources of another agency or user are
answered with 404 by the handlers, so their existence is not revealed.
"""

from __future__ import annotations

from collections.abc import Awaitable, Callable
from dataclasses import dataclass
from datetime import UTC, datetime, timedelta
from typing import Literal

import jwt
from beanie import PydanticObjectId
from bson.errors import InvalidId
from litestar import Request
from litestar.connection import ASGIConnection
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler
from litestar.openapi.spec import SecurityRequirement

from gnews.accounts.models import ApiKey, Role, User
from gnews.accounts.security import decode_token, hash_api_key
from gnews.config import Settings
from gnews.core.openapi import answers
from gnews.core.persistence import update_one

Guard = Callable[[ASGIConnection, BaseRouteHandler], Awaitable[None]]

# OpenAPI security requirements of guarded routes (public routes declare none).
BEARER: list[SecurityRequirement] = [{"BearerToken": []}]
BEARER_OR_API_KEY: list[SecurityRequirement] = [{"BearerToken": []}, {"ApiKey": []}]
_STATE_KEY = "principal"
API_KEY_TOUCH_INTERVAL = timedelta(minutes=5)


@dataclass(frozen=True, slots=True)
class Principal:
    """The authenticated caller: a user, or an agency's API key."""

    kind: Literal["user", "api_key"]
    id: str
    role: Role
    agency: str | None = None
    email: str | None = None

    @property
    def is_admin(self) -> bool:
        """Admins may do everything."""
        return self.role is Role.ADMIN

    @property
    def is_staff(self) -> bool:
        """EGA staff: admins and editors."""
        return self.role in (Role.ADMIN, Role.EDITOR)

    def acts_for(self, agency: str | None) -> bool:
        """True when this caller may manage ``agency``'s things (admins: any agency)."""
        return self.is_admin or (agency is not None and self.agency == agency)

    def audit_actor(self) -> dict[str, str | None]:
        """How this caller appears in the audit log."""
        return {
            "kind": self.kind,
            "id": self.id,
            "role": self.role.value,
            "email": self.email,
            "agency": self.agency,
        }


Caller = NamedDependency[Principal]
"""A handler parameter ``principal: Caller`` receives the authenticated caller."""


def _unauthorized(message: str) -> NotAuthorizedException:
    return NotAuthorizedException(message, headers={"WWW-Authenticate": "Bearer"})


async def _user_principal(token: str, settings: Settings) -> Principal:
    try:
        claims = decode_token(token, settings.signing_key)
        user = await User.get(PydanticObjectId(claims["sub"]))
    except (jwt.InvalidTokenError, InvalidId, TypeError):
        raise _unauthorized("invalid or expired token") from None
    if user is None or not user.active:
        raise _unauthorized("invalid or expired token")
    if claims.get("ver", 0) != user.token_version:
        raise _unauthorized("token revoked (the account's password, role or status changed)")
    return principal_of(user)


def principal_of(user: User) -> Principal:
    """The principal of a signed-in account."""
    return Principal("user", str(user.id), user.role, user.agency, user.email)


async def signed_in_principal(user_id: str, version: int) -> Principal | None:
    """The principal of an account signed in (e.g. a console session) at token ``version``;
    None when the account is gone, deactivated, or its password, role or status changed since
    (the same rules as a bearer token's)."""
    try:
        user = await User.get(PydanticObjectId(user_id))
    except (InvalidId, TypeError):
        return None
    if user is None or not user.active or user.token_version != version:
        return None
    return principal_of(user)


async def _api_key_principal(secret: str) -> Principal:
    key = await ApiKey.find_one(ApiKey.key_hash == hash_api_key(secret.strip()))
    if key is None or key.revoked_at is not None:
        raise _unauthorized("invalid or revoked API key")
    now = datetime.now(UTC)
    if key.last_used_at is None or now - key.last_used_at > API_KEY_TOUCH_INTERVAL:
        # Guarded by "not revoked": a key revoked meanwhile stays revoked and is refused.
        touched = await update_one(
            ApiKey, {"_id": key.id, "revoked_at": None}, set={"last_used_at": now}
        )
        if not touched:
            raise _unauthorized("invalid or revoked API key")
    return Principal("api_key", str(key.id), Role.AGENCY, key.agency, None)


async def authenticate(connection: ASGIConnection) -> Principal | None:
    """The caller of this request (None when anonymous); 401 on bad credentials."""
    state = connection.scope.setdefault("state", {})
    if _STATE_KEY in state:
        return state[_STATE_KEY]
    principal = None
    api_key = connection.headers.get("x-api-key")
    authorization = connection.headers.get("authorization", "")
    scheme, _, credentials = authorization.partition(" ")
    if api_key:
        principal = await _api_key_principal(api_key)
    elif scheme.lower() == "bearer":
        if not credentials.strip():
            raise _unauthorized("empty bearer token")
        principal = await _user_principal(credentials.strip(), connection.app.state.settings)
    state[_STATE_KEY] = principal
    return principal


def requires(*roles: Role, api_keys: bool = True) -> Guard:
    """A guard admitting authenticated callers with one of ``roles`` (any role when empty).

    ``api_keys=False`` refuses agency API keys (e.g. for managing accounts and keys).
    """

    @answers(401, 403) if roles or not api_keys else answers(401)
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        principal = await authenticate(connection)
        if principal is None:
            raise _unauthorized("authentication required")
        if principal.kind == "api_key" and not api_keys:
            raise PermissionDeniedException("API keys may not do this; sign in as a user")
        if roles and principal.role not in roles:
            allowed = ", ".join(role.value for role in roles)
            raise PermissionDeniedException(f"requires role: {allowed}")

    return guard


@answers(401)
async def provide_principal(request: Request) -> Principal:
    """Dependency ``principal``: the caller a guard has authenticated."""
    principal = await authenticate(request)
    if principal is None:
        raise _unauthorized("authentication required")
    return principal


@answers(401)
async def provide_optional_principal(request: Request) -> Principal | None:
    """Dependency ``maybe_principal``: the caller, or None when anonymous."""
    return await authenticate(request)

"""``/api/v1/auth``, ``/api/v1/users`` and ``/api/v1/agencies/{code}/api-keys``."""

from __future__ import annotations

from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency, Provide
from litestar.params import FromPath, FromQuery, JSONBody

from gnews.accounts import service
from gnews.accounts.guards import BEARER, BEARER_OR_API_KEY, Principal, requires
from gnews.accounts.models import Role, User
from gnews.accounts.schemas import (
    ApiKeyIn,
    ApiKeyOut,
    LoginIn,
    MeOut,
    NewApiKeyOut,
    RegisterIn,
    TokenOut,
    UserIn,
    UserOut,
    UserPatch,
)
from gnews.agencies.models import Agency
from gnews.agencies.service import agency_managed_by
from gnews.config import Settings
from gnews.core.errors import UnauthorizedError
from gnews.core.pagination import Cursor, Limit, Page


async def provide_user(user_id: FromPath[str]) -> User:
    """Dependency ``user``: the account named by the path, or 404."""
    return await service.user_by_id(user_id)


async def provide_managed_agency(
    code: FromPath[str], principal: NamedDependency[Principal]
) -> Agency:
    """Dependency ``agency``: the path's agency if the caller manages it; 404 otherwise (another
    agency's keys are "not found", not "forbidden": their existence stays private)."""
    return await agency_managed_by(code, principal)


class AuthController(Controller):
    """Sign in and find out who you are."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post(
        "/login",
        summary="Exchange e-mail and password for a bearer token",
        status_code=200,
        raises=[UnauthorizedError],  # type: ignore[list-item]  # a domain error with status_code: gnews.core.openapi reads it
    )
    async def login(self, data: JSONBody[LoginIn], settings: NamedDependency[Settings]) -> TokenOut:
        """401 for an unknown e-mail, a wrong password or a deactivated account alike."""
        issued = await service.login(data.email, data.password, settings)
        return TokenOut(
            access_token=issued.token,
            expires_at=issued.expires_at,
            expires_in=issued.expires_in,
            user=UserOut.from_document(issued.user),
        )

    @get("/me", guards=[requires()], security=BEARER_OR_API_KEY, summary="The caller")
    async def me(self, principal: NamedDependency[Principal]) -> MeOut:
        """The signed-in user, or the agency an API key belongs to."""
        user = await service.account_of(principal)
        return MeOut(
            kind=principal.kind,
            role=principal.role,
            agency=principal.agency,
            user=UserOut.from_document(user) if user else None,
        )

    @post("/register", summary="Sign up as an app developer", operation_id="registerDeveloper")
    async def register(self, data: JSONBody[RegisterIn]) -> UserOut:
        """Creates a ``developer`` account (other roles are given by admins)."""
        user = await service.register_developer(data.email, data.password, data.name)
        return UserOut.from_document(user)


class UserController(Controller):
    """Accounts, managed by admins."""

    path = "/api/v1/users"
    tags = ["users"]
    guards = [requires(Role.ADMIN, api_keys=False)]
    security = BEARER
    dependencies = {"user": Provide(provide_user)}

    @get("/", summary="List accounts")
    async def list_users(
        self,
        role: FromQuery[Role | None] = None,
        agency: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[UserOut]:
        """Accounts in order of creation, optionally by role or agency."""
        return Page.of(
            UserOut.from_document,
            await service.list_users(role=role, agency=agency, cursor=cursor, limit=limit),
        )

    @post("/", summary="Create an account")
    async def create(
        self, data: JSONBody[UserIn], principal: NamedDependency[Principal]
    ) -> UserOut:
        """Any role; an ``agency`` account names its agency."""
        return UserOut.from_document(await service.create_account(data.model_dump(), principal))

    @get("/{user_id:str}", summary="One account")
    async def get_user(self, user: NamedDependency[User]) -> UserOut:
        """The account with this id."""
        return UserOut.from_document(user)

    @patch("/{user_id:str}", summary="Change an account")
    async def update(
        self,
        user: NamedDependency[User],
        data: JSONBody[UserPatch],
        principal: NamedDependency[Principal],
    ) -> UserOut:
        """Role, agency, name, active flag or password."""
        changes = data.model_dump(exclude_unset=True)
        return UserOut.from_document(await service.update_user(user, changes, principal))


class ApiKeyController(Controller):
    """API keys of one agency: its own users and admins manage them."""

    path = "/api/v1/agencies/{code:str}/api-keys"
    tags = ["api keys"]
    guards = [requires(Role.ADMIN, Role.AGENCY, api_keys=False)]
    security = BEARER
    dependencies = {"agency": Provide(provide_managed_agency)}

    @get("/", summary="List an agency's API keys")
    async def list_keys(
        self, agency: NamedDependency[Agency], include_revoked: FromQuery[bool] = False
    ) -> list[ApiKeyOut]:
        """Keys of the agency, newest first, without their secrets."""
        keys = await service.list_api_keys(agency, include_revoked=include_revoked)
        return [ApiKeyOut.from_document(k) for k in keys]

    @post("/", summary="Create an API key (its secret is shown once)")
    async def create_key(
        self,
        agency: NamedDependency[Agency],
        data: JSONBody[ApiKeyIn],
        principal: NamedDependency[Principal],
    ) -> NewApiKeyOut:
        """Send the returned ``key`` as ``X-API-Key``; only its hash is kept."""
        key, secret = await service.create_api_key(agency, data.name, principal)
        return NewApiKeyOut.from_document(key, key=secret)

    @delete("/{key_id:str}", summary="Revoke an API key", status_code=200)
    async def revoke_key(
        self,
        agency: NamedDependency[Agency],
        key_id: FromPath[str],
        principal: NamedDependency[Principal],
    ) -> ApiKeyOut:
        """The key stops working at once; revoking twice is harmless."""
        return ApiKeyOut.from_document(await service.revoke_api_key(agency, key_id, principal))

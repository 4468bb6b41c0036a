"""``/api/v1/auth``, ``/api/v1/users`` and ``/api/v1/agencies/{code}/api-keys``."""

from __future__ import annotations

from typing import Annotated

from beanie import PydanticObjectId
from litestar import Controller, delete, get, patch, post
from litestar.di import NamedDependency
from litestar.exceptions import NotAuthorizedException, NotFoundException
from litestar.params import FromPath, FromQuery, JSONBody
from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from gnews.accounts.guards import BEARER, BEARER_OR_API_KEY, Principal, requires
from gnews.accounts.models import ApiKey, Role, User
from gnews.accounts.security import hash_password, issue_token, new_api_key, verify_password
from gnews.accounts.service import (
    check_password,
    check_role_agency,
    create_user,
    normalize_email,
)
from gnews.agencies.controllers import get_agency_or_404
from gnews.audit import service as audit
from gnews.config import Settings
from gnews.core.clock import UtcDateTime, utcnow
from gnews.core.pagination import Cursor, Limit, Page, check_limit, page_by_id
from gnews.core.persistence import store_changes

Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LoginIn(BaseModel):
    """E-mail and password."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    password: Password


class UserOut(BaseModel):
    """An account as the API shows it (never its password hash)."""

    id: str
    email: str
    role: Role
    agency: str | None
    name: str | None
    active: bool
    created_at: UtcDateTime
    last_login_at: UtcDateTime | None

    @classmethod
    def of(cls, user: User) -> UserOut:
        """Convert a stored user."""
        return cls(id=str(user.id), **user.model_dump(include=set(cls.model_fields) - {"id"}))


class TokenOut(BaseModel):
    """A bearer token to send as ``Authorization: Bearer <access_token>``."""

    access_token: str
    token_type: str = "bearer"
    expires_at: UtcDateTime
    expires_in: int
    user: UserOut


class MeOut(BaseModel):
    """The caller: a user (``user`` set) or an agency API key."""

    kind: str
    role: Role
    agency: str | None
    user: UserOut | None = None


class RegisterIn(BaseModel):
    """An app developer signing up."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    name: str | None = Field(None, max_length=200)


class UserIn(BaseModel):
    """A new account, created by an admin."""

    model_config = ConfigDict(extra="forbid")

    email: EmailStr
    password: Password
    role: Role
    agency: str | None = None
    name: str | None = Field(None, max_length=200)


class UserPatch(BaseModel):
    """Changes to an account; omitted fields stay as they are."""

    model_config = ConfigDict(extra="forbid")

    role: Role | None = None
    agency: str | None = None
    name: str | None = Field(None, max_length=200)
    active: bool | None = None
    password: Password | None = None


class AuthController(Controller):
    """Sign in and find out who you are."""

    path = "/api/v1/auth"
    tags = ["auth"]

    @post("/login", summary="Exchange e-mail and password for a bearer token", status_code=200)
    async def login(self, data: JSONBody[LoginIn], settings: NamedDependency[Settings]) -> TokenOut:
        """401 for an unknown e-mail, a wrong password or a deactivated account alike."""
        user = await User.find_one(User.email == normalize_email(data.email))
        if not verify_password(user.password_hash if user else None, data.password):
            raise NotAuthorizedException("wrong e-mail or password")
        assert user is not None
        if not user.active:
            raise NotAuthorizedException("wrong e-mail or password")
        now = utcnow()
        await store_changes(user, {"last_login_at": now})
        token, expires_at = issue_token(
            str(user.id), user.role.value, settings.signing_key, settings.jwt_ttl_seconds
        )
        return TokenOut(
            access_token=token,
            expires_at=expires_at,
            expires_in=settings.jwt_ttl_seconds,
            user=UserOut.of(user),
        )

    @get("/me", guards=[requires()], security=BEARER_OR_API_KEY, summary="The caller")
    async def me(self, principal: NamedDependency[Principal]) -> MeOut:
        """The signed-in user, or the agency an API key belongs to."""
        user = None
        if principal.kind == "user":
            stored = await User.get(PydanticObjectId(principal.id))
            user = UserOut.of(stored) if stored else None
        return MeOut(kind=principal.kind, role=principal.role, agency=principal.agency, user=user)

    @post("/register", summary="Sign up as an app developer")
    async def register(self, data: JSONBody[RegisterIn]) -> UserOut:
        """Creates a ``developer`` account (other roles are given by admins)."""
        user = await create_user(data.email, data.password, Role.DEVELOPER, name=data.name)
        await audit.record(
            {"kind": "user", "id": str(user.id), "role": "developer", "email": user.email},
            "user.register",
            "user",
            str(user.id),
            after={"email": user.email, "role": "developer"},
        )
        return UserOut.of(user)


async def _user_or_404(user_id: FromPath[str]) -> User:
    try:
        user = await User.get(PydanticObjectId(user_id))
    except Exception:
        user = None
    if user is None:
        raise NotFoundException("no such user")
    return user


class UserController(Controller):
    """Accounts, managed by admins."""

    path = "/api/v1/users"
    tags = ["users"]
    guards = [requires(Role.ADMIN, api_keys=False)]
    security = BEARER

    @get("/", summary="List accounts")
    async def list_users(
        self,
        role: FromQuery[Role | None] = None,
        agency: FromQuery[str | None] = None,
        cursor: Cursor = None,
        limit: Limit = None,
    ) -> Page[UserOut]:
        """Accounts in order of creation, optionally by role or agency."""
        criteria = {k: v for k, v in (("role", role), ("agency", agency)) if v is not None}
        users, next_cursor = await page_by_id(
            lambda after: User.find({**criteria, **after}), check_limit(limit), cursor=cursor
        )
        return Page(items=[UserOut.of(u) for u in users], next_cursor=next_cursor)

    @post("/", summary="Create an account")
    async def create(
        self, data: JSONBody[UserIn], principal: NamedDependency[Principal]
    ) -> UserOut:
        """Any role; an ``agency`` account names its agency."""
        user = await create_user(
            data.email, data.password, data.role, agency=data.agency, name=data.name
        )
        await audit.record(
            principal,
            "user.create",
            "user",
            str(user.id),
            after={"email": user.email, "role": user.role.value, "agency": user.agency},
        )
        return UserOut.of(user)

    @get("/{user_id:str}", summary="One account")
    async def get_user(self, user_id: FromPath[str]) -> UserOut:
        """The account with this id."""
        return UserOut.of(await _user_or_404(user_id))

    @patch("/{user_id:str}", summary="Change an account")
    async def update(
        self,
        user_id: FromPath[str],
        data: JSONBody[UserPatch],
        principal: NamedDependency[Principal],
    ) -> UserOut:
        """Role, agency, name, active flag or password."""
        user = await _user_or_404(user_id)
        changes = data.model_dump(exclude_unset=True)
        role = changes.get("role", user.role)
        agency = changes.get("agency", user.agency if role is Role.AGENCY else None)
        changes["agency"] = await check_role_agency(role, agency)
        shown = {k: v for k, v in changes.items() if k != "password"}
        before = {k: getattr(user, k) for k in shown}
        if "password" in changes:
            changes["password_hash"] = hash_password(check_password(changes.pop("password")))
            shown["password"] = "changed"
        await store_changes(user, {**changes, "updated_at": utcnow()})
        await audit.record(principal, "user.update", "user", user_id, before=before, after=shown)
        return UserOut.of(user)


class ApiKeyIn(BaseModel):
    """A new API key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["news publisher"])


class ApiKeyOut(BaseModel):
    """An API key without its secret."""

    id: str
    agency: str
    name: str
    prefix: str
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None

    @classmethod
    def of(cls, key: ApiKey) -> ApiKeyOut:
        """Convert a stored key."""
        return cls(id=str(key.id), **key.model_dump(include=set(cls.model_fields) - {"id"}))


class NewApiKeyOut(ApiKeyOut):
    """A freshly created key: ``key`` is shown this once and never again."""

    key: str


class ApiKeyController(Controller):
    """API keys of one agency: its own users and admins manage them."""

    path = "/api/v1/agencies/{code:str}/api-keys"
    tags = ["api keys"]
    guards = [requires(Role.ADMIN, Role.AGENCY, api_keys=False)]
    security = BEARER

    @staticmethod
    async def _own_agency(code: str, principal: NamedDependency[Principal]) -> None:
        # Another agency's keys are "not found", not "forbidden": their existence stays private.
        if not principal.acts_for(code):
            raise NotFoundException(f"no agency {code!r}")
        await get_agency_or_404(code)

    @get("/", summary="List an agency's API keys")
    async def list_keys(
        self,
        code: FromPath[str],
        principal: NamedDependency[Principal],
        include_revoked: FromQuery[bool] = False,
    ) -> list[ApiKeyOut]:
        """Keys of the agency, newest first, without their secrets."""
        await self._own_agency(code, principal)
        criteria: dict = {"agency": code}
        if not include_revoked:
            criteria["revoked_at"] = None
        keys = await ApiKey.find(criteria).sort([("_id", -1)]).to_list()
        return [ApiKeyOut.of(k) for k in keys]

    @post("/", summary="Create an API key (its secret is shown once)")
    async def create_key(
        self, code: FromPath[str], data: JSONBody[ApiKeyIn], principal: NamedDependency[Principal]
    ) -> NewApiKeyOut:
        """Send the returned ``key`` as ``X-API-Key``; only its hash is kept."""
        await self._own_agency(code, principal)
        secret, prefix, key_hash = new_api_key()
        key = await ApiKey(
            agency=code, name=data.name, prefix=prefix, key_hash=key_hash, created_by=principal.id
        ).insert()
        await audit.record(
            principal,
            "api_key.create",
            "api_key",
            str(key.id),
            after={"agency": code, "name": data.name, "prefix": prefix},
        )
        return NewApiKeyOut(key=secret, **ApiKeyOut.of(key).model_dump())

    @delete("/{key_id:str}", summary="Revoke an API key", status_code=200)
    async def revoke_key(
        self, code: FromPath[str], key_id: FromPath[str], principal: NamedDependency[Principal]
    ) -> ApiKeyOut:
        """The key stops working at once; revoking twice is harmless."""
        await self._own_agency(code, principal)
        try:
            key = await ApiKey.get(PydanticObjectId(key_id))
        except Exception:
            key = None
        if key is None or key.agency != code:
            raise NotFoundException("no such API key")
        if key.revoked_at is None:
            await store_changes(key, {"revoked_at": utcnow()})
            await audit.record(
                principal,
                "api_key.revoke",
                "api_key",
                key_id,
                after={"agency": code, "prefix": key.prefix},
            )
        return ApiKeyOut.of(key)

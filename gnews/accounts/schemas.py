"""What the API takes and shows of accounts, bearer tokens and API keys."""

from __future__ import annotations

from typing import Annotated, ClassVar

from pydantic import BaseModel, ConfigDict, EmailStr, Field, StringConstraints

from gnews.accounts.models import Role
from gnews.core.clock import UtcDateTime
from gnews.core.schemas import DocumentOut, NoNullsPatch

Password = Annotated[str, StringConstraints(min_length=1, max_length=1024)]


class LoginIn(BaseModel):
    """E-mail and password."""

    model_config = ConfigDict(extra="forbid")

    email: str = Field(min_length=3, max_length=320)
    password: Password


class UserOut(DocumentOut):
    """An account as the API shows it (never its password hash)."""

    id: str
    email: str
    role: Role
    agency: str | None
    name: str | None
    active: bool
    created_at: UtcDateTime
    last_login_at: UtcDateTime | None


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


class UserPatch(NoNullsPatch):
    """Changes to an account; omitted fields stay as they are. ``null`` clears ``agency`` and
    ``name``; it is refused for the others."""

    nullable_fields: ClassVar[frozenset[str]] = frozenset({"agency", "name"})

    role: Role | None = None
    agency: str | None = None
    name: str | None = Field(None, max_length=200)
    active: bool | None = None
    password: Password | None = None


class ApiKeyIn(BaseModel):
    """A new API key."""

    model_config = ConfigDict(extra="forbid")

    name: str = Field(min_length=1, max_length=100, examples=["news publisher"])


class ApiKeyOut(DocumentOut):
    """An API key without its secret."""

    id: str
    agency: str
    name: str
    prefix: str
    created_at: UtcDateTime
    revoked_at: UtcDateTime | None
    last_used_at: UtcDateTime | None


class NewApiKeyOut(ApiKeyOut):
    """A freshly created key: ``key`` is shown this once and never again."""

    key: str

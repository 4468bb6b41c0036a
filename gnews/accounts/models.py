"""Documents of users and agency API keys."""

from __future__ import annotations

from datetime import datetime
from enum import StrEnum

from beanie import Document, Indexed
from pydantic import Field

from gnews.core.clock import utcnow


class Role(StrEnum):
    """What an account may do. ``agency`` accounts are bound to one agency."""

    ADMIN = "admin"
    EDITOR = "editor"
    AGENCY = "agency"
    DEVELOPER = "developer"


class User(Document):
    """A person who signs in: an EGA admin or editor, an agency's staff, an app developer."""

    email: Indexed(str, unique=True)  # type: ignore[valid-type]  # stored lower-case
    password_hash: str
    role: Role
    agency: str | None = None
    name: str | None = None
    active: bool = True
    # Bumped when the password, role or active flag changes: tokens carry the version they
    # were issued under (claim ``ver``) and stop working once it moves on.
    token_version: int = 0
    created_at: datetime = Field(default_factory=utcnow)
    updated_at: datetime = Field(default_factory=utcnow)
    last_login_at: datetime | None = None

    class Settings:
        name = "users"


class ApiKey(Document):
    """A key an agency's systems send as ``X-API-Key``; only its SHA-256 is stored."""

    agency: Indexed(str)  # type: ignore[valid-type]
    name: str
    prefix: str  # shown in listings so people can tell keys apart
    key_hash: Indexed(str, unique=True)  # type: ignore[valid-type]
    created_by: str
    created_at: datetime = Field(default_factory=utcnow)
    revoked_at: datetime | None = None
    last_used_at: datetime | None = None

    class Settings:
        name = "api_keys"

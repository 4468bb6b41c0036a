"""Accounts and agency API keys: the rules behind ``gnews.accounts.controllers`` and the CLI.

Every change made through the API is recorded in the audit log. Errors are domain errors
(:mod:`gnews.core.errors`): a wrong password is :class:`UnauthorizedError`, a taken e-mail
:class:`ConflictError`, a bad field :class:`FieldError`.
"""

from __future__ import annotations

from datetime import datetime
from typing import Any, NamedTuple

from beanie import SortDirection

from gnews.accounts.guards import Principal
from gnews.accounts.models import ApiKey, Role, User
from gnews.accounts.security import hash_password, issue_token, new_api_key, verify_password
from gnews.agencies.models import Agency
from gnews.agencies.service import check_active_agencies
from gnews.audit import service as audit
from gnews.config import Settings
from gnews.core.clock import utcnow
from gnews.core.concurrency import unchanged_since
from gnews.core.errors import ConflictError, FieldError, NotFoundError, UnauthorizedError
from gnews.core.pagination import check_limit, page_by_id
from gnews.core.persistence import find_one_and_update, object_id, update_one
from gnews.core.persistence.lookup import get_or_not_found

MIN_PASSWORD_LENGTH = 10


def normalize_email(email: str) -> str:
    """E-mail addresses are compared and stored lower-case, without surrounding spaces."""
    return email.strip().lower()


def check_password(password: str) -> str:
    """A password good enough to keep; 422 naming ``password`` otherwise."""
    if len(password) < MIN_PASSWORD_LENGTH:
        raise FieldError("password", f"must be at least {MIN_PASSWORD_LENGTH} characters")
    if len(password) > 1024:
        raise FieldError("password", "must be at most 1024 characters")
    return password


async def check_role_agency(role: Role, agency: str | None) -> str | None:
    """Agency accounts need an existing agency; other roles have none."""
    if role is Role.AGENCY:
        if not agency:
            raise FieldError("agency", "required for role 'agency'")
        await check_active_agencies("agency", [agency])
        return agency
    if agency:
        raise FieldError(
            "agency", f"only accounts with role 'agency' belong to an agency, not {role.value!r}"
        )
    return None


async def create_user(
    email: str, password: str, role: Role, *, agency: str | None = None, name: str | None = None
) -> User:
    """Create an account after checking every field; 409 when the e-mail is taken."""
    email = normalize_email(email)
    check_password(password)
    agency = await check_role_agency(role, agency)
    if await User.find_one(User.email == email):
        raise ConflictError(f"an account with e-mail {email!r} already exists")
    user = User(
        email=email, password_hash=hash_password(password), role=role, agency=agency, name=name
    )
    return await user.insert()


# -- signing in ---------------------------------------------------------------------------------


class IssuedToken(NamedTuple):
    """A bearer token just issued to ``user``."""

    user: User
    token: str
    expires_at: datetime
    expires_in: int


async def login(email: str, password: str, settings: Settings) -> IssuedToken:
    """A bearer token for this e-mail and password; :class:`UnauthorizedError` for an unknown
    e-mail, a wrong password or a deactivated account alike."""
    user = await check_credentials(email, password)
    token, expires_at = issue_token(
        str(user.id),
        user.role.value,
        settings.signing_key,
        settings.jwt_ttl_seconds,
        version=user.token_version,
    )
    return IssuedToken(user, token, expires_at, settings.jwt_ttl_seconds)


async def check_credentials(email: str, password: str) -> User:
    """The active account with this e-mail and password, its sign-in recorded (the API's token
    and the console's session both start here); :class:`UnauthorizedError` for an unknown
    e-mail, a wrong password or a deactivated account alike."""
    user = await User.find_one(User.email == normalize_email(email))
    if not verify_password(user.password_hash if user else None, password):
        raise UnauthorizedError("wrong e-mail or password")
    assert user is not None
    # Guarded by "active": an account deactivated while its password was being checked (argon2
    # takes a while) stays deactivated and gets no token.
    signed_in = await update_one(
        User, {"_id": user.id, "active": True}, set={"last_login_at": utcnow()}
    )
    if not user.active or not signed_in:
        raise UnauthorizedError("wrong e-mail or password")
    return user


async def account_of(principal: Principal) -> User | None:
    """The stored account of a signed-in user (None for an API key, or a vanished account)."""
    if principal.kind != "user":
        return None
    oid = object_id(principal.id)
    return await User.get(oid) if oid is not None else None


async def register_developer(email: str, password: str, name: str | None) -> User:
    """Sign up an app developer (other roles are given by admins), audited as themselves."""
    user = await create_user(email, password, Role.DEVELOPER, name=name)
    await audit.record(
        {"kind": "user", "id": str(user.id), "role": "developer", "email": user.email},
        "user.register",
        "user",
        str(user.id),
        after={"email": user.email, "role": "developer"},
    )
    return user


# -- accounts, managed by admins ------------------------------------------------------------------


async def user_by_id(user_id: str) -> User:
    """The account with this id; :class:`NotFoundError` otherwise (also for a malformed id)."""
    return await get_or_not_found(User, user_id, "no such user")


async def user_by_email(email: str) -> User | None:
    """The account with this e-mail (compared as stored: lower-case), or None."""
    return await User.find_one(User.email == normalize_email(email))


async def list_users(
    *, role: Role | None, agency: str | None, cursor: str | None, limit: int | None
) -> tuple[list[User], str | None]:
    """One page of accounts in order of creation, optionally by role or agency."""
    criteria = {k: v for k, v in (("role", role), ("agency", agency)) if v is not None}
    return await page_by_id(User, criteria, check_limit(limit), cursor=cursor)


async def create_account(values: dict[str, Any], principal: Principal) -> User:
    """Create an account of any role (``values``: email, password, role, agency, name)."""
    user = await create_user(
        values["email"],
        values["password"],
        values["role"],
        agency=values.get("agency"),
        name=values.get("name"),
    )
    await audit.record(
        principal,
        "user.create",
        "user",
        str(user.id),
        after={"email": user.email, "role": user.role.value, "agency": user.agency},
    )
    return user


def revokes_tokens(user: User, changes: dict[str, Any]) -> bool:
    """True when ``changes`` must end the account's sessions at once: a new password, another
    role, or deactivation (and reactivation: tokens from before are not revived)."""
    return (
        "password_hash" in changes
        or changes.get("role", user.role) != user.role
        or changes.get("active", user.active) != user.active
    )


STALE_ACCOUNT = "the account changed meanwhile; reload it and try again"


async def update_user(
    user: User,
    changes: dict[str, Any],
    principal: Principal,
    *,
    read_at: datetime | None = None,
) -> User:
    """Apply ``changes`` (role, agency, name, active, password; only the fields sent).

    ``read_at``: the ``updated_at`` the caller's form was read at; the change applies only if
    the account was not changed since (else :class:`ConflictError`: never an overwrite)."""
    guard = {"_id": user.id, **unchanged_since(user.updated_at, read_at, STALE_ACCOUNT)}
    changes = dict(changes)
    role = changes.get("role", user.role)
    agency = changes.get("agency", user.agency if role is Role.AGENCY else None)
    changes["agency"] = await check_role_agency(role, agency)
    shown = {k: v for k, v in changes.items() if k != "password"}
    before = {k: getattr(user, k) for k in shown}
    if "password" in changes:
        changes["password_hash"] = hash_password(check_password(changes.pop("password")))
        shown["password"] = "changed"
    # Only the fields sent: a sign-in at the same moment keeps its last_login_at, and this
    # change (e.g. a deactivation) is not undone by it. A change of password, role or status
    # moves token_version on ($inc), revoking every token issued before.
    stored = await find_one_and_update(
        User,
        guard,
        set={**changes, "updated_at": utcnow()},
        inc={"token_version": 1} if revokes_tokens(user, changes) else None,
    )
    if stored is None:
        if read_at is not None and await User.get(user.id) is not None:
            raise ConflictError(STALE_ACCOUNT)
        raise NotFoundError("no such user")
    await audit.record(principal, "user.update", "user", str(user.id), before=before, after=shown)
    return stored


# -- API keys -------------------------------------------------------------------------------------


async def list_api_keys(agency: Agency, *, include_revoked: bool) -> list[ApiKey]:
    """Keys of ``agency``, newest first (revoked ones only with ``include_revoked``)."""
    criteria: dict[str, Any] = {"agency": agency.code}
    if not include_revoked:
        criteria["revoked_at"] = None
    return await ApiKey.find(criteria).sort([("_id", SortDirection.DESCENDING)]).to_list()


async def create_api_key(agency: Agency, name: str, principal: Principal) -> tuple[ApiKey, str]:
    """A new key of ``agency`` and its secret (returned this once; only its hash is kept)."""
    secret, prefix, key_hash = new_api_key()
    key = await ApiKey(
        agency=agency.code, name=name, prefix=prefix, key_hash=key_hash, created_by=principal.id
    ).insert()
    await audit.record(
        principal,
        "api_key.create",
        "api_key",
        str(key.id),
        after={"agency": agency.code, "name": name, "prefix": prefix},
    )
    return key, secret


async def revoke_api_key(agency: Agency, key_id: str, principal: Principal) -> ApiKey:
    """Revoke a key of ``agency`` at once; revoking twice is harmless."""
    key = await get_or_not_found(
        ApiKey, key_id, "no such API key", visible=lambda k: k.agency == agency.code
    )
    revoked = await find_one_and_update(
        ApiKey, {"_id": key.id, "revoked_at": None}, set={"revoked_at": utcnow()}
    )
    if revoked is None:  # revoked already (harmless)
        return await ApiKey.get(key.id) or key
    await audit.record(
        principal,
        "api_key.revoke",
        "api_key",
        key_id,
        after={"agency": agency.code, "prefix": key.prefix},
    )
    return revoked

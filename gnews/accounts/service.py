"""Account operations shared by the API and the CLI (one behaviour, one place)."""

from __future__ import annotations

from gnews.accounts.models import Role, User
from gnews.accounts.security import hash_password
from gnews.agencies.models import agency_exists
from gnews.core.errors import ConflictError, FieldError

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
        if not await agency_exists(agency):
            raise FieldError("agency", f"no active agency {agency!r}")
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

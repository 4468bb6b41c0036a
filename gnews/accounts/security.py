"""Password hashing (argon2), login tokens (JWT, HS256) and API-key secrets."""

from __future__ import annotations

import hashlib
import secrets
from datetime import UTC, datetime, timedelta
from typing import Any

import jwt
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError

_hasher = PasswordHasher()
# Verified against when the e-mail is unknown, so a wrong e-mail costs as long as a wrong password.
_UNKNOWN_USER_HASH = _hasher.hash(secrets.token_urlsafe(16))

TOKEN_ISSUER = "gnews"
TOKEN_ALGORITHM = "HS256"
API_KEY_PREFIX = "gnk"


def hash_password(password: str) -> str:
    """An argon2id hash of ``password``."""
    return _hasher.hash(password)


def verify_password(password_hash: str | None, password: str) -> bool:
    """True when ``password`` matches; takes the same time when there is no hash to check."""
    try:
        return _hasher.verify(password_hash or _UNKNOWN_USER_HASH, password) and bool(password_hash)
    except (VerificationError, InvalidHashError):
        return False


def issue_token(
    subject: str, role: str, key: str, ttl_seconds: int, *, version: int = 0
) -> tuple[str, datetime]:
    """A signed bearer token for ``subject`` and when it expires; ``version``: the account's
    ``token_version`` (claim ``ver``), so that changing it revokes the token."""
    now = datetime.now(UTC)
    expires_at = now + timedelta(seconds=ttl_seconds)
    claims = {
        "sub": subject,
        "role": role,
        "ver": version,
        "iss": TOKEN_ISSUER,
        "iat": now,
        "exp": expires_at,
    }
    return jwt.encode(claims, key, algorithm=TOKEN_ALGORITHM), expires_at


def decode_token(token: str, key: str) -> dict[str, Any]:
    """The claims of a valid token; raises ``jwt.InvalidTokenError`` otherwise."""
    return jwt.decode(
        token,
        key,
        algorithms=[TOKEN_ALGORITHM],
        issuer=TOKEN_ISSUER,
        options={"require": ["sub", "exp", "iat"]},
    )


def new_api_key() -> tuple[str, str, str]:
    """A new API key: (the secret shown once, its public prefix, the hash to store)."""
    prefix = secrets.token_hex(4)
    secret = f"{API_KEY_PREFIX}_{prefix}_{secrets.token_urlsafe(32)}"
    return secret, prefix, hash_api_key(secret)


def hash_api_key(secret: str) -> str:
    """SHA-256 of an API key. Keys are 256-bit random, so a fast hash is enough to store."""
    return hashlib.sha256(secret.encode()).hexdigest()

"""Registering devices, their secrets, and changing their subscriptions.

Secrets: each registration issues a new secret of 256 random bits (``secrets.token_urlsafe``),
returned once; only its SHA-256 is stored, and it is compared with ``hmac.compare_digest``.
A device authenticates with ``Authorization: Device <secret>``.

One device per push token: registering a token that is already known updates that device (its
subscriptions, platform, language, app version; a deactivated device becomes active again) and
issues a NEW secret, the old one stops working. An app registers when it has lost its secret
(reinstalled, data cleared) or has none yet, and whoever holds the push token is that install.
Which device holds a token is kept in ``push_tokens`` (:class:`gnews.devices.models.PushToken`,
keyed by the token), so two registrations of one token at once cannot make two devices, also
with ``devices`` sharded.

Platforms and push tokens (:func:`check_platform`, :func:`check_push_token`): a device registers
for a platform some loaded plugin declares (:mod:`gnews.devices.platforms`), else 422 naming
``platform`` with the known ones; its token must pass that platform's rule, else 422 naming
``push_token``. The built-in rules (``workers/push/builtin.py``): ``android`` an FCM
registration token (100 to 4096 of ``A-Z a-z 0-9 _ - :``), ``ios`` an APNs device token in hex
(64 to 200 digits, stored in lower case); ``huawei`` (``workers/push/hms.py``) an HMS token.
"""

from __future__ import annotations

import hashlib
import hmac
import secrets
from datetime import timedelta
from typing import Any

from beanie import PydanticObjectId
from pymongo.errors import DuplicateKeyError

from gnews.agencies.service import check_active_agencies
from gnews.core.clock import as_utc, utcnow
from gnews.core.errors import ConflictError, FieldError
from gnews.core.persistence import find_one_and_update, insert, object_id, update_one
from gnews.devices.models import Device, PushToken
from gnews.devices.platforms import push_platforms

SEEN_INTERVAL = timedelta(hours=1)
"""``last_seen_at`` is refreshed at most this often (a write per request would not scale)."""

# Compared against when the device is unknown, so a miss costs as long as a wrong secret.
_NO_DEVICE_HASH = hashlib.sha256(secrets.token_bytes(32)).hexdigest()


def new_secret() -> tuple[str, str]:
    """A new device secret and the hash to store."""
    secret = secrets.token_urlsafe(32)
    return secret, hash_secret(secret)


def hash_secret(secret: str) -> str:
    """SHA-256 (hex) of a device secret: it has 256 random bits, no slow hash is needed."""
    return hashlib.sha256(secret.encode()).hexdigest()


def check_platform(platform: str) -> str:
    """``platform`` when a loaded plugin serves it; ValueError listing the known ones."""
    push_platforms().require(platform)
    return platform


def check_push_token(platform: str, token: str) -> str:
    """``token`` canonical for ``platform``; ValueError saying the platform's rule."""
    return push_platforms().check_token(platform, token)


async def register(values: dict[str, Any]) -> tuple[Device, str]:
    """Create the device of ``values["push_token"]``, or update the one that has it; returns the
    device and its new secret (shown once)."""
    await check_active_agencies("agencies", values["agencies"])
    secret, secret_hash = new_secret()
    now = utcnow()
    fields = {
        **values,
        "secret_hash": secret_hash,
        "active": True,
        "updated_at": now,
    }
    token = values["push_token"]
    for _ in range(REGISTER_ATTEMPTS):  # a concurrent registration of the token may win a step
        holder = await token_holder(token)
        if holder is not None:
            updated = await find_one_and_update(
                Device,
                {"_id": object_id(holder), "push_token": token},
                set={**fields, "last_seen_at": now},
            )
            if updated is not None:
                return updated, secret
            # The claim points at no device with this token (a registration died halfway, or
            # the device moved to another token): release it, then claim it afresh.
            await PushToken.get_pymongo_collection().delete_one({"_id": token, "device_id": holder})
            continue
        device_id = PydanticObjectId()
        if not await _claim(token, str(device_id)):
            continue
        device = Device(id=device_id, **fields, created_at=now, last_seen_at=now)
        return await insert(device), secret
    raise ConflictError("the push token is being registered concurrently; retry")


REGISTER_ATTEMPTS = 4


async def token_holder(token: str) -> str | None:
    """The id (hex) of the device holding ``token``, or None."""
    claim = await PushToken.get_pymongo_collection().find_one({"_id": token}, {"device_id": 1})
    if claim is not None:
        return claim["device_id"]
    # A device registered before push_tokens existed: claim its token for it now.
    legacy = await Device.get_pymongo_collection().find_one({"push_token": token}, {"_id": 1})
    if legacy is not None and await _claim(token, str(legacy["_id"])):
        return str(legacy["_id"])
    return None


async def _claim(token: str, device_id: str) -> bool:
    """Record that ``device_id`` holds ``token``; False when another device holds it."""
    try:
        await insert(PushToken(id=token, device_id=device_id))
    except DuplicateKeyError:
        return False
    return True


async def authenticate(device_id: str, secret: str) -> Device | None:
    """The active device with this id and secret, else None (unknown id, wrong secret,
    deactivated: the caller cannot tell which)."""
    oid = object_id(device_id)
    device = await Device.get(oid) if oid is not None else None
    usable = device is not None and device.active
    expected = device.secret_hash if device is not None and usable else _NO_DEVICE_HASH
    if not hmac.compare_digest(expected, hash_secret(secret)) or device is None or not usable:
        return None
    if utcnow() - as_utc(device.last_seen_at) > SEEN_INTERVAL:
        # Guarded by "active": a device deactivated meanwhile stays deactivated (and is refused).
        return await find_one_and_update(
            Device, {"_id": device.id, "active": True}, set={"last_seen_at": utcnow()}
        )
    return device


async def update(device: Device, changes: dict[str, Any]) -> Device:
    """Apply validated ``changes`` (only the fields sent). A new push token is checked against
    the device's platform (422 naming ``push_token``) and must not be another device's (409:
    register it instead)."""
    if "push_token" in changes:
        try:
            changes["push_token"] = check_push_token(device.platform, changes["push_token"])
        except ValueError as error:
            raise FieldError("push_token", str(error)) from None
        token = changes["push_token"]
        me = str(device.id)
        holder = await token_holder(token)
        if holder is None:
            holder = me if await _claim(token, me) else await token_holder(token)
        if holder != me:
            raise ConflictError("push_token belongs to another device; register it instead")
    if "agencies" in changes:
        await check_active_agencies("agencies", changes["agencies"])
    changed = {key: value for key, value in changes.items() if getattr(device, key) != value}
    if not changed:
        return device
    updated = await find_one_and_update(
        Device, {"_id": device.id, "active": True}, set={**changed, "updated_at": utcnow()}
    )
    if updated is None:
        raise ConflictError("the device was deactivated meanwhile; register it again")
    if "push_token" in changed:  # the old token is free for another install
        await PushToken.get_pymongo_collection().delete_one(
            {"_id": device.push_token, "device_id": str(device.id)}
        )
    return updated


async def deactivate(device: Device) -> None:
    """Stop pushing to ``device``; its secret stops working (re-registering revives it)."""
    await update_one(Device, {"_id": device.id}, set={"active": False, "updated_at": utcnow()})

"""Fixtures of the fan-out tests: settings pointing the worker's real transports at the push
emulators (small batches, short leases, a reconciler every second), a real arq worker running
in-process, devices in bulk, and what the emulators received. The ``emulators`` fixture is in
``tests/conftest.py``; tokens and the fast retry policy in ``tests/support/push.py``."""

from __future__ import annotations

import asyncio
import contextlib
import random
import time
from collections import Counter
from collections.abc import AsyncIterator, Awaitable, Callable
from pathlib import Path
from typing import Any

import pytest

from gnews.config import Settings
from gnews.dev.emulators.suite import PushEmulators
from gnews.devices.models import Device
from gnews.devices.service import new_secret
from gnews.jobs import PUSH_QUEUE
from gnews.notifications.models import Notification, NotificationStatus
from tests.support.push import FAST, apns_token, fcm_token
from tests.support.worker import running_worker as running_push_worker
from workers.push.apns import ApnsTransport
from workers.push.fcm import FcmTransport
from workers.settings import ResilientWorker

BUNDLED_PLUGINS = ["ega", "nakhonsawan", "dopa"]
TEST_BATCH_SIZE = 20
TEST_LEASE_SECONDS = 2.0
FINAL = {
    NotificationStatus.DONE,
    NotificationStatus.FAILED,
    NotificationStatus.CANCELLED,
    NotificationStatus.EXPIRED,
}


@pytest.fixture
def push_settings(settings: Settings, emulators: PushEmulators) -> Settings:
    """The test's settings with the transports pointed at the emulators, batches of 20 devices,
    2 s leases and the reconciler every second."""
    env = emulators.env()
    return settings.model_copy(
        update={
            "fcm_endpoint": env["GNEWS_FCM_ENDPOINT"],
            "fcm_credentials": Path(env["GNEWS_FCM_CREDENTIALS"]),
            "apns_endpoint": env["GNEWS_APNS_ENDPOINT"],
            "apns_key_file": Path(env["GNEWS_APNS_KEY_FILE"]),
            "apns_key_id": env["GNEWS_APNS_KEY_ID"],
            "apns_team_id": env["GNEWS_APNS_TEAM_ID"],
            "apns_topic": env["GNEWS_APNS_TOPIC"],
            "push_batch_size": TEST_BATCH_SIZE,
            "push_lease_seconds": TEST_LEASE_SECONDS,
            "push_reconcile_seconds": 1,
            "disabled_plugins": BUNDLED_PLUGINS,
            "rate_limit_registrations": 0,
        }
    )


@contextlib.asynccontextmanager
async def running_worker(
    settings: Settings, *, startup: Callable[[dict[str, Any]], Awaitable[None]] | None = None
) -> AsyncIterator[ResilientWorker]:
    """The real push worker running in this event loop until the block ends (see
    :func:`tests.support.worker.running_worker`); ``startup`` runs after its own start-up."""
    async with running_push_worker(
        settings, PUSH_QUEUE, startup=startup, poll_delay=0.05
    ) as worker:
        yield worker


async def fast_transports(ctx: dict[str, Any]) -> None:
    """Worker start-up hook: the same transports with :data:`~tests.support.push.FAST` retries
    (3 attempts, 10 ms back-off; a Retry-After over 2 s defers the batch)."""
    settings: Settings = ctx["settings"]
    for transport in ctx["push_transports"].values():
        await transport.aclose()
    ctx["push_transports"] = {
        "android": FcmTransport(
            settings.fcm_credentials, endpoint=settings.fcm_endpoint, policy=FAST
        ),
        "ios": ApnsTransport(
            settings.apns_key_file,
            settings.apns_key_id,
            settings.apns_team_id,
            settings.apns_topic,
            endpoint=settings.apns_endpoint,
            policy=FAST,
        ),
    }


async def eventually(check: Callable[[], Awaitable[Any]], timeout: float = 30) -> Any:
    """Poll ``check`` until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while True:
        result = await check()
        if result:
            return result
        if time.monotonic() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        await asyncio.sleep(0.05)


async def settled(notification_id: str, timeout: float = 30) -> Notification:
    """The notification once it is finished and its figures are final."""

    async def check() -> Notification | None:
        notification = await Notification.get(notification_id)
        if notification is not None and notification.status in FINAL and notification.settled:
            return notification
        return None

    return await eventually(check, timeout)


async def add_devices(
    count: int,
    *,
    start: int = 0,
    provinces: list[list[str]] | None = None,
    seed: int = 1,
    **fixed: Any,
) -> list[Device]:
    """``count`` active devices inserted directly (as registration stores them): platforms,
    languages and provinces drawn at random unless ``fixed``; ``provinces`` to draw from."""
    rnd = random.Random(seed)
    choices = provinces or [["TH-60"], ["TH-61"], ["TH-10"], ["TH-50"], ["TH-60", "TH-10"], []]
    devices = []
    for n in range(start, start + count):
        platform = fixed.get("platform") or rnd.choice(["android", "ios"])
        values = {
            "platform": platform,
            "push_token": fcm_token(n) if platform == "android" else apns_token(n),
            "provinces": rnd.choice(choices),
            "language": rnd.choice(["th", "th", "en"]),
            "secret_hash": new_secret()[1],
            **fixed,
        }
        devices.append(Device(**values))
    inserted = await Device.insert_many(devices)
    for device, device_id in zip(devices, inserted.inserted_ids, strict=True):
        device.id = device_id
    return devices


def received(emulators: PushEmulators) -> Counter[str]:
    """How many messages each token received (both gateways)."""
    tokens = [m.token for m in emulators.fcm.recorder.messages]
    tokens += [m.token for m in emulators.apns.recorder.messages]
    return Counter(tokens)


def payloads(emulators: PushEmulators) -> dict[str, dict[str, Any]]:
    """The last payload each token received."""
    found = {m.token: m.payload for m in emulators.fcm.recorder.messages}
    found.update({m.token: m.payload for m in emulators.apns.recorder.messages})
    return found

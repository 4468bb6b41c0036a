"""Fixtures of the push tests: fresh FCM and APNs emulators per test (in-process, on the test's
event loop), the development credentials (generated once per session) and transports pointed at
the emulators with short back-off."""

from __future__ import annotations

from collections.abc import AsyncIterator
from pathlib import Path

import pytest

from gnews.emulators.suite import PushEmulators, start_emulators
from gnews.specs import PushMessage
from workers.push.apns import ApnsTransport
from workers.push.fcm import FcmTransport
from workers.push.retry import RetryPolicy

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=5)


@pytest.fixture(scope="session")
def credentials_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the dev service account and APNs key are generated (once per session)."""
    return tmp_path_factory.mktemp("push-credentials")


@pytest.fixture
async def emulators(credentials_dir: Path) -> AsyncIterator[PushEmulators]:
    """Both emulators, answering Retry-After: 0 unless a test says otherwise."""
    started = await start_emulators(credentials_dir)
    started.fcm.faults.retry_after = 0
    started.apns.faults.retry_after = 0
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def fcm(emulators: PushEmulators) -> AsyncIterator[FcmTransport]:
    """The FCM transport, pointed at the emulator."""
    transport = FcmTransport(
        emulators.credentials.service_account_file, endpoint=emulators.fcm.url, policy=FAST
    )
    yield transport
    await transport.aclose()


def make_apns(emulators: PushEmulators, **options) -> ApnsTransport:
    """An APNs transport for the emulator with the dev key."""
    credentials = emulators.credentials
    options.setdefault("policy", FAST)
    options.setdefault("endpoint", emulators.apns.url)
    return ApnsTransport(
        credentials.apns_key_file,
        credentials.apns_key_id,
        credentials.apns_team_id,
        credentials.apns_topic,
        **options,
    )


@pytest.fixture
async def apns(emulators: PushEmulators) -> AsyncIterator[ApnsTransport]:
    """The APNs transport, pointed at the emulator (cleartext HTTP/2)."""
    transport = make_apns(emulators)
    yield transport
    await transport.aclose()


def message(**changes) -> PushMessage:
    """A Thai news notification."""
    values = {
        "notification_id": "66f0c0ffee0000000000abcd",
        "title": "ประกาศจังหวัดนครสวรรค์",
        "body": "น้ำท่วมถนนสายหลัก โปรดหลีกเลี่ยง",
        "data": {"news_id": "n-42"},
        "deep_link": "gnews://news/n-42",
        "ttl_seconds": 3600,
    }
    return PushMessage(**{**values, **changes})


def ios_token(n: int) -> str:
    """A well-formed APNs device token (64 hex digits)."""
    return f"{n:064x}"

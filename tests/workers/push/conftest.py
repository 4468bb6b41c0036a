"""Fixtures of the push tests: the FCM and APNs transports pointed at the emulators (the
``emulators`` fixture, in ``tests/conftest.py``) with short back-off, and a message to send."""

from __future__ import annotations

from collections.abc import AsyncIterator

import pytest

from gnews.dev.emulators.suite import PushEmulators
from gnews.specs import PushMessage
from tests.support.push import apns_transport, fcm_transport
from workers.push.apns import ApnsTransport
from workers.push.fcm import FcmTransport


@pytest.fixture
async def fcm(emulators: PushEmulators) -> AsyncIterator[FcmTransport]:
    """The FCM transport, pointed at the emulator."""
    transport = fcm_transport(emulators.env())
    yield transport
    await transport.aclose()


@pytest.fixture
async def apns(emulators: PushEmulators) -> AsyncIterator[ApnsTransport]:
    """The APNs transport, pointed at the emulator (cleartext HTTP/2)."""
    transport = apns_transport(emulators.env())
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

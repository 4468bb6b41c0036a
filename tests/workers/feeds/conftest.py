"""Fixtures for the feed tests: the loopback ``feed_server`` and the fixture feeds."""

from __future__ import annotations

from collections.abc import AsyncIterator, Iterator
from datetime import UTC, datetime

import httpx
import pytest

from gnews.dev.emulators.feeds import FeedServer
from tests.support import FIXTURES as SHARED_FIXTURES
from workers.feeds.fetch import make_feed_client

FIXTURES = SHARED_FIXTURES
# A fixed "now" for date tests: every fixture date lies before it.
NOW = datetime(2024, 6, 1, 5, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    """Raw bytes of ``tests/support/fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A started :class:`~gnews.dev.emulators.feeds.FeedServer` on 127.0.0.1 (see its docstring)."""
    with FeedServer() as server:
        yield server


@pytest.fixture
async def feed_client() -> AsyncIterator[httpx.AsyncClient]:
    """A feed client with short timeouts so failure tests stay fast."""
    client = make_feed_client(
        connect_timeout=0.5, read_timeout=0.5, max_redirects=3, allow_private_networks=True
    )
    try:
        yield client
    finally:
        await client.aclose()

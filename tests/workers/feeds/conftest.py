"""The feed tests' fixture feeds (``feed_server`` and ``feed_client`` are in tests/conftest.py)."""

from __future__ import annotations

from datetime import UTC, datetime

from tests.support import FIXTURES as SHARED_FIXTURES

FIXTURES = SHARED_FIXTURES
# A fixed "now" for date tests: every fixture date lies before it.
NOW = datetime(2024, 6, 1, 5, 0, tzinfo=UTC)


def fixture_bytes(name: str) -> bytes:
    """Raw bytes of ``tests/support/fixtures/<name>``."""
    return (FIXTURES / name).read_bytes()

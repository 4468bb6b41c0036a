"""The database's clock, for leases and expiries shared by several processes.

A lease written by one worker and judged expired by another must be measured on one clock, not
on each machine's own (they drift). Every process reads the database server's time from
``hello`` (``localTime``), keeps the offset to its own clock (corrected by half the round trip),
and refreshes it every :data:`REFRESH_SECONDS`; :func:`database_now` is then the local clock plus
that offset: no extra round trip per lease, and an error bounded by the round trip.

The embedded server runs on the same machine as the processes using it, so there the offset is
taken as zero when its ``hello`` carries no usable time.
"""

from __future__ import annotations

import time
import weakref
from datetime import UTC, datetime, timedelta
from typing import Any

from pymongo.errors import PyMongoError

from gnews.core.clock import utcnow

REFRESH_SECONDS = 60.0

# client → (offset to the local clock, monotonic time it was measured)
_OFFSETS: weakref.WeakKeyDictionary[Any, tuple[timedelta, float]] = weakref.WeakKeyDictionary()


async def database_now(where: Any) -> datetime:
    """The database server's current time (UTC), for ``where``: a beanie document class, a
    pymongo collection or database, or a client."""
    client = _client_of(where)
    known = _OFFSETS.get(client)
    if known is None or time.monotonic() - known[1] > REFRESH_SECONDS:
        offset = await _measure_offset(client)
        if offset is None:  # server unreachable: keep the last offset (or none) for now
            return utcnow() + (known[0] if known else timedelta(0))
        _OFFSETS[client] = (offset, time.monotonic())
        known = _OFFSETS[client]
    return utcnow() + known[0]


async def _measure_offset(client: Any) -> timedelta | None:
    sent = utcnow()
    try:
        reply = await client.admin.command("hello")
    except PyMongoError:
        return None
    received = utcnow()
    server_time = reply.get("localTime")
    if not isinstance(server_time, datetime) or server_time.tzinfo is None:
        return timedelta(0)
    midpoint = sent + (received - sent) / 2
    return server_time.astimezone(UTC) - midpoint


def _client_of(where: Any) -> Any:
    if hasattr(where, "get_pymongo_collection"):
        where = where.get_pymongo_collection()
    if hasattr(where, "database"):
        where = where.database
    if hasattr(where, "client"):
        where = where.client
    return where

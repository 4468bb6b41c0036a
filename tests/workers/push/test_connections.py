"""The push connection pools' time-outs (one sweeping timer per pool) and origins."""

from __future__ import annotations

import asyncio
import time

import pytest

from workers.push.http.connections import Origin
from workers.push.http.http1 import Http1Error, Http1Pool
from workers.push.http.http2 import Http2Error, Http2Pool

SEND = b"/v1/projects/gnews-dev/messages:send"


def test_origins():
    assert Origin.of("https://fcm.googleapis.com") == Origin(
        "fcm.googleapis.com", 443, True, "fcm.googleapis.com"
    )
    assert Origin.of("http://127.0.0.1:8470/") == Origin("127.0.0.1", 8470, False, "127.0.0.1:8470")
    for bad in ("ftp://example.com", "fcm.googleapis.com", "https://"):
        with pytest.raises(ValueError, match="not an http"):
            Origin.of(bad)


async def test_http1_requests_and_waiters_time_out_and_the_pool_recovers(emulators):
    # The answer comes long after the time-outs, so "soon after the time-out" holds with room to
    # spare on a loaded machine.
    emulators.fcm.faults.update({"latency": 4.0})
    pool = Http1Pool(emulators.fcm.url, max_connections=1)
    try:
        started = time.monotonic()
        first, second = await asyncio.gather(
            pool.request(b"POST", SEND, b"", b"{}", timeout=0.3),
            pool.request(b"POST", SEND, b"", b"{}", timeout=0.1),  # waits for the connection
            return_exceptions=True,
        )
        elapsed = time.monotonic() - started
        assert isinstance(first, Http1Error) and "no response" in str(first)
        assert isinstance(second, Http1Error) and "no connection free" in str(second)
        assert 0.3 <= elapsed < 2.5  # soon after the time-out, not at the answer (4 s)
        emulators.fcm.faults.update({"latency": 0.0})
        response = await pool.request(b"POST", SEND, b"", b"{}", timeout=2)
        assert response.status >= 200  # the overdue connection was closed, a new one works
        await asyncio.sleep(0.1)
        assert pool._sweeper._timer is None  # idle: no timer left running
    finally:
        await pool.aclose()


async def test_http2_streams_time_out_and_the_connection_goes_on(emulators):
    emulators.apns.faults.update({"latency": 3.0})
    pool = Http2Pool(emulators.apns.url, max_connections=1)
    try:
        started = time.monotonic()
        late = await asyncio.gather(
            *(pool.request(b"POST", b"/3/device/ab", [], b"{}", timeout=0.1) for _ in range(3)),
            return_exceptions=True,
        )
        assert time.monotonic() - started < 2.0  # soon after the time-out, not at the answer (3 s)
        assert all(isinstance(e, Http2Error) and "no response" in str(e) for e in late)
        emulators.apns.faults.update({"latency": 0.0})
        response = await pool.request(b"POST", b"/3/device/ab", [], b"{}", timeout=2)
        assert response.status >= 200
        assert len(pool.connections) == 1  # the same connection: the late streams were reset
        await asyncio.sleep(0.6)
        assert pool._sweeper._timer is None
    finally:
        await pool.aclose()


async def test_http2_waits_for_stream_capacity_and_forgets_closed_streams(emulators):
    # Two streams at once on one connection: 300 requests queue for them, each woken in turn.
    pool = Http2Pool(emulators.apns.url, max_connections=1, max_streams_per_connection=2)
    try:
        responses = await asyncio.gather(
            *(pool.request(b"POST", b"/3/device/ab", [], b"{}", timeout=5) for _ in range(300))
        )
        assert len(responses) == 300 and all(r.status >= 200 for r in responses)
        [connection] = pool.connections
        assert not connection.streams and not pool._waiters
        # h2's own table of streams is cleaned up now and then, not kept for every stream.
        assert len(connection.conn.streams) <= connection.conn.GC_EVERY
    finally:
        await pool.aclose()

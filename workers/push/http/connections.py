"""What the HTTP/1.1 (FCM) and HTTP/2 (APNs) connection pools share: the origin they connect
to, and the time-outs of the requests in flight.

Time-outs are checked by one timer per pool, a few times a second, instead of one
``asyncio.timeout`` per request: at thousands of requests a second, a timer per request
(created, scheduled, cancelled) cost about a tenth of the worker's CPU. A request therefore
times out between its time-out and a quarter of it later (at most half a second later).
"""

from __future__ import annotations

import asyncio
from collections.abc import Callable
from dataclasses import dataclass
from urllib.parse import urlsplit

MAX_SWEEP_INTERVAL = 0.5  # seconds


@dataclass(frozen=True, slots=True)
class Origin:
    """Scheme, host and port of a base URL, as a pool connects to it."""

    host: str
    port: int
    tls: bool
    authority: str  # host, with the port when the URL names one

    @classmethod
    def of(cls, url: str) -> Origin:
        """Parse ``url``; ValueError unless it is an absolute http(s) URL."""
        parts = urlsplit(url)
        if parts.scheme not in ("https", "http") or not parts.hostname:
            raise ValueError(f"not an http(s) URL: {url!r}")
        tls = parts.scheme == "https"
        port = parts.port or (443 if tls else 80)
        authority = parts.hostname if parts.port is None else f"{parts.hostname}:{port}"
        return cls(parts.hostname, port, tls, authority)


class DeadlineSweeper:
    """Fails the requests of a pool that outlive their deadline.

    ``expire_overdue(now)`` is the pool's: it fails what is overdue at ``now`` (loop time) and
    says whether anything is still in flight. The sweeper runs while something is, and stops
    when the pool is idle.
    """

    def __init__(self, expire_overdue: Callable[[float], bool]) -> None:
        self._expire_overdue = expire_overdue
        self._interval = MAX_SWEEP_INTERVAL
        self._timer: asyncio.TimerHandle | None = None

    def deadline(self, timeout: float) -> float:
        """The deadline (loop time) of a request starting now with ``timeout`` seconds; makes
        the sweeper check often enough for that time-out."""
        if timeout / 4 < self._interval:
            self._interval = timeout / 4
            self.stop()
        self.watch()
        return asyncio.get_running_loop().time() + timeout

    def watch(self) -> None:
        """Make sure the sweeper runs: call it whenever a request is put in flight (a sweep
        finding nothing in flight stops it)."""
        if self._timer is None:
            loop = asyncio.get_running_loop()
            self._timer = loop.call_at(loop.time() + self._interval, self._sweep)

    def _sweep(self) -> None:
        loop = asyncio.get_running_loop()
        busy = self._expire_overdue(loop.time())
        self._timer = loop.call_at(loop.time() + self._interval, self._sweep) if busy else None

    def stop(self) -> None:
        """Stop checking (until the next request)."""
        if self._timer is not None:
            self._timer.cancel()
            self._timer = None

"""Per-client request budgets for the citizen API, kept in Redis so they hold across replicas.

Scheme: a fixed one-minute window per budget and client. Each request runs ``INCR`` and
``EXPIRE`` on ``ratelimit:<budget>:<window>:<client>`` in one pipeline (one round trip); past the
budget's limit the answer is 429 in the one error shape, with ``Retry-After`` = the seconds left
in the window. A fixed window can let up to twice the limit through across a window boundary;
that is the price of one counter per client and window.

Budgets (settings, per minute; 0 disables): ``GNEWS_RATE_LIMIT_REGISTRATIONS`` for
``POST /api/v1/devices``, ``GNEWS_RATE_LIMIT_READS`` for every other citizen endpoint (news,
search, a device's own resources). Many phones share one address behind carrier-grade NAT, so
the read budget is generous; it stops floods, not readers.

The client is ``request.client.host``. Behind a load balancer, set ``GNEWS_TRUSTED_PROXIES``
(addresses or networks): when the peer is one of them, the client is the right-most
``X-Forwarded-For`` hop that is not a trusted proxy (hops further left are the client's own
claims and are ignored). IPv6 clients are counted per /64, the block one subscriber gets.

Redis down: requests are served without limits (fail open) and a warning is logged at most once
a minute per process; reads must not fail because the limiter cannot count.
"""

from __future__ import annotations

import functools
import ipaddress
import math
import time
from collections.abc import Iterable

import structlog
from litestar.connection import ASGIConnection
from litestar.exceptions import TooManyRequestsException
from litestar.handlers.base import BaseRouteHandler
from litestar.types import Guard
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gnews.config import Settings
from gnews.core.metrics import count_rate_limit_refusal
from gnews.core.openapi import answers

log = structlog.get_logger(__name__)

WINDOW_SECONDS = 60
KEY = "ratelimit:{budget}:{window}:{client}"
REGISTRATIONS = "registrations"
READS = "reads"
_LIMIT_SETTINGS = {
    REGISTRATIONS: "rate_limit_registrations",
    READS: "rate_limit_reads",
}
_WARN_EVERY_SECONDS = 60.0
_last_warning = 0.0

Network = ipaddress.IPv4Network | ipaddress.IPv6Network


@functools.cache
def _networks(entries: tuple[str, ...]) -> tuple[Network, ...]:
    return tuple(ipaddress.ip_network(entry, strict=False) for entry in entries)


def _is_trusted(address: str, networks: Iterable[Network]) -> bool:
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return False
    return any(ip in network for network in networks)


def client_address(connection: ASGIConnection, trusted_proxies: Iterable[str] = ()) -> str:
    """The address a request is counted against (see the module docstring)."""
    peer = connection.client.host if connection.client else "unknown"
    networks = _networks(tuple(trusted_proxies))
    if not networks or not _is_trusted(peer, networks):
        return peer
    hops = [
        hop.strip()
        for header in connection.headers.getall("x-forwarded-for", [])
        for hop in header.split(",")
        if hop.strip()
    ]
    for hop in reversed(hops):
        if not _is_trusted(hop, networks):
            return hop
    return hops[0] if hops else peer


def bucket_of(address: str) -> str:
    """The counter an address falls into: itself for IPv4, its /64 for IPv6."""
    try:
        ip = ipaddress.ip_address(address)
    except ValueError:
        return address
    if isinstance(ip, ipaddress.IPv6Address):
        if ip.ipv4_mapped is not None:
            return str(ip.ipv4_mapped)
        return str(ipaddress.ip_network(f"{ip}/64", strict=False))
    return str(ip)


async def spend(redis: Redis, budget: str, client: str, limit: int) -> int | None:
    """Count one request of ``client`` against ``budget``; None while within ``limit``, else
    the seconds until the window ends (at least 1)."""
    now = time.time()
    window = int(now // WINDOW_SECONDS)
    key = KEY.format(budget=budget, window=window, client=client)
    async with redis.pipeline(transaction=True) as pipe:
        pipe.incr(key)
        pipe.expire(key, WINDOW_SECONDS + 1)
        count, _ = await pipe.execute()
    if count <= limit:
        return None
    return max(1, math.ceil((window + 1) * WINDOW_SECONDS - now))


def _warn_unavailable(error: Exception) -> None:
    global _last_warning
    now = time.monotonic()
    if now - _last_warning >= _WARN_EVERY_SECONDS:
        _last_warning = now
        log.warning("rate limits not enforced: redis unavailable", error=str(error)[:200])


def rate_limited(budget: str) -> Guard:
    """A guard spending one request of ``budget`` (:data:`REGISTRATIONS` or :data:`READS`);
    429 with ``Retry-After`` when the client has none left."""
    setting = _LIMIT_SETTINGS[budget]

    @answers(429)
    async def guard(connection: ASGIConnection, _: BaseRouteHandler) -> None:
        settings: Settings = connection.app.state.settings
        limit = getattr(settings, setting)
        if limit <= 0:
            return
        client = bucket_of(client_address(connection, settings.trusted_proxies))
        try:
            retry_after = await spend(connection.app.state.redis, budget, client, limit)
        except (RedisError, OSError) as error:
            _warn_unavailable(error)
            return
        if retry_after is not None:
            count_rate_limit_refusal(budget)
            raise TooManyRequestsException(
                f"too many requests; retry in {retry_after} s",
                headers={"Retry-After": str(retry_after)},
            )

    return guard

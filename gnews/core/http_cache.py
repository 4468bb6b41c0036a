"""Cache-friendly public responses: ETag / 304 and a Redis response cache.

The Redis cache is shared by all API replicas. Invalidation is by namespace version: every key
embeds the namespace's current version, and :func:`invalidate` bumps it, so stale entries become
unreachable at once (everywhere) and expire on their own TTL.
"""

from __future__ import annotations

import contextlib
import hashlib
from collections.abc import Awaitable, Callable, Iterable
from email.utils import formatdate, parsedate_to_datetime
from typing import Any

import msgspec
import structlog
from litestar import Request, Response
from litestar.datastructures import CacheControlHeader
from redis.asyncio import Redis
from redis.exceptions import RedisError

from gnews.core.metrics import count_cache_lookup

VERSION_KEY = "cache:version:{namespace}"
ENTRY_KEY = "cache:entry:{namespace}:{version}:{digest}"
DEFAULT_TTL_SECONDS = 300

_encoder = msgspec.json.Encoder()
log = structlog.get_logger(__name__)


def etag_of(body: bytes) -> str:
    """A strong ETag for a response body."""
    return '"' + hashlib.sha256(body).hexdigest()[:32] + '"'


def _matches(request: Request, etag: str) -> bool:
    header = request.headers.get("if-none-match")
    if not header:
        return False
    candidates = {tag.strip().removeprefix("W/") for tag in header.split(",")}
    return "*" in candidates or etag in candidates


def json_response(
    request: Request, body: bytes, *, max_age: int = 60, public: bool = True
) -> Response[bytes]:
    """A JSON response with ETag and Cache-Control; 304 when ``If-None-Match`` matches."""
    etag = etag_of(body)
    # None, not False: Litestar writes every boolean directive that is not None.
    cache_control = CacheControlHeader(
        max_age=max_age, public=public or None, private=(not public) or None, must_revalidate=True
    ).to_header()
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": "Accept-Language"}
    if _matches(request, etag):
        return Response(b"", status_code=304, headers=headers)
    return Response(body, media_type="application/json", headers=headers)


def encode(payload: Any) -> bytes:
    """JSON bytes of a payload (pydantic models, dataclasses, dicts…)."""
    if hasattr(payload, "model_dump"):
        payload = payload.model_dump(mode="json")
    return _encoder.encode(payload)


def cache_key_of(request: Request, extra: Iterable[str] = ()) -> str:
    """A digest of what selects a response: path, sorted query, and ``extra`` (e.g. language)."""
    query = sorted(request.query_params.multi_items())
    raw = "\n".join([request.url.path, repr(query), *extra])
    return hashlib.sha256(raw.encode()).hexdigest()


async def _lookup(
    request: Request, redis: Redis, namespace: str, extra_key: Iterable[str]
) -> tuple[str | None, bytes | None]:
    """The cache key of this request (None with Redis down) and what is stored under it."""
    digest = cache_key_of(request, extra_key)
    body: bytes | None = None
    key: str | None = None
    try:
        version = int(await redis.get(VERSION_KEY.format(namespace=namespace)) or 0)
        key = ENTRY_KEY.format(namespace=namespace, version=version, digest=digest)
        body = await redis.get(key)
    except RedisError:
        key = None
    count_cache_lookup(namespace, "hit" if body is not None else "miss" if key else "error")
    return key, body


async def _store(redis: Redis, key: str | None, body: bytes, ttl: int) -> None:
    if key is not None:
        with contextlib.suppress(RedisError):
            await redis.set(key, body, ex=ttl)


async def cached_json(
    request: Request,
    redis: Redis,
    namespace: str,
    build: Callable[[], Awaitable[Any]],
    *,
    extra_key: Iterable[str] = (),
    ttl: int = DEFAULT_TTL_SECONDS,
    max_age: int = 60,
) -> Response[bytes]:
    """Serve from the Redis cache, or ``build()`` the payload and cache it.

    Redis being down never fails a read: the response is built directly instead.
    """
    key, body = await _lookup(request, redis, namespace, extra_key)
    if body is None:
        body = encode(await build())
        await _store(redis, key, body, ttl)
    return json_response(request, body, max_age=max_age)


class CachedBody(msgspec.Struct, frozen=True):
    """A response body of any type as the cache keeps it (web pages, feeds)."""

    body: bytes
    media_type: str
    last_modified: float | None = None  # epoch seconds: what the body shows last changed


_cached_body = msgspec.msgpack.Decoder(CachedBody)


def _not_modified_since(request: Request, last_modified: float | None) -> bool:
    header = request.headers.get("if-modified-since")
    if last_modified is None or not header or request.headers.get("if-none-match"):
        return False  # an ETag, when sent, decides alone (RFC 9110 13.1.3)
    try:
        since = parsedate_to_datetime(header).timestamp()
    except (TypeError, ValueError):
        return False
    return int(last_modified) <= since


def conditional_response(
    request: Request, cached: CachedBody, *, max_age: int = 60, vary: str = "Accept-Language"
) -> Response[bytes]:
    """``cached`` with ETag, Last-Modified (when known) and Cache-Control; 304 when
    ``If-None-Match`` matches or, without it, ``If-Modified-Since`` is not older."""
    etag = etag_of(cached.body)
    cache_control = CacheControlHeader(
        max_age=max_age, public=True, must_revalidate=True
    ).to_header()
    headers = {"ETag": etag, "Cache-Control": cache_control, "Vary": vary}
    if cached.last_modified is not None:
        headers["Last-Modified"] = formatdate(int(cached.last_modified), usegmt=True)
    if _matches(request, etag) or _not_modified_since(request, cached.last_modified):
        return Response(b"", status_code=304, headers=headers)
    return Response(cached.body, media_type=cached.media_type, headers=headers)


async def cached_body(
    request: Request,
    redis: Redis,
    namespace: str,
    build: Callable[[], Awaitable[CachedBody]],
    *,
    extra_key: Iterable[str] = (),
    ttl: int = DEFAULT_TTL_SECONDS,
    max_age: int = 60,
    vary: str = "Accept-Language",
) -> Response[bytes]:
    """As :func:`cached_json`, for a body that is not JSON (a web page, a feed): the same keys,
    namespaces and invalidation, answered by :func:`conditional_response`."""
    key, stored = await _lookup(request, redis, namespace, extra_key)
    cached = _cached_body.decode(stored) if stored is not None else None
    if cached is None:
        cached = await build()
        await _store(redis, key, msgspec.msgpack.encode(cached), ttl)
    return conditional_response(request, cached, max_age=max_age, vary=vary)


async def invalidate(redis: Redis, *namespaces: str) -> None:
    """Make every cached response of these namespaces stale at once (on all replicas).

    With Redis down the change is still stored (in MongoDB); cached copies then live until
    their TTL runs out, which is logged.
    """
    for namespace in namespaces:
        try:
            await redis.incr(VERSION_KEY.format(namespace=namespace))
        except RedisError as error:
            log.warning("cache not invalidated", namespace=namespace, error=str(error))

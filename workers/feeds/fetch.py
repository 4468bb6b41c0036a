"""Fetch one feed over HTTP(S) with httpx.

One :class:`httpx.AsyncClient` (see :func:`make_feed_client`) is shared by all feeds of a worker;
:func:`fetch_feed` does a conditional GET, follows a bounded number of redirects, streams the
body and stops as soon as it grows beyond ``max_bytes`` (measured after gzip/deflate decoding,
so a small compressed "bomb" is caught too) and enforces a total deadline so a server that
trickles bytes forever is cut off. Every failure is raised as :class:`FetchError` with a
machine-readable ``kind`` and a one-line message that names the URL; no raw httpx exception
escapes.
"""

from __future__ import annotations

import asyncio
import ipaddress
import socket
import ssl
import zlib
from collections.abc import AsyncIterator
from dataclasses import dataclass
from datetime import UTC, datetime
from email.utils import parsedate_to_datetime
from http import HTTPStatus
from typing import Any
from urllib.parse import urlsplit

import httpx

__all__ = [
    "DEFAULT_USER_AGENT",
    "FETCH_ERROR_KINDS",
    "FetchError",
    "FetchResult",
    "fetch_feed",
    "make_feed_client",
]

DEFAULT_USER_AGENT = "G-News feed fetcher (+https://www.ega.or.th)"

FETCH_ERROR_KINDS = frozenset(
    {
        "invalid_url",
        "blocked",
        "dns",
        "connect",
        "timeout",
        "http_status",
        "too_large",
        "too_many_redirects",
        "tls",
        "protocol",
    }
)

_ACCEPT = (
    "application/rss+xml, application/atom+xml, application/rdf+xml;q=0.9, "
    "application/xml;q=0.9, text/xml;q=0.9, */*;q=0.5"
)
# Size of each piece handed out by the bounded decompressor.
_DECOMPRESS_CHUNK = 64 * 1024


@dataclass(slots=True)
class FetchResult:
    """Outcome of a successful fetch (2xx, or 304 for a conditional GET)."""

    not_modified: bool
    url: str  # final URL after redirects
    body: bytes | None  # decoded (gzip/deflate removed) body; None when not_modified
    content_type: str | None
    etag: str | None  # validators to send next time (kept from the request on a bare 304)
    last_modified: str | None
    http_status: int


class FetchError(Exception):
    """A feed could not be fetched.

    ``kind`` is one of :data:`FETCH_ERROR_KINDS`; ``str(error)`` is one line naming the URL,
    suitable to store on the source and show to editors.
    """

    def __init__(
        self,
        kind: str,
        message: str,
        *,
        url: str = "",
        http_status: int | None = None,
        retry_after: float | None = None,
    ) -> None:
        if kind not in FETCH_ERROR_KINDS:
            raise ValueError(f"unknown FetchError kind {kind!r}")
        message = " ".join(message.split())  # always a single line
        super().__init__(message)
        self.kind = kind
        self.url = url
        self.http_status = http_status
        self.retry_after = retry_after

    def __reduce__(self) -> tuple[Any, ...]:
        # Keep the error picklable (job queues pickle exceptions raised by jobs).
        return (type(self), (self.kind, str(self)), dict(self.__dict__))

    def __repr__(self) -> str:
        return f"FetchError(kind={self.kind!r}, message={str(self)!r})"


def _is_public(address: str) -> bool:
    ip = ipaddress.ip_address(address.split("%", 1)[0])
    return not (
        ip.is_private
        or ip.is_loopback
        or ip.is_link_local
        or ip.is_reserved
        or ip.is_multicast
        or ip.is_unspecified
    )


async def _refuse_private_destinations(request: httpx.Request) -> None:
    """Agencies and API keys choose feed URLs: never let one make the worker fetch an internal
    address (loopback, private ranges, link-local cloud metadata…). Checked on every redirect
    hop. A name that does not resolve is left to the connection to report."""
    host = request.url.host
    try:
        infos = await asyncio.get_running_loop().getaddrinfo(host, None, type=socket.SOCK_STREAM)
    except OSError:
        return
    addresses = {str(info[4][0]) for info in infos}  # sockaddr: (address, port, ...)
    blocked = sorted(address for address in addresses if not _is_public(address))
    if blocked:
        url = str(request.url)
        raise FetchError(
            "blocked",
            f"{url}: refused to fetch from a private or local address ({', '.join(blocked)})",
            url=url,
        )


def make_feed_client(
    *,
    connect_timeout: float = 5.0,
    read_timeout: float = 20.0,
    max_redirects: int = 5,
    user_agent: str = DEFAULT_USER_AGENT,
    allow_private_networks: bool = False,
) -> httpx.AsyncClient:
    """Create the client shared by all feed fetches of a worker (close it with ``aclose()``).

    Feeds on private or local addresses are refused unless ``allow_private_networks``
    (GNEWS_FEED_ALLOW_PRIVATE_NETWORKS: tests, benchmarks, intranet deployments).
    """
    hooks = {} if allow_private_networks else {"request": [_refuse_private_destinations]}
    return httpx.AsyncClient(
        event_hooks=hooks,
        follow_redirects=True,
        max_redirects=max_redirects,
        timeout=httpx.Timeout(
            connect=connect_timeout,
            read=read_timeout,
            write=read_timeout,
            pool=connect_timeout,
        ),
        limits=httpx.Limits(
            max_connections=50, max_keepalive_connections=10, keepalive_expiry=30.0
        ),
        headers={
            "User-Agent": user_agent,
            "Accept": _ACCEPT,
            "Accept-Encoding": "gzip, deflate",
        },
    )


async def fetch_feed(
    client: httpx.AsyncClient,
    url: str,
    *,
    etag: str | None = None,
    last_modified: str | None = None,
    max_bytes: int = 5 * 1024 * 1024,
    total_timeout: float = 60.0,
) -> FetchResult:
    """GET ``url`` (conditionally, when ``etag``/``last_modified`` are given).

    Returns a :class:`FetchResult` for 2xx and 304 answers; raises :class:`FetchError`
    for everything else.
    """
    _check_url(url)
    headers: dict[str, str] = {}
    if etag:
        headers["If-None-Match"] = etag
    if last_modified:
        headers["If-Modified-Since"] = last_modified
    try:
        async with asyncio.timeout(total_timeout):
            return await _fetch(client, url, headers, etag, last_modified, max_bytes)
    except FetchError:
        raise
    except TimeoutError:
        raise FetchError(
            "timeout",
            f"{url}: gave up after {total_timeout:g} s (server too slow)",
            url=url,
        ) from None
    except httpx.HTTPError as exc:
        raise _map_httpx_error(exc, url, client.max_redirects) from exc
    except (ssl.SSLError, OSError) as exc:  # defensive: normally wrapped by httpx
        raise _map_os_error(exc, url) from exc


async def _fetch(
    client: httpx.AsyncClient,
    url: str,
    headers: dict[str, str],
    etag: str | None,
    last_modified: str | None,
    max_bytes: int,
) -> FetchResult:
    async with client.stream("GET", url, headers=headers) as response:
        final_url = str(response.url)
        status = response.status_code
        content_type = response.headers.get("content-type")
        new_etag = response.headers.get("etag")
        new_last_modified = response.headers.get("last-modified")
        if status == 304:
            return FetchResult(
                not_modified=True,
                url=final_url,
                body=None,
                content_type=content_type,
                etag=new_etag or etag,
                last_modified=new_last_modified or last_modified,
                http_status=status,
            )
        if not 200 <= status < 300:
            raise _status_error(response, url)
        _check_content_length(response, url, max_bytes)
        body = await _read_limited(response, url, max_bytes)
        return FetchResult(
            not_modified=False,
            url=final_url,
            body=body,
            content_type=content_type,
            etag=new_etag,
            last_modified=new_last_modified,
            http_status=status,
        )


def _check_url(url: str) -> None:
    try:
        parts = urlsplit(url)
        host = parts.hostname
        _ = parts.port  # raises ValueError for a bad port
    except (ValueError, TypeError):
        raise FetchError("invalid_url", f"{url!r} is not a valid URL", url=str(url)) from None
    if parts.scheme.lower() not in ("http", "https"):
        raise FetchError(
            "invalid_url", f"{url!r}: only http:// and https:// feed URLs are supported", url=url
        )
    if not host:
        raise FetchError("invalid_url", f"{url!r}: the URL has no host name", url=url)
    if any(ch.isspace() for ch in url):
        raise FetchError("invalid_url", f"{url!r}: the URL contains spaces", url=url)


def _check_content_length(response: httpx.Response, url: str, max_bytes: int) -> None:
    raw = response.headers.get("content-length")
    if raw is None:
        return
    try:
        length = int(raw)
    except ValueError:
        return
    if length > max_bytes:
        raise FetchError(
            "too_large",
            f"{url}: feed is {length:,} bytes, more than the limit of {max_bytes:,} bytes",
            url=url,
            http_status=response.status_code,
        )


async def _read_limited(response: httpx.Response, url: str, max_bytes: int) -> bytes:
    encoding = response.headers.get("content-encoding", "").strip().lower()
    chunks: AsyncIterator[bytes]
    if encoding in ("", "identity"):
        chunks = response.aiter_raw()
    elif encoding in ("gzip", "x-gzip", "deflate"):
        chunks = _bounded_decompress(response.aiter_raw(), encoding, url)
    else:  # anything exotic the server insisted on: let httpx decode it
        chunks = response.aiter_bytes()
    buf = bytearray()
    async for chunk in chunks:
        buf += chunk
        if len(buf) > max_bytes:
            raise FetchError(
                "too_large",
                f"{url}: feed is larger than the limit of {max_bytes:,} bytes",
                url=url,
                http_status=response.status_code,
            )
    return bytes(buf)


async def _bounded_decompress(
    raw: AsyncIterator[bytes], encoding: str, url: str
) -> AsyncIterator[bytes]:
    """Decode gzip/deflate in pieces of at most ``_DECOMPRESS_CHUNK`` bytes.

    httpx would inflate each network read in one go, so a few KB of compressed zeros could
    become hundreds of MB before the size check runs; this yields small pieces instead.
    """
    wbits = zlib.MAX_WBITS | 16 if encoding in ("gzip", "x-gzip") else zlib.MAX_WBITS
    decomp = zlib.decompressobj(wbits)
    first = True
    try:
        async for data in raw:
            while data:
                try:
                    out = decomp.decompress(data, _DECOMPRESS_CHUNK)
                except zlib.error:
                    if first and encoding == "deflate":
                        # Some servers send raw deflate without the zlib wrapper.
                        decomp = zlib.decompressobj(-zlib.MAX_WBITS)
                        first = False
                        continue
                    raise
                first = False
                if out:
                    yield out
                if decomp.eof:
                    # Concatenated gzip members are legal; anything after a deflate stream
                    # is ignored.
                    rest = decomp.unused_data
                    if rest and wbits != zlib.MAX_WBITS and rest.strip(b"\0"):
                        decomp = zlib.decompressobj(wbits)
                        data = rest
                        continue
                    break
                data = decomp.unconsumed_tail
        tail = decomp.flush()
        if tail:
            yield tail
    except zlib.error as exc:
        raise FetchError(
            "protocol", f"{url}: the {encoding}-compressed body is corrupt ({exc})", url=url
        ) from None


def _status_error(response: httpx.Response, url: str) -> FetchError:
    status = response.status_code
    try:
        phrase = HTTPStatus(status).phrase
    except ValueError:
        phrase = response.reason_phrase or ""
    retry_after = _parse_retry_after(response.headers.get("retry-after"))
    where = url if str(response.url) == url else f"{url} (redirected to {response.url})"
    message = f"{where}: server answered HTTP {status} {phrase}".rstrip()
    if retry_after is not None:
        message += f", retry after {retry_after:g} s"
    return FetchError("http_status", message, url=url, http_status=status, retry_after=retry_after)


def _parse_retry_after(value: str | None) -> float | None:
    """Retry-After as seconds from now: either delta-seconds or an HTTP date."""
    if not value:
        return None
    value = value.strip()
    try:
        seconds = float(value)
    except ValueError:
        pass
    else:
        return max(0.0, seconds) if seconds == seconds else None  # NaN guard
    try:
        when = parsedate_to_datetime(value)
    except (TypeError, ValueError, IndexError):
        return None
    if when is None:
        return None
    if when.tzinfo is None:
        when = when.replace(tzinfo=UTC)
    return max(0.0, (when - datetime.now(UTC)).total_seconds())


def _causes(exc: BaseException) -> list[BaseException]:
    chain: list[BaseException] = []
    seen: set[int] = set()
    current: BaseException | None = exc
    while current is not None and id(current) not in seen:
        chain.append(current)
        seen.add(id(current))
        current = current.__cause__ or current.__context__
    return chain


def _is_dns_error(exc: BaseException) -> bool:
    for err in _causes(exc):
        if isinstance(err, socket.gaierror):
            return True
        text = str(err).lower()
        if any(
            marker in text
            for marker in (
                "name or service not known",
                "nodename nor servname",
                "temporary failure in name resolution",
                "getaddrinfo failed",
                "no address associated with hostname",
                "name resolution",
            )
        ):
            return True
    return False


def _is_tls_error(exc: BaseException) -> bool:
    for err in _causes(exc):
        if isinstance(err, ssl.SSLError | ssl.CertificateError):
            return True
        text = str(err)
        if "SSL" in text or "TLS" in text or "CERTIFICATE" in text.upper():
            return True
    return False


def _detail(exc: BaseException) -> str:
    """The most specific non-empty message in the exception chain."""
    for err in reversed(_causes(exc)):
        text = str(err).strip()
        if text:
            return text
    return type(exc).__name__


def _map_httpx_error(exc: httpx.HTTPError, url: str, max_redirects: int) -> FetchError:
    detail = _detail(exc)
    if isinstance(exc, httpx.TooManyRedirects):
        return FetchError(
            "too_many_redirects",
            f"{url}: more than {max_redirects} redirects (a redirect loop?)",
            url=url,
        )
    if isinstance(exc, httpx.UnsupportedProtocol):
        return FetchError(
            "invalid_url", f"{url}: unsupported URL or redirect target ({detail})", url=url
        )
    if isinstance(exc, httpx.InvalidURL):
        return FetchError("invalid_url", f"{url}: invalid URL ({detail})", url=url)
    if isinstance(exc, httpx.ConnectTimeout | httpx.PoolTimeout):
        return FetchError("timeout", f"{url}: timed out connecting to the server", url=url)
    if isinstance(exc, httpx.TimeoutException):
        return FetchError("timeout", f"{url}: timed out waiting for the server", url=url)
    if isinstance(exc, httpx.ConnectError):
        if _is_dns_error(exc):
            host = urlsplit(url).hostname or url
            return FetchError("dns", f"{url}: host name {host!r} could not be resolved", url=url)
        if _is_tls_error(exc):
            return FetchError("tls", f"{url}: TLS/SSL error ({detail})", url=url)
        return FetchError("connect", f"{url}: could not connect ({detail})", url=url)
    if isinstance(exc, httpx.ReadError | httpx.WriteError | httpx.CloseError):
        if _is_tls_error(exc):
            return FetchError("tls", f"{url}: TLS/SSL error ({detail})", url=url)
        return FetchError("connect", f"{url}: connection lost ({detail})", url=url)
    if isinstance(exc, httpx.DecodingError):
        return FetchError("protocol", f"{url}: could not decode the body ({detail})", url=url)
    return FetchError("protocol", f"{url}: invalid HTTP response ({detail})", url=url)


def _map_os_error(exc: BaseException, url: str) -> FetchError:
    if _is_dns_error(exc):
        return FetchError("dns", f"{url}: host name could not be resolved", url=url)
    if _is_tls_error(exc):
        return FetchError("tls", f"{url}: TLS/SSL error ({_detail(exc)})", url=url)
    return FetchError("connect", f"{url}: could not connect ({_detail(exc)})", url=url)

"""An agency's web site on 127.0.0.1, serving feeds: a real HTTP server for the feed tests and
``bench/ingest.py`` (no mocks, no patched network layers).

The server runs :class:`http.server.ThreadingHTTPServer` in a background thread (one thread per
connection), so it never blocks the test's event loop. Tests register routes and then point the
code under test at :meth:`FeedServer.url`::

    def test_something(feed_server):
        feed_server.add("/rss.xml", b"<rss>...</rss>", etag='"v1"')
        url = feed_server.url("/rss.xml")
        ...
        assert feed_server.requests_to("/rss.xml")[0].headers["user-agent"].startswith("G-News")

Routes (registering a path again replaces its route, e.g. to publish a new version of a feed):

* :meth:`~FeedServer.add` -- a static body with headers; optional ``etag``/``last_modified``
  (answers ``304 Not Modified`` to a matching ``If-None-Match`` / ``If-Modified-Since``),
  ``gzip`` (compressed when the client accepts gzip), ``chunked`` (no Content-Length), any
  ``status`` (e.g. 404, 500, or 503 with ``headers={"Retry-After": "120"}``);
* :meth:`~FeedServer.redirect` -- a 301/302/307/308 to another path or URL (chains and loops);
* :meth:`~FeedServer.huge` -- a body of ``size`` bytes, streamed (with or without
  Content-Length), or as a small gzip "bomb" that inflates to ``size`` bytes;
* :meth:`~FeedServer.hang` -- accept the request and never answer, or send headers and then
  trickle a byte every ``interval`` seconds forever;
* :meth:`~FeedServer.raw` -- write raw bytes to the socket and close (protocol errors);
* :meth:`~FeedServer.dynamic` -- a callable ``(RecordedRequest) -> Response`` for anything else.

Unknown paths answer 404. Every request is logged (:attr:`~FeedServer.requests`,
:meth:`~FeedServer.requests_to`). :meth:`~FeedServer.stop` wakes up hanging handlers, so
shutdown is immediate. Use it as a context manager or through the ``feed_server`` pytest fixture
in ``tests/workers/feeds/conftest.py``.
"""

from __future__ import annotations

import gzip as gzip_lib
import socket
import sys
import threading
import time
import zlib
from collections.abc import Callable, Iterable
from dataclasses import dataclass, field
from datetime import UTC, datetime
from email.utils import format_datetime, parsedate_to_datetime
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any

__all__ = ["FeedServer", "RecordedRequest", "Response", "http_date", "unused_port"]

_CHUNK = 64 * 1024


@dataclass
class RecordedRequest:
    """One request as the server saw it. Header names are lower-case."""

    method: str
    path: str  # including the query string
    headers: dict[str, str]
    at: float = field(default_factory=time.monotonic)
    status: int | None = None  # status the route answered (None: hung / raw bytes)
    bytes_sent: int = 0  # body bytes written to the socket (compressed size when gzipped)


@dataclass
class Response:
    """What a :meth:`FeedServer.dynamic` callable returns."""

    status: int = 200
    body: bytes | str = b""
    headers: dict[str, str] = field(default_factory=dict)
    content_type: str | None = "application/rss+xml; charset=utf-8"


def http_date(value: float | None = None) -> str:
    """An RFC 7231 date (for Last-Modified/Retry-After); ``value`` is a UNIX time."""
    return format_datetime(datetime.fromtimestamp(value or time.time(), UTC), usegmt=True)


def unused_port() -> int:
    """A TCP port on 127.0.0.1 with nothing listening (connections are refused)."""
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


Route = Callable[["_Handler", RecordedRequest], None]


class FeedServer:
    """Loopback HTTP server with registrable routes and a request log (see module docstring)."""

    def __init__(self, host: str = "127.0.0.1") -> None:
        self._host = host
        self._routes: dict[str, Route] = {}
        self._log: list[RecordedRequest] = []
        self._lock = threading.Lock()
        self._stopping = threading.Event()
        self._httpd: _Server | None = None
        self._thread: threading.Thread | None = None

    # -- lifecycle --------------------------------------------------------------------------

    def start(self) -> FeedServer:
        handler = type("Handler", (_Handler,), {"feed_server": self})
        httpd = _Server((self._host, 0), handler)
        self._httpd = httpd
        self._thread = threading.Thread(
            target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        self._stopping.set()
        if self._httpd is not None:
            self._httpd.shutdown()
            self._httpd.server_close()
            self._httpd = None
        if self._thread is not None:
            self._thread.join(timeout=5)
            self._thread = None

    def __enter__(self) -> FeedServer:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    @property
    def port(self) -> int:
        assert self._httpd is not None, "server not started"
        return self._httpd.server_address[1]

    @property
    def base_url(self) -> str:
        return f"http://{self._host}:{self.port}"

    def url(self, path: str) -> str:
        """Absolute URL of ``path`` on this server."""
        return self.base_url + (path if path.startswith("/") else "/" + path)

    # -- request log ------------------------------------------------------------------------

    @property
    def requests(self) -> list[RecordedRequest]:
        """All requests so far, oldest first (a copy)."""
        with self._lock:
            return list(self._log)

    def requests_to(self, path: str) -> list[RecordedRequest]:
        """Requests whose path (ignoring the query string unless ``path`` has one) matches."""
        with self._lock:
            return [
                r for r in self._log if r.path == path or ("?" not in path and _strip(r) == path)
            ]

    def clear_log(self) -> None:
        with self._lock:
            self._log.clear()

    # -- routes -----------------------------------------------------------------------------

    def route(self, path: str, handler: Route) -> None:
        """Register a low-level route: ``handler(http_handler, request)`` writes the answer."""
        with self._lock:
            self._routes[path] = handler

    def add(
        self,
        path: str,
        body: bytes | str | Path = b"",
        *,
        status: int = 200,
        content_type: str | None = "application/rss+xml; charset=utf-8",
        headers: dict[str, str] | None = None,
        etag: str | None = None,
        last_modified: str | None = None,
        gzip: bool = False,
        chunked: bool = False,
    ) -> None:
        """Serve a static ``body`` (a ``str`` is sent as UTF-8, a ``Path`` is read now).

        With ``etag`` / ``last_modified`` the route sends those validators and answers 304 to a
        matching conditional request (If-None-Match wins over If-Modified-Since, as in RFC
        9110). ``gzip`` compresses when the request accepts gzip; ``chunked`` omits
        Content-Length and uses chunked transfer encoding.
        """
        data = _to_bytes(body)
        extra = dict(headers or {})

        def serve(h: _Handler, req: RecordedRequest) -> None:
            validators: dict[str, str] = {}
            if etag:
                validators["ETag"] = etag
            if last_modified:
                validators["Last-Modified"] = last_modified
            if status == 200 and _not_modified(req.headers, etag, last_modified):
                h.send_simple(req, 304, b"", {**extra, **validators}, None, with_length=False)
                return
            payload = data
            hdrs = {**extra, **validators}
            if gzip and "gzip" in req.headers.get("accept-encoding", ""):
                payload = gzip_lib.compress(data)
                hdrs["Content-Encoding"] = "gzip"
                hdrs["Vary"] = "Accept-Encoding"
            if chunked:
                h.send_streamed(req, status, [payload], hdrs, content_type, length=None)
            else:
                h.send_simple(req, status, payload, hdrs, content_type)

        self.route(path, serve)

    def status(self, path: str, status: int, *, headers: dict[str, str] | None = None) -> None:
        """Answer ``status`` with a small HTML error page (e.g. 404, 500, 503 + Retry-After)."""
        page = f"<html><body><h1>{status}</h1></body></html>".encode()
        self.add(path, page, status=status, content_type="text/html", headers=headers)

    def redirect(self, path: str, location: str, *, status: int = 302) -> None:
        """Redirect ``path`` to ``location`` (a path on this server or an absolute URL)."""

        def serve(h: _Handler, req: RecordedRequest) -> None:
            h.send_simple(req, status, b"", {"Location": location}, None)

        self.route(path, serve)

    def huge(
        self,
        path: str,
        size: int,
        *,
        content_length: bool = True,
        gzip: bool = False,
        content_type: str = "application/rss+xml",
    ) -> None:
        """A body of ``size`` bytes, generated while streaming (never held in memory).

        ``content_length=False`` uses chunked encoding, so only counting the bytes can stop
        the client. ``gzip=True`` sends ``size`` zero bytes gzip-compressed (a few KB on the
        wire, with an honest small Content-Length): a decompression bomb.
        """
        if gzip:
            compressed = _gzip_zeros(size)

            def serve_gzip(h: _Handler, req: RecordedRequest) -> None:
                hdrs = {"Content-Encoding": "gzip"}
                h.send_simple(req, 200, compressed, hdrs, content_type)

            self.route(path, serve_gzip)
            return

        def chunks() -> Iterable[bytes]:
            block = (b"<!-- " + b"x" * (_CHUNK - 9) + b" -->")[:_CHUNK]
            remaining = size
            while remaining > 0 and not self._stopping.is_set():
                piece = block[: min(_CHUNK, remaining)]
                remaining -= len(piece)
                yield piece

        def serve(h: _Handler, req: RecordedRequest) -> None:
            length = size if content_length else None
            h.send_streamed(req, 200, chunks(), {}, content_type, length=length)

        self.route(path, serve)

    def hang(
        self,
        path: str,
        *,
        send_headers: bool = False,
        trickle: bytes = b" ",
        interval: float = 0.1,
    ) -> None:
        """Accept the request and never finish the answer.

        ``send_headers=False``: say nothing at all (a read timeout must fire).
        ``send_headers=True``: send 200 headers (chunked, no Content-Length), then one chunk of
        ``trickle`` every ``interval`` seconds, forever -- each read succeeds, so only a total
        deadline stops the client. Handlers end when the client disconnects or the server
        stops.
        """

        def serve(h: _Handler, req: RecordedRequest) -> None:
            h.close_connection = True
            if send_headers:
                req.status = 200
                h.send_response(200)
                h.send_header("Content-Type", "application/rss+xml")
                h.send_header("Transfer-Encoding", "chunked")
                h.end_headers()
                h.write_chunk(b"<?xml version='1.0'?><rss><channel><title>slow</title>")
                h.wfile.flush()
            while not self._stopping.wait(interval):
                if send_headers:
                    h.write_chunk(trickle)
                    h.wfile.flush()
                    req.bytes_sent += len(trickle)

        self.route(path, serve)

    def raw(self, path: str, data: bytes) -> None:
        """Write ``data`` as-is instead of an HTTP response, then close the connection."""

        def serve(h: _Handler, req: RecordedRequest) -> None:
            h.close_connection = True
            h.wfile.write(data)
            h.wfile.flush()

        self.route(path, serve)

    def dynamic(self, path: str, func: Callable[[RecordedRequest], Response]) -> None:
        """Answer with whatever ``func(request)`` returns, e.g. a body that changes per call."""

        def serve(h: _Handler, req: RecordedRequest) -> None:
            resp = func(req)
            h.send_simple(req, resp.status, _to_bytes(resp.body), resp.headers, resp.content_type)

        self.route(path, serve)

    # -- internals --------------------------------------------------------------------------

    def _dispatch(self, h: _Handler) -> None:
        req = RecordedRequest(
            method=h.command,
            path=h.path,
            headers={k.lower(): v for k, v in h.headers.items()},
        )
        with self._lock:
            self._log.append(req)
            route = self._routes.get(req.path) or self._routes.get(_strip(req))
        if route is None:
            h.send_simple(req, 404, b"<html><body>not found</body></html>", {}, "text/html")
            return
        route(h, req)


class _Handler(BaseHTTPRequestHandler):
    feed_server: FeedServer
    protocol_version = "HTTP/1.1"
    server_version = "FeedServer/1.0"

    def do_GET(self) -> None:
        try:
            self.feed_server._dispatch(self)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError, TimeoutError):
            self.close_connection = True  # the client went away: expected in limit tests

    do_POST = do_GET

    def log_message(self, format: str, *args: Any) -> None:
        pass  # keep test output clean; the request log is on the server object

    def send_simple(
        self,
        req: RecordedRequest,
        status: int,
        body: bytes,
        headers: dict[str, str],
        content_type: str | None,
        *,
        with_length: bool = True,
    ) -> None:
        req.status = status
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        if with_length:
            self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        if body and status != 304:
            self.wfile.write(body)
            req.bytes_sent += len(body)
        self.wfile.flush()

    def send_streamed(
        self,
        req: RecordedRequest,
        status: int,
        chunks: Iterable[bytes],
        headers: dict[str, str],
        content_type: str | None,
        *,
        length: int | None,
    ) -> None:
        req.status = status
        self.send_response(status)
        if content_type:
            self.send_header("Content-Type", content_type)
        for name, value in headers.items():
            self.send_header(name, value)
        if length is None:
            self.send_header("Transfer-Encoding", "chunked")
        else:
            self.send_header("Content-Length", str(length))
        self.end_headers()
        for chunk in chunks:
            if not chunk:
                continue
            if length is None:
                self.write_chunk(chunk)
            else:
                self.wfile.write(chunk)
            req.bytes_sent += len(chunk)
        if length is None:
            self.wfile.write(b"0\r\n\r\n")
        self.wfile.flush()

    def write_chunk(self, data: bytes) -> None:
        """Write one chunk of a ``Transfer-Encoding: chunked`` body."""
        if data:
            self.wfile.write(f"{len(data):x}\r\n".encode() + data + b"\r\n")


class _Server(ThreadingHTTPServer):
    daemon_threads = True  # hanging handlers must not keep the test process alive
    request_queue_size = 128  # many concurrent connections in tests; the default is 5

    def handle_error(self, request: Any, client_address: Any) -> None:
        """A client hanging up (a poll that timed out or gave up) is routine here, not worth a
        traceback on stderr; anything else is printed as usual."""
        if not isinstance(sys.exc_info()[1], ConnectionError):
            super().handle_error(request, client_address)


def _strip(req: RecordedRequest) -> str:
    return req.path.split("?", 1)[0]


def _to_bytes(body: bytes | str | Path) -> bytes:
    if isinstance(body, Path):
        return body.read_bytes()
    if isinstance(body, str):
        return body.encode("utf-8")
    return body


def _gzip_zeros(size: int) -> bytes:
    """``size`` zero bytes, gzip-compressed (about 1000:1)."""
    block = b"\0" * _CHUNK
    obj = zlib.compressobj(9, zlib.DEFLATED, zlib.MAX_WBITS | 16)
    out = bytearray()
    remaining = size
    while remaining > 0:
        piece = block[: min(_CHUNK, remaining)]
        remaining -= len(piece)
        out += obj.compress(piece)
    out += obj.flush()
    return bytes(out)


def _not_modified(headers: dict[str, str], etag: str | None, last_modified: str | None) -> bool:
    inm = headers.get("if-none-match")
    if inm is not None:
        if not etag:
            return False
        if inm.strip() == "*":
            return True
        wanted = _weak_strip(etag)
        return any(_weak_strip(tag) == wanted for tag in inm.split(","))
    ims = headers.get("if-modified-since")
    if ims and last_modified:
        try:
            return parsedate_to_datetime(last_modified) <= parsedate_to_datetime(ims)
        except (TypeError, ValueError):
            return ims.strip() == last_modified.strip()
    return False


def _weak_strip(tag: str) -> str:
    tag = tag.strip()
    return tag[2:] if tag.startswith("W/") else tag

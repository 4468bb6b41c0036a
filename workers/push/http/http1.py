"""A lean HTTP/1.1 keep-alive client for FCM: an asyncio ``Protocol`` per connection and the
``httptools`` (llhttp) response parser, no task or stream object per request.

Why not aiohttp (or httpx): measured on the 2-core CI machine against the same emulator, the
aiohttp client spends ~140 µs of CPU per request and tops out near 4,500 requests/s, below FCM's
default quota of 10,000 messages/s; this client spends ~35 µs (``bench/push_transports.py``,
figures in ``docs/push.md``). It does only what FCM's ``messages:send`` needs: one request at a
time per connection (no pipelining), a pool of up to ``max_connections`` connections, TLS or
cleartext, Content-Length and chunked responses, per-request time-outs (checked by the pool's
:class:`~workers.push.http.connections.DeadlineSweeper`).
"""

from __future__ import annotations

import asyncio
import collections
import ssl
from dataclasses import dataclass

import httptools

from workers.push.http.connections import DeadlineSweeper, Origin


class Http1Error(Exception):
    """The request got no complete response (connect failure, connection lost, time-out)."""


@dataclass(slots=True)
class Http1Response:
    """A complete response: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes


class _Connection(asyncio.Protocol):
    """One keep-alive connection carrying one request at a time."""

    def __init__(self, pool: Http1Pool) -> None:
        self.pool = pool
        self.transport: asyncio.Transport | None = None
        self.parser = httptools.HttpResponseParser(self)
        self.future: asyncio.Future[Http1Response] | None = None
        self.deadline = 0.0  # of the request in flight (loop time)
        self.headers: dict[str, str] = {}
        self.body: list[bytes] = []
        self.closed = False
        self.counted = True  # holds one of the pool's connection slots

    # --- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = transport  # type: ignore[assignment]

    def data_received(self, data: bytes) -> None:
        try:
            self.parser.feed_data(data)
        except httptools.HttpParserError as error:
            self._fail(Http1Error(f"bad response: {error}"))
            self.close()

    def connection_lost(self, exc: Exception | None) -> None:
        self.closed = True
        self.pool.discard(self)
        self._fail(Http1Error(f"connection lost: {exc or 'closed by server'}"))

    # --- httptools callbacks ----------------------------------------------------------------
    def on_header(self, name: bytes, value: bytes) -> None:
        self.headers[name.decode("latin-1").lower()] = value.decode("latin-1")

    def on_body(self, body: bytes) -> None:
        self.body.append(body)

    def on_message_complete(self) -> None:
        future, self.future = self.future, None
        response = Http1Response(self.parser.get_status_code(), self.headers, b"".join(self.body))
        self.headers, self.body = {}, []
        if future is not None and not future.done():
            future.set_result(response)
        if self.parser.should_keep_alive():
            self.pool.release(self)
        else:
            self.close()

    # --- use --------------------------------------------------------------------------------
    def send(self, data: bytes, deadline: float) -> asyncio.Future[Http1Response]:
        """Write a complete request; the future gets its response (or an :class:`Http1Error`
        once ``deadline`` passed)."""
        assert self.future is None
        future = self.future = asyncio.get_running_loop().create_future()
        self.deadline = deadline
        if self.transport is None or self.transport.is_closing():
            self.future = None
            future.set_exception(Http1Error("connection closed"))
            return future
        self.transport.write(data)
        return future

    def time_out(self) -> None:
        """The request in flight is overdue: fail it and close the connection (its response
        may still come: the connection is never reused)."""
        self._fail(Http1Error("no response within the time-out"))
        self.close()

    def _fail(self, error: Http1Error) -> None:
        future, self.future = self.future, None
        if future is not None and not future.done():
            future.set_exception(error)

    def close(self) -> None:
        """Close the connection (it is not reused)."""
        self.closed = True
        self.pool.discard(self)
        if self.transport is not None:
            self.transport.close()


class Http1Pool:
    """Up to ``max_connections`` keep-alive connections to one origin."""

    def __init__(
        self,
        url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 100,
        connect_timeout: float = 10.0,
    ) -> None:
        origin = Origin.of(url)
        self.host, self.port, self.tls = origin.host, origin.port, origin.tls
        self.ssl_context = (ssl_context or ssl.create_default_context()) if self.tls else None
        self.host_header = f"Host: {origin.authority}\r\n".encode()
        self.max_connections = max_connections
        self.connect_timeout = connect_timeout
        self._idle: collections.deque[_Connection] = collections.deque()
        # Requests waiting for a connection, each with its deadline.
        self._waiters: collections.deque[tuple[asyncio.Future[_Connection | None], float]] = (
            collections.deque()
        )
        self._open = 0
        self._connections: set[_Connection] = set()
        self._sweeper = DeadlineSweeper(self._expire_overdue)

    async def request(
        self, method: bytes, path: bytes, headers: bytes, body: bytes, *, timeout: float = 10.0
    ) -> Http1Response:
        """Send a request; ``headers`` are complete header lines (``b"Name: value\\r\\n"…``)
        without Host and Content-Length. Raises :class:`Http1Error` when no response came."""
        data = b"".join(
            (
                method, b" ", path, b" HTTP/1.1\r\n", self.host_header, headers,
                b"Content-Length: ", str(len(body)).encode(), b"\r\n\r\n", body,
            )
        )  # fmt: skip
        deadline = self._sweeper.deadline(timeout)
        connection = await self._acquire(deadline)
        future = connection.send(data, deadline)
        self._sweeper.watch()
        try:
            return await future
        except asyncio.CancelledError:
            connection.close()  # a response may still come: never reuse it
            raise

    async def _acquire(self, deadline: float) -> _Connection:
        while self._idle:
            connection = self._idle.pop()  # most recently used: least likely to be closed
            if not connection.closed and not connection.transport.is_closing():  # type: ignore[union-attr]
                return connection
        if self._open < self.max_connections:
            return await self._connect()
        waiter = asyncio.get_running_loop().create_future()
        self._waiters.append((waiter, deadline))
        try:
            connection = await waiter
        except asyncio.CancelledError:
            if waiter.done() and not waiter.cancelled() and waiter.result() is not None:
                self.release(waiter.result())  # handed over just as we gave up: pass it on
            raise
        return connection if connection is not None else await self._acquire(deadline)

    async def _connect(self) -> _Connection:
        self._open += 1
        try:
            async with asyncio.timeout(self.connect_timeout):
                _, connection = await asyncio.get_running_loop().create_connection(
                    lambda: _Connection(self),
                    self.host,
                    self.port,
                    ssl=self.ssl_context,
                    server_hostname=self.host if self.tls else None,
                )
        except (OSError, TimeoutError, ssl.SSLError) as error:
            self._open -= 1
            self._wake(None)
            raise Http1Error(f"cannot connect to {self.host}:{self.port}: {error}") from None
        self._connections.add(connection)
        return connection

    def release(self, connection: _Connection) -> None:
        """A connection finished its request: hand it to a waiter or keep it idle."""
        if connection.closed:
            return
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(connection)
                return
        self._idle.append(connection)

    def discard(self, connection: _Connection) -> None:
        """A connection closed: its slot may be used for a new one."""
        if not connection.counted:
            return
        connection.counted = False
        self._connections.discard(connection)
        self._open -= 1
        self._wake(None)

    def _wake(self, value: _Connection | None) -> None:
        while self._waiters:
            waiter, _ = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(value)  # None: try to connect again
                return

    def _expire_overdue(self, now: float) -> bool:
        """Fail the requests overdue at ``now``; whether any is still in flight."""
        busy = False
        for connection in list(self._connections):
            if connection.future is not None:
                if connection.deadline <= now:
                    connection.time_out()
                else:
                    busy = True
        for waiter, deadline in self._waiters:
            if not waiter.done():
                if deadline <= now:
                    waiter.set_exception(Http1Error("no connection free within the time-out"))
                else:
                    busy = True
        return busy

    async def aclose(self) -> None:
        """Close every connection."""
        self._sweeper.stop()
        for connection in list(self._connections):
            connection.close()
        self._idle.clear()
        await asyncio.sleep(0)

"""A small HTTP/2 client for APNs: many concurrent streams over a few connections.

Built on ``h2`` (the protocol state machine) and an asyncio ``Protocol``: no thread, no task per
request. It handles what APNs needs and no more: POST with a small body, flow control both ways,
the server's MAX_CONCURRENT_STREAMS, GOAWAY (streams the server did not process fail as
retryable), per-request time-outs, TLS with ALPN ``h2`` (``https://``) or cleartext HTTP/2 with
prior knowledge (``http://``, for the emulator).
"""

from __future__ import annotations

import asyncio
import collections
import contextlib
import ssl
from dataclasses import dataclass, field
from typing import cast

import h2.config
import h2.connection
import h2.errors
import h2.events
import h2.exceptions
import h2.settings
import hpack
from hpack.table import HeaderTable

from workers.push.http.connections import DeadlineSweeper, Origin

DEFAULT_MAX_STREAMS = 100  # until the server's SETTINGS say otherwise
RECEIVE_WINDOW = 1 << 24  # connection-level receive window we grant the server


class Http2Error(Exception):
    """The request did not get a response (connection lost, reset, GOAWAY, time-out)."""


@dataclass(slots=True)
class Http2Response:
    """A complete response: status, headers (lower-case names), body."""

    status: int
    headers: dict[str, str]
    body: bytes


@dataclass(slots=True)
class _Stream:
    future: asyncio.Future[Http2Response]
    deadline: float  # loop time
    status: int = 0
    headers: dict[str, str] = field(default_factory=dict)
    body: bytearray = field(default_factory=bytearray)


class _CountingHeaderTable(HeaderTable):
    """HPACK's dynamic table, counting its changes (an entry added moves every index)."""

    changes = 0

    def add(self, name: bytes, value: bytes) -> None:
        self.changes += 1
        super().add(name, value)


class _RepeatingHeadersEncoder(hpack.Encoder):
    """HPACK for requests whose headers repeat but for a never-indexed ``:path`` put first.

    APNs requests differ only in the path (``/3/device/<token>``); once the other headers are
    in the dynamic table they encode to the same bytes every time without changing the table,
    and a never-indexed literal changes it neither. So this encoder writes the path itself
    (without Huffman coding) and reuses the encoding of the rest while the table and those
    headers stay the same; anything else goes through hpack as usual. It saves about a fifth
    of the CPU an APNs request costs (``bench/push_transports.py``).
    """

    def __init__(self) -> None:
        super().__init__()
        self.header_table: _CountingHeaderTable = _CountingHeaderTable()
        self._rest: tuple[tuple[bytes, bytes], ...] = ()
        self._rest_encoded = b""
        self._rest_state: tuple[int, int] = (-1, -1)

    def encode(self, headers, huffman: bool = True) -> bytes:  # type: ignore[no-untyped-def]
        """Encode a header block (see the class docstring)."""
        first = headers[0] if isinstance(headers, list) and headers else None
        if not (
            isinstance(first, hpack.NeverIndexedHeaderTuple)
            and first[0] == b":path"
            and len(first[1]) < 127
            and not self.header_table.resized
        ):
            return super().encode(headers, huffman)
        rest = tuple(headers[1:])
        table = self.header_table
        state = (table.changes, table.maxsize)
        if rest != self._rest or state != self._rest_state:
            encoded = super().encode(list(rest), huffman)
            self._rest, self._rest_encoded = rest, encoded
            # Reusable only when encoding it left the table as it was.
            after = (table.changes, table.maxsize)
            self._rest_state = after if after == state else (-1, -1)
        # 0001 + index 4 (":path"): literal never indexed; then the length (no Huffman), path.
        return b"\x14" + bytes((len(first[1]),)) + first[1] + self._rest_encoded


class _Connection(h2.connection.H2Connection):
    """h2's connection, without walking every stream for each new one.

    h2 counts the open streams on each new stream, by walking them all (and forgetting the
    closed ones as it goes): with a few hundred streams in flight that walk was a seventh of an
    APNs request's CPU. The pool never opens more streams than the server allows (see
    ``_ClientProtocol.capacity``), so that count is not needed to keep the limit; this one walks
    once every ``GC_EVERY`` new streams, to forget the closed ones.
    """

    GC_EVERY = 64
    _new_streams = 0

    @property
    def open_outbound_streams(self) -> int:
        """0, but for every ``GC_EVERY``-th call: h2's own count (and clean-up)."""
        self._new_streams += 1
        if self._new_streams % self.GC_EVERY:
            return 0
        return super().open_outbound_streams


class _ClientProtocol(asyncio.Protocol):
    """One HTTP/2 connection."""

    def __init__(self, pool: Http2Pool) -> None:
        self.pool = pool
        # Our headers are already lower-case bytes; skipping h2's checks and normalisation also
        # lets HPACK index the provider token (normalisation marks `authorization` never-indexed,
        # re-sending and re-Huffman-coding ~200 bytes per request).
        config = h2.config.H2Configuration(
            client_side=True,
            header_encoding=None,
            validate_outbound_headers=False,
            normalize_outbound_headers=False,
            validate_inbound_headers=False,
            normalize_inbound_headers=False,
        )
        self.conn = _Connection(config=config)
        self.conn.encoder = _RepeatingHeadersEncoder()
        self.transport: asyncio.Transport | None = None
        self.streams: dict[int, _Stream] = {}
        self.usable = False
        self.lost = False  # the connection is closed
        self.stream_limit = 0  # streams it may carry at once (the server's and the pool's limit)
        self._read_stream_limit()
        self.ready = asyncio.get_running_loop().create_future()
        self._flush_scheduled = False
        self._window_open = asyncio.Event()

    # --- asyncio.Protocol -------------------------------------------------------------------
    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        self.transport = cast(asyncio.Transport, transport)  # create_connection's: a Transport
        self.conn.initiate_connection()
        self.conn.increment_flow_control_window(RECEIVE_WINDOW)
        self.transport.write(self.conn.data_to_send())
        self.usable = True

    def data_received(self, data: bytes) -> None:
        try:
            events = self.conn.receive_data(data)
        except h2.exceptions.ProtocolError as error:
            self._fail_all(Http2Error(f"protocol error: {error}"))
            self.close()
            return
        for event in events:
            if isinstance(event, h2.events.ResponseReceived):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    for name, value in event.headers:
                        stream.headers[name.decode()] = value.decode()
                    stream.status = int(stream.headers.get(":status", "0"))
            elif isinstance(event, h2.events.DataReceived):
                stream = self.streams.get(event.stream_id)
                if stream is not None:
                    stream.body += event.data
                self.conn.acknowledge_received_data(event.flow_controlled_length, event.stream_id)
            elif isinstance(event, h2.events.StreamEnded):
                stream = self.streams.pop(event.stream_id, None)
                if stream is not None and not stream.future.done():
                    stream.future.set_result(
                        Http2Response(stream.status, stream.headers, bytes(stream.body))
                    )
                self.pool.stream_closed()
            elif isinstance(event, h2.events.StreamReset):
                stream = self.streams.pop(event.stream_id, None)
                if stream is not None and not stream.future.done():
                    stream.future.set_exception(Http2Error(f"stream reset ({event.error_code!r})"))
                self.pool.stream_closed()
            elif isinstance(event, h2.events.WindowUpdated):
                self._window_open.set()
            elif isinstance(event, h2.events.RemoteSettingsChanged):
                self._read_stream_limit()
                self._window_open.set()
                self.pool.capacity_changed()
            elif isinstance(event, h2.events.ConnectionTerminated):
                self.usable = False
                self.pool.discard(self)  # no new streams here; open ones may still finish
                last = event.last_stream_id or 0
                for stream_id in [s for s in self.streams if s > last]:
                    stream = self.streams.pop(stream_id)
                    if not stream.future.done():
                        stream.future.set_exception(Http2Error("GOAWAY: not processed"))
            ready = isinstance(
                event, h2.events.SettingsAcknowledged | h2.events.RemoteSettingsChanged
            )
            if ready and not self.ready.done():
                self.ready.set_result(None)
        self._flush()

    def connection_lost(self, exc: Exception | None) -> None:
        self.usable = False
        self.lost = True
        self.pool.discard(self)
        if not self.ready.done():
            self.ready.set_exception(Http2Error(f"connection lost: {exc}"))
        self._fail_all(Http2Error(f"connection lost: {exc or 'closed by server'}"))
        self._window_open.set()

    # --- requests ---------------------------------------------------------------------------
    @property
    def capacity(self) -> int:
        """Streams that may still be opened on this connection."""
        return self.stream_limit - len(self.streams) if self.usable else 0

    def _read_stream_limit(self) -> None:
        remote = self.conn.remote_settings.max_concurrent_streams or DEFAULT_MAX_STREAMS
        self.stream_limit = min(remote, self.pool.max_streams_per_connection)

    async def request(
        self, headers: list[tuple[bytes, bytes]], body: bytes, deadline: float
    ) -> Http2Response:
        """Send one request on a new stream and wait for its complete response (or an
        :class:`Http2Error` once ``deadline`` passed: see :meth:`expire_overdue`)."""
        stream_id = self.conn.get_next_available_stream_id()
        future = asyncio.get_running_loop().create_future()
        self.streams[stream_id] = _Stream(future, deadline)
        try:
            self.conn.send_headers(stream_id, headers, end_stream=not body)
            if body:
                await self._send_body(stream_id, body)
            self._schedule_flush()
            return await future
        except (h2.exceptions.ProtocolError, h2.exceptions.StreamClosedError) as error:
            self._cancel(stream_id)
            raise Http2Error(f"{type(error).__name__}: {error}") from None
        finally:
            if self.streams.pop(stream_id, None) is not None:
                self.pool.stream_closed()
            if not self.usable and not self.streams:
                self.close()

    async def _send_body(self, stream_id: int, body: bytes) -> None:
        view = memoryview(body)
        while view:
            if not self.usable:
                raise Http2Error("connection closed while sending")
            window = self.conn.local_flow_control_window(stream_id)
            if window <= 0:
                self._window_open.clear()
                self._flush()
                await self._window_open.wait()
                continue
            size = min(window, len(view), self.conn.max_outbound_frame_size)
            self.conn.send_data(stream_id, view[:size].tobytes(), end_stream=size == len(view))
            view = view[size:]

    def expire_overdue(self, now: float) -> bool:
        """Fail and reset the streams overdue at ``now``; whether any other is in flight."""
        busy = False
        for stream_id, stream in list(self.streams.items()):
            if stream.deadline > now:
                busy = True
            elif not stream.future.done():
                stream.future.set_exception(Http2Error("no response within the time-out"))
                self._cancel(stream_id)
        return busy

    def _cancel(self, stream_id: int) -> None:
        with contextlib.suppress(h2.exceptions.ProtocolError, h2.exceptions.StreamClosedError):
            self.conn.reset_stream(stream_id, h2.errors.ErrorCodes.CANCEL)
            self._schedule_flush()

    def _schedule_flush(self) -> None:
        # One write per turn of the event loop for all the streams opened in it.
        if not self._flush_scheduled:
            self._flush_scheduled = True
            asyncio.get_running_loop().call_soon(self._flush)

    def _flush(self) -> None:
        self._flush_scheduled = False
        data = self.conn.data_to_send()
        if data and self.transport is not None and not self.transport.is_closing():
            self.transport.write(data)

    def _fail_all(self, error: Http2Error) -> None:
        for stream in self.streams.values():
            if not stream.future.done():
                stream.future.set_exception(error)
        self.streams.clear()

    def close(self) -> None:
        """Say GOAWAY and close the connection."""
        self.usable = False
        if self.transport is not None and not self.transport.is_closing():
            with contextlib.suppress(h2.exceptions.ProtocolError):
                self.conn.close_connection()
                self._flush()
            self.transport.close()


class Http2Pool:
    """Up to ``max_connections`` HTTP/2 connections to one origin, streams spread over them."""

    def __init__(
        self,
        url: str,
        *,
        ssl_context: ssl.SSLContext | None = None,
        max_connections: int = 4,
        max_streams_per_connection: int = 250,
        connect_timeout: float = 10.0,
    ) -> None:
        origin = Origin.of(url)
        self.host, self.port, self.tls = origin.host, origin.port, origin.tls
        self.scheme = b"https" if self.tls else b"http"
        self.authority = origin.authority.encode()
        self.ssl_context: ssl.SSLContext | None = None
        if self.tls:
            self.ssl_context = ssl_context or ssl.create_default_context()
            self.ssl_context.set_alpn_protocols(["h2"])
        self.max_connections = max_connections
        # h2 counts a connection's open streams by walking them all on every new stream: a few
        # hundred per connection, over several connections, costs less CPU than 1,000 on one.
        self.max_streams_per_connection = max_streams_per_connection
        self.connect_timeout = connect_timeout
        self.connections: list[_ClientProtocol] = []  # those taking new streams
        self._live: set[_ClientProtocol] = set()  # those open (a GOAWAY'd one may still answer)
        self._connecting = 0
        self._waiters: collections.deque[asyncio.Future[None]] = collections.deque()
        self._sweeper = DeadlineSweeper(self._expire_overdue)

    async def request(
        self,
        method: bytes,
        path: bytes | tuple[bytes, bytes],
        headers: list[tuple[bytes, bytes]],
        body: bytes,
        *,
        timeout: float = 10.0,
    ) -> Http2Response:
        """Send a request; raises :class:`Http2Error` when no response came. ``path`` may be a
        ready ``(b":path", …)`` header tuple (e.g. hpack's ``NeverIndexedHeaderTuple``)."""
        deadline = self._sweeper.deadline(timeout)
        connection = await self._acquire()
        all_headers = [
            path if isinstance(path, tuple) else (b":path", path),  # first: see the encoder
            (b":method", method),
            (b":scheme", self.scheme),
            (b":authority", self.authority),
            *headers,
        ]
        self._sweeper.watch()
        return await connection.request(all_headers, body, deadline)

    async def _acquire(self) -> _ClientProtocol:
        while True:
            best, capacity = None, 0
            for connection in self.connections:
                if (free := connection.capacity) > capacity:
                    best, capacity = connection, free
            if best is not None and (
                len(best.streams) < DEFAULT_MAX_STREAMS // 2
                or len(self.connections) + self._connecting >= self.max_connections
            ):
                return best
            if len(self.connections) + self._connecting < self.max_connections:
                return await self._connect()
            waiter = asyncio.get_running_loop().create_future()
            self._waiters.append(waiter)
            try:
                await waiter
            except asyncio.CancelledError:
                if waiter.done() and not waiter.cancelled():
                    self.stream_closed()  # woken just as it gave up: wake another
                raise

    async def _connect(self) -> _ClientProtocol:
        self._connecting += 1
        try:
            loop = asyncio.get_running_loop()
            async with asyncio.timeout(self.connect_timeout):
                _, protocol = await loop.create_connection(
                    lambda: _ClientProtocol(self),
                    self.host,
                    self.port,
                    ssl=self.ssl_context,
                    server_hostname=self.host if self.tls else None,
                )
                await protocol.ready  # the server's SETTINGS: its stream limit is known
        except (OSError, TimeoutError, ssl.SSLError) as error:
            raise Http2Error(f"cannot connect to {self.host}:{self.port}: {error}") from None
        finally:
            self._connecting -= 1
        if self.tls:
            transport = protocol.transport
            ssl_object = transport.get_extra_info("ssl_object") if transport else None
            if ssl_object is None or ssl_object.selected_alpn_protocol() != "h2":
                protocol.close()
                raise Http2Error(f"{self.host}:{self.port} does not speak HTTP/2 (ALPN)")
        self.connections.append(protocol)
        self._live.add(protocol)
        return protocol

    def _expire_overdue(self, now: float) -> bool:
        busy = False
        for connection in list(self._live):
            if connection.lost:
                self._live.discard(connection)
            else:
                busy = connection.expire_overdue(now) or busy
        return busy

    def stream_closed(self) -> None:
        """A stream ended somewhere: wake one request waiting for capacity (waking them all
        on every stream's end cost more than the streams themselves)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)
                return

    def capacity_changed(self) -> None:
        """Wake every request waiting for capacity (a connection went, or a server changed
        its stream limit)."""
        while self._waiters:
            waiter = self._waiters.popleft()
            if not waiter.done():
                waiter.set_result(None)

    def discard(self, connection: _ClientProtocol) -> None:
        """Forget a connection that closed."""
        with contextlib.suppress(ValueError):
            self.connections.remove(connection)
        self.capacity_changed()

    async def aclose(self) -> None:
        """Close every connection."""
        self._sweeper.stop()
        for connection in list(self.connections):
            connection.close()
        self.connections.clear()
        await asyncio.sleep(0)

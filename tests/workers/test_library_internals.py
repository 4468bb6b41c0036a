"""The libraries' internals the worker relies on, one test each, so that an upgrade that changes
one fails here rather than in production. pyproject.toml bounds h2, hpack and arq to the major
(arq: minor) versions these tests pass with; raise a bound only with these tests green.

- hpack: ``workers/push/http/http2.py`` subclasses ``hpack.table.HeaderTable`` (counting
  ``add``; reading ``resized`` and ``maxsize``), replaces ``Encoder.header_table`` and writes the
  ``:path`` literal itself.
- h2: the same module replaces ``H2Connection.encoder`` and overrides the
  ``open_outbound_streams`` property that ``send_headers`` consults once per new stream.
- arq: ``workers/settings.py`` overrides the private ``Worker._poll_iteration`` and sets
  ``Worker.in_progress_timeout_s``.
"""

from __future__ import annotations

import inspect

import h2.config
import h2.connection
import h2.events
import hpack
from arq.worker import Worker
from hpack import NeverIndexedHeaderTuple
from hpack.table import HeaderTable

from gnews.config import Settings
from gnews.jobs import PUSH_QUEUE
from workers.push.http.http2 import (
    Http2Pool,
    _ClientProtocol,
    _Connection,
    _CountingHeaderTable,
    _RepeatingHeadersEncoder,
)
from workers.settings import ResilientWorker, worker_settings

APNS_HEADERS = [
    (b":method", b"POST"),
    (b":scheme", b"http"),
    (b":authority", b"api.push.apple.com"),
    (b"authorization", b"bearer eyJhbGciOiJFUzI1NiJ9.provider-token"),
    (b"apns-topic", b"th.go.ega.gnews"),
    (b"content-type", b"application/json"),
]


def request_headers(token: str) -> list[tuple[bytes, bytes]]:
    """An APNs request's headers as the APNs transport builds them: the path first."""
    return [NeverIndexedHeaderTuple(b":path", b"/3/device/" + token.encode()), *APNS_HEADERS]


# -- hpack -----------------------------------------------------------------------------------------


def test_hpack_header_table_has_what_the_counting_table_uses() -> None:
    assert list(inspect.signature(HeaderTable.add).parameters) == ["self", "name", "value"]
    assert isinstance(inspect.getattr_static(HeaderTable, "maxsize"), property)
    table = HeaderTable()
    assert table.resized is False
    table.maxsize = 100
    assert table.resized is True
    # The encoder writes ":path" as "literal never indexed, name index 4" by hand.
    assert HeaderTable.STATIC_TABLE[4 - 1] == (b":path", b"/")


def test_hpack_encoder_adds_to_the_table_it_is_given() -> None:
    encoder = hpack.Encoder()
    assert isinstance(encoder.header_table, HeaderTable)
    encoder.header_table = table = _CountingHeaderTable()
    encoder.encode([(b"apns-topic", b"th.go.ega.gnews")])
    assert table.changes == 1 and len(table.dynamic_entries) == 1


def test_repeating_encoder_writes_what_hpack_decodes() -> None:
    encoder, decoder = _RepeatingHeadersEncoder(), hpack.Decoder()
    blocks = []
    for token in ("aa11", "bb22", "cc33", "dd44"):
        block = encoder.encode(request_headers(token))
        assert decoder.decode(block, raw=True) == request_headers(token)
        blocks.append(block)
    # From the second request on the rest was reused: only the path differs.
    path_length = 2 + len(b"/3/device/aa11")  # type-and-index byte, length byte, the path
    assert blocks[1][path_length:] == blocks[2][path_length:] == blocks[3][path_length:]
    assert blocks[2].startswith(b"\x14\x0e/3/device/")


# -- h2 --------------------------------------------------------------------------------------------


def test_h2_connection_counts_open_streams_through_a_property() -> None:
    counter = inspect.getattr_static(h2.connection.H2Connection, "open_outbound_streams")
    assert isinstance(counter, property)
    assert isinstance(
        h2.connection.H2Connection(h2.config.H2Configuration()).encoder, hpack.Encoder
    )


async def test_h2_sends_headers_through_our_encoder_and_stream_counter() -> None:
    pool = Http2Pool("http://127.0.0.1:9")  # never connects: the protocol is driven by hand
    client = _ClientProtocol(pool).conn
    assert isinstance(client, _Connection)
    assert isinstance(client.encoder, _RepeatingHeadersEncoder)
    server = h2.connection.H2Connection(
        h2.config.H2Configuration(client_side=False, header_encoding=None)
    )
    client.initiate_connection()
    server.initiate_connection()
    server.receive_data(client.data_to_send())
    client.receive_data(server.data_to_send())

    tokens = [f"{n:04x}" for n in range(_Connection.GC_EVERY + 3)]
    for token in tokens:
        client.send_headers(client.get_next_available_stream_id(), request_headers(token))
    events = server.receive_data(client.data_to_send())

    received = [e.headers for e in events if isinstance(e, h2.events.RequestReceived)]
    assert received == [request_headers(token) for token in tokens]
    assert client._new_streams == len(tokens)  # h2 asked our property once per new stream
    assert isinstance(client.encoder.header_table, _CountingHeaderTable)
    assert client.encoder.header_table.changes > 0  # h2 encoded with the encoder we set


# -- arq -------------------------------------------------------------------------------------------


def test_arq_worker_polls_through_the_private_iteration_we_override() -> None:
    poll = inspect.getattr_static(Worker, "_poll_iteration")
    assert inspect.iscoroutinefunction(poll)
    assert list(inspect.signature(poll).parameters) == ["self"]
    assert "await self._poll_iteration()" in inspect.getsource(Worker.main)
    assert ResilientWorker._poll_iteration is not Worker._poll_iteration


def test_arq_worker_reads_the_in_progress_timeout_we_set() -> None:
    settings = Settings(mongodb_uri="mongodb://127.0.0.1:9", redis_url="redis://127.0.0.1:9/0")
    worker = ResilientWorker(**{**worker_settings(settings, PUSH_QUEUE), "handle_signals": False})
    assert worker.in_progress_timeout_s == worker.job_timeout_s + 10
    # arq computes it in __init__ (from the longest job timeout) and reads it when it starts a job.
    assert "self.in_progress_timeout_s =" in inspect.getsource(Worker.__init__)
    assert "self.in_progress_timeout_s" in inspect.getsource(Worker.start_jobs)

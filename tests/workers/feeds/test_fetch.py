"""fetch_feed against a real HTTP server on 127.0.0.1 (gnews/dev/emulators/feeds.py)."""

from __future__ import annotations

import asyncio
import pickle
import socket
import time
import zlib

import httpx
import pytest

from gnews.dev.emulators.feeds import FeedServer, RecordedRequest, Response, http_date, unused_port
from tests.workers.feeds.conftest import fixture_bytes
from workers.feeds.fetch import FETCH_ERROR_KINDS, FetchError, fetch_feed, make_feed_client

RSS = fixture_bytes("thai_rss_utf8.xml")


async def fetch_error(client: httpx.AsyncClient, url: str, **kwargs: object) -> FetchError:
    with pytest.raises(FetchError) as info:
        await fetch_feed(client, url, **kwargs)  # type: ignore[arg-type]
    error = info.value
    assert error.kind in FETCH_ERROR_KINDS
    message = str(error)
    assert "\n" not in message and message.strip() == message
    return error


# -- success paths ------------------------------------------------------------------------------


async def test_fetch_returns_body_and_validators(feed_server: FeedServer, feed_client) -> None:
    modified = http_date(1_700_000_000)
    feed_server.add("/rss.xml", RSS, etag='"v1"', last_modified=modified)

    result = await fetch_feed(feed_client, feed_server.url("/rss.xml"))

    assert result.not_modified is False
    assert result.http_status == 200
    assert result.body == RSS
    assert result.content_type == "application/rss+xml; charset=utf-8"
    assert result.etag == '"v1"'
    assert result.last_modified == modified
    assert result.url == feed_server.url("/rss.xml")
    [request] = feed_server.requests_to("/rss.xml")
    assert request.headers["user-agent"] == "G-News feed fetcher (+https://www.ega.or.th)"
    assert "gzip" in request.headers["accept-encoding"]
    assert "if-none-match" not in request.headers


async def test_default_client_settings() -> None:
    client = make_feed_client()
    try:
        assert client.follow_redirects is True
        assert client.max_redirects == 5
        assert client.timeout.connect == 5.0 and client.timeout.read == 20.0
    finally:
        await client.aclose()


async def test_conditional_get_with_etag_returns_not_modified(
    feed_server: FeedServer, feed_client
) -> None:
    feed_server.add("/rss.xml", RSS, etag='"v1"')
    url = feed_server.url("/rss.xml")

    first = await fetch_feed(feed_client, url)
    second = await fetch_feed(feed_client, url, etag=first.etag)

    assert second.not_modified is True
    assert second.http_status == 304
    assert second.body is None
    assert second.etag == '"v1"'
    assert feed_server.requests_to("/rss.xml")[1].headers["if-none-match"] == '"v1"'


async def test_conditional_get_with_last_modified(feed_server: FeedServer, feed_client) -> None:
    modified = http_date(1_700_000_000)
    feed_server.add("/rss.xml", RSS, last_modified=modified)

    result = await fetch_feed(feed_client, feed_server.url("/rss.xml"), last_modified=modified)

    assert result.not_modified is True
    assert result.body is None
    assert result.last_modified == modified
    assert feed_server.requests_to("/rss.xml")[0].headers["if-modified-since"] == modified


async def test_changed_feed_is_downloaded_again(feed_server: FeedServer, feed_client) -> None:
    feed_server.add("/rss.xml", b"<rss>new</rss>", etag='"v2"')

    result = await fetch_feed(feed_client, feed_server.url("/rss.xml"), etag='"v1"')

    assert result.not_modified is False
    assert result.body == b"<rss>new</rss>"
    assert result.etag == '"v2"'


async def test_gzip_body_is_decoded(feed_server: FeedServer, feed_client) -> None:
    feed_server.add("/rss.xml", RSS, gzip=True)

    result = await fetch_feed(feed_client, feed_server.url("/rss.xml"))

    assert result.body == RSS
    [request] = feed_server.requests_to("/rss.xml")
    assert request.bytes_sent < len(RSS)  # it really went over the wire compressed


@pytest.mark.parametrize("wbits", [zlib.MAX_WBITS, -zlib.MAX_WBITS], ids=["zlib", "raw"])
async def test_deflate_body_is_decoded(feed_server: FeedServer, feed_client, wbits: int) -> None:
    compressor = zlib.compressobj(6, zlib.DEFLATED, wbits)
    payload = compressor.compress(RSS) + compressor.flush()
    feed_server.dynamic(
        "/rss.xml", lambda req: Response(body=payload, headers={"Content-Encoding": "deflate"})
    )

    result = await fetch_feed(feed_client, feed_server.url("/rss.xml"))

    assert result.body == RSS


async def test_redirect_chain_is_followed(feed_server: FeedServer, feed_client) -> None:
    feed_server.redirect("/old", "/older", status=301)
    feed_server.redirect("/older", feed_server.url("/feed.xml"), status=307)
    feed_server.add("/feed.xml", RSS)

    result = await fetch_feed(feed_client, feed_server.url("/old"))

    assert result.body == RSS
    assert result.url == feed_server.url("/feed.xml")
    assert [r.path for r in feed_server.requests] == ["/old", "/older", "/feed.xml"]


async def test_body_of_exactly_max_bytes_is_accepted(feed_server: FeedServer, feed_client) -> None:
    feed_server.add("/rss.xml", b"x" * 1000, chunked=True)

    result = await fetch_feed(feed_client, feed_server.url("/rss.xml"), max_bytes=1000)

    assert result.body == b"x" * 1000


async def test_one_client_serves_concurrent_fetches(feed_server: FeedServer, feed_client) -> None:
    for i in range(10):
        feed_server.add(f"/feed{i}.xml", f"<rss>{i}</rss>")

    results = await asyncio.gather(
        *(fetch_feed(feed_client, feed_server.url(f"/feed{i}.xml")) for i in range(10))
    )

    assert [r.body for r in results] == [f"<rss>{i}</rss>".encode() for i in range(10)]


async def test_server_log_records_method_and_query(feed_server: FeedServer, feed_client) -> None:
    feed_server.add("/rss.xml", RSS)

    await fetch_feed(feed_client, feed_server.url("/rss.xml?page=2"))

    [request] = feed_server.requests_to("/rss.xml")
    assert isinstance(request, RecordedRequest)
    assert (request.method, request.path, request.status) == ("GET", "/rss.xml?page=2", 200)


# -- failures -----------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "url",
    [
        "ftp://feeds.example.go.th/rss.xml",
        "file:///etc/passwd",
        "javascript:alert(1)",
        "feeds.example.go.th/rss.xml",
        "http://",
        "https:///rss.xml",
        "http://example.go.th:99999/rss",
        "not a url",
        "",
    ],
)
async def test_invalid_url(feed_client, url: str) -> None:
    error = await fetch_error(feed_client, url)
    assert error.kind == "invalid_url"
    assert error.http_status is None


@pytest.mark.parametrize(
    ("status", "phrase"), [(404, "Not Found"), (500, "Internal Server Error"), (410, "Gone")]
)
async def test_http_error_status(
    feed_server: FeedServer, feed_client, status: int, phrase: str
) -> None:
    feed_server.status("/rss.xml", status)
    url = feed_server.url("/rss.xml")

    error = await fetch_error(feed_client, url)

    assert error.kind == "http_status"
    assert error.http_status == status
    assert error.retry_after is None
    assert url in str(error)
    assert f"HTTP {status} {phrase}" in str(error)


async def test_503_with_retry_after_seconds(feed_server: FeedServer, feed_client) -> None:
    feed_server.status("/rss.xml", 503, headers={"Retry-After": "120"})

    error = await fetch_error(feed_client, feed_server.url("/rss.xml"))

    assert (error.kind, error.http_status, error.retry_after) == ("http_status", 503, 120.0)
    assert "retry after 120 s" in str(error)


async def test_429_with_retry_after_http_date(feed_server: FeedServer, feed_client) -> None:
    feed_server.status("/rss.xml", 429, headers={"Retry-After": http_date(time.time() + 600)})

    error = await fetch_error(feed_client, feed_server.url("/rss.xml"))

    assert error.http_status == 429
    assert error.retry_after is not None and 590 <= error.retry_after <= 601


async def test_error_after_redirect_names_both_urls(feed_server: FeedServer, feed_client) -> None:
    feed_server.redirect("/old", "/gone")
    feed_server.status("/gone", 404)

    error = await fetch_error(feed_client, feed_server.url("/old"))

    assert error.http_status == 404
    assert feed_server.url("/old") in str(error) and feed_server.url("/gone") in str(error)


async def test_redirect_loop(feed_server: FeedServer, feed_client) -> None:
    feed_server.redirect("/a", "/b")
    feed_server.redirect("/b", "/a")

    error = await fetch_error(feed_client, feed_server.url("/a"))

    assert error.kind == "too_many_redirects"
    assert len(feed_server.requests) <= 4  # max_redirects=3 in the test client


async def test_redirect_chain_longer_than_limit(feed_server: FeedServer) -> None:
    for i in range(6):
        feed_server.redirect(f"/r{i}", f"/r{i + 1}")
    feed_server.add("/r6", RSS)
    client = make_feed_client(max_redirects=5, allow_private_networks=True)
    try:
        error = await fetch_error(client, feed_server.url("/r0"))
        assert error.kind == "too_many_redirects"
        feed_server.clear_log()
        ok = await fetch_feed(client, feed_server.url("/r1"))  # 5 redirects: allowed
        assert ok.body == RSS
    finally:
        await client.aclose()


async def test_redirect_to_non_http_scheme(feed_server: FeedServer, feed_client) -> None:
    feed_server.redirect("/rss.xml", "file:///etc/passwd")

    error = await fetch_error(feed_client, feed_server.url("/rss.xml"))

    assert error.kind == "invalid_url"


async def test_too_large_by_content_length(feed_server: FeedServer, feed_client) -> None:
    feed_server.huge("/big.xml", 50 * 1024 * 1024, content_length=True)

    started = time.monotonic()
    error = await fetch_error(feed_client, feed_server.url("/big.xml"), max_bytes=1024 * 1024)

    assert error.kind == "too_large"
    assert "52,428,800 bytes" in str(error)
    assert time.monotonic() - started < 2


async def test_too_large_while_streaming(feed_server: FeedServer, feed_client) -> None:
    size = 50 * 1024 * 1024
    feed_server.huge("/big.xml", size, content_length=False)

    error = await fetch_error(feed_client, feed_server.url("/big.xml"), max_bytes=1024 * 1024)

    assert error.kind == "too_large"
    await asyncio.sleep(0.2)  # let the server notice the closed connection
    [request] = feed_server.requests_to("/big.xml")
    assert request.bytes_sent < size / 2  # the client hung up early


async def test_gzip_bomb_is_measured_decoded(feed_server: FeedServer, feed_client) -> None:
    feed_server.huge("/bomb.xml", 20 * 1024 * 1024, gzip=True)

    error = await fetch_error(feed_client, feed_server.url("/bomb.xml"), max_bytes=1024 * 1024)

    assert error.kind == "too_large"
    [request] = feed_server.requests_to("/bomb.xml")
    assert request.bytes_sent < 1024 * 1024  # small on the wire: only decoding reveals it


async def test_corrupt_gzip_is_a_protocol_error(feed_server: FeedServer, feed_client) -> None:
    feed_server.dynamic(
        "/rss.xml",
        lambda req: Response(body=b"\x1f\x8b\x08garbage!", headers={"Content-Encoding": "gzip"}),
    )

    error = await fetch_error(feed_client, feed_server.url("/rss.xml"))

    assert error.kind == "protocol"


async def test_server_that_never_answers_times_out(feed_server: FeedServer, feed_client) -> None:
    feed_server.hang("/slow.xml")

    started = time.monotonic()
    error = await fetch_error(feed_client, feed_server.url("/slow.xml"), total_timeout=10.0)

    assert error.kind == "timeout"
    assert time.monotonic() - started < 5  # read_timeout=0.5 fired, not the total deadline


async def test_trickling_server_is_cut_off_by_total_deadline(
    feed_server: FeedServer, feed_client
) -> None:
    feed_server.hang("/trickle.xml", send_headers=True, interval=0.1)

    started = time.monotonic()
    error = await fetch_error(feed_client, feed_server.url("/trickle.xml"), total_timeout=1.0)

    elapsed = time.monotonic() - started
    assert error.kind == "timeout"
    assert 0.9 <= elapsed < 10  # the trickle never ends: only the 1 s deadline stops it
    assert "1 s" in str(error)
    [request] = feed_server.requests_to("/trickle.xml")
    assert request.bytes_sent > 0  # reads kept succeeding: only the deadline could stop it


async def test_connection_refused(feed_client) -> None:
    url = f"http://127.0.0.1:{unused_port()}/rss.xml"

    error = await fetch_error(feed_client, url)

    assert error.kind == "connect"
    assert url in str(error)


async def test_unknown_host_is_a_dns_error(feed_client) -> None:
    host = "feeds.nonexistent.invalid"  # RFC 2606: never resolves
    try:
        socket.getaddrinfo(host, 80)
    except socket.gaierror:
        pass
    else:  # pragma: no cover - a resolver that answers for .invalid
        pytest.skip("this machine's resolver answers for .invalid names")

    error = await fetch_error(feed_client, f"http://{host}/rss.xml")

    assert error.kind == "dns"
    assert host in str(error)


async def test_tls_handshake_failure(feed_server: FeedServer, feed_client) -> None:
    # An https:// URL pointing at the plain-HTTP test server: the TLS handshake fails.
    url = f"https://127.0.0.1:{feed_server.port}/rss.xml"

    error = await fetch_error(feed_client, url)

    assert error.kind == "tls"
    assert url in str(error)


@pytest.mark.parametrize(
    "raw",
    [b"NOT HTTP AT ALL\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 100\r\n\r\nshort"],
    ids=["garbage", "truncated"],
)
async def test_broken_http_response(feed_server: FeedServer, feed_client, raw: bytes) -> None:
    feed_server.raw("/rss.xml", raw)

    error = await fetch_error(feed_client, feed_server.url("/rss.xml"))

    assert error.kind == "protocol"
    assert feed_server.url("/rss.xml") in str(error)


def test_fetch_error_survives_pickling() -> None:
    error = FetchError(
        "http_status", "http://x/: HTTP 503", url="http://x/", http_status=503, retry_after=5.0
    )
    copy = pickle.loads(pickle.dumps(error))
    assert (copy.kind, str(copy), copy.url, copy.http_status, copy.retry_after) == (
        "http_status",
        "http://x/: HTTP 503",
        "http://x/",
        503,
        5.0,
    )


async def test_fetch_error_is_never_a_raw_httpx_exception(feed_client) -> None:
    error = await fetch_error(feed_client, f"http://127.0.0.1:{unused_port()}/")
    assert not isinstance(error, httpx.HTTPError)
    assert isinstance(error.__cause__, httpx.HTTPError)  # kept for logs


async def test_private_and_local_destinations_are_refused_by_default(feed_server):
    feed_server.add("/rss.xml", b"<rss/>")
    feed_server.redirect("/hop", "/rss.xml")
    async with make_feed_client() as client:
        for url in (
            feed_server.url("/rss.xml"),
            feed_server.url("/hop"),
            "http://169.254.169.254/latest/meta-data/",
            "http://[::1]:9/x",
        ):
            with pytest.raises(FetchError) as caught:
                await fetch_feed(client, url)
            assert caught.value.kind == "blocked", url
            assert "private or local address" in str(caught.value)
    assert feed_server.requests_to("/rss.xml") == []

"""Per-client budgets in Redis: 429 with Retry-After, shared by replicas, open when Redis is
down; client addresses behind trusted proxies."""

from __future__ import annotations

from types import SimpleNamespace

import pytest
from litestar.datastructures import Headers

from gnews.app import create_app
from gnews.config import ConfigurationError, load_settings
from gnews.core.rate_limit import WINDOW_SECONDS, bucket_of, client_address
from gnews.dev.embedded import free_port
from gnews.plugins import build_plugin_manager
from tests.support.api import assert_error, serve_app
from tests.support.devices import device_auth
from tests.support.push import fcm_token


def app_with(settings, **limits):
    settings = settings.model_copy(update=limits)
    return create_app(
        settings, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )


def registration(n: int) -> dict:
    return {"platform": "android", "push_token": fcm_token(n)}


def assert_limited(response) -> int:
    error = assert_error(response, 429)
    assert error["code"] == "rate_limited"
    retry_after = int(response.headers["retry-after"])
    assert 1 <= retry_after <= WINDOW_SECONDS
    return retry_after


async def test_registrations_over_the_budget_get_429(client, settings):
    async with serve_app(app_with(settings, rate_limit_registrations=2)) as http:
        for n in range(2):
            assert (await http.post("/api/v1/devices", json=registration(n))).status_code == 201
        assert_limited(await http.post("/api/v1/devices", json=registration(2)))
        # Reads have their own budget.
        assert (await http.get("/api/v1/news")).status_code == 200


async def test_reads_over_the_budget_get_429_whatever_the_endpoint(client, settings):
    async with serve_app(app_with(settings, rate_limit_reads=3)) as http:
        device = (await http.post("/api/v1/devices", json=registration(0))).json()
        auth = device_auth(device["secret"])
        assert (await http.get("/api/v1/news")).status_code == 200
        assert (await http.get("/api/v1/news", params={"q": "ข่าว"})).status_code == 200
        assert (await http.get(f"/api/v1/devices/{device['id']}", headers=auth)).status_code == 200
        assert_limited(await http.get("/api/v1/news"))
        assert_limited(await http.get(f"/api/v1/devices/{device['id']}/feed", headers=auth))
        assert_limited(await http.get("/api/v1/news/0123456789abcdef01234567"))
        # Staff and reference endpoints are not citizen budgets.
        assert (await http.get("/api/v1/provinces/TH-60")).status_code == 200


async def test_budgets_are_shared_by_replicas(client, settings):
    first, second = app_with(settings, rate_limit_reads=2), app_with(settings, rate_limit_reads=2)
    async with serve_app(first) as one, serve_app(second) as two:
        assert (await one.get("/api/v1/news")).status_code == 200
        assert (await two.get("/api/v1/news")).status_code == 200
        assert_limited(await one.get("/api/v1/news"))
        assert_limited(await two.get("/api/v1/news"))


async def test_clients_behind_a_trusted_proxy_have_their_own_budgets(client, settings):
    app = app_with(settings, rate_limit_reads=1, trusted_proxies=["127.0.0.0/8"])
    async with serve_app(app) as http:

        def via(address: str) -> dict[str, str]:
            return {"X-Forwarded-For": f"198.51.100.7, {address}"}

        assert (await http.get("/api/v1/news", headers=via("203.0.113.1"))).status_code == 200
        assert (await http.get("/api/v1/news", headers=via("203.0.113.2"))).status_code == 200
        assert_limited(await http.get("/api/v1/news", headers=via("203.0.113.1")))
    # Without the setting the header is the client's own claim and is ignored.
    async with serve_app(app_with(settings, rate_limit_reads=1)) as http:
        assert (await http.get("/api/v1/news", headers=via("203.0.113.3"))).status_code == 200
        assert_limited(await http.get("/api/v1/news", headers=via("203.0.113.4")))


async def test_zero_means_no_limit(client, settings):
    async with serve_app(app_with(settings, rate_limit_reads=0)) as http:
        for _ in range(5):
            assert (await http.get("/api/v1/news")).status_code == 200


async def test_reads_are_served_when_redis_is_down(client, settings):
    dead = settings.model_copy(
        update={"redis_url": f"redis://127.0.0.1:{free_port()}/0", "db_timeout_ms": 300}
    )
    app = create_app(dead, plugins=build_plugin_manager(entry_points=False), setup_logging=False)
    async with serve_app(app) as http:
        response = await http.get("/api/v1/news", params={"province": "TH-60"})
        assert response.status_code == 200 and response.json()["items"] == []
        assert "etag" in response.headers
        assert (await http.post("/api/v1/devices", json=registration(0))).status_code == 201


def connection(peer: str, forwarded: list[str] | None = None):
    headers = Headers([(b"x-forwarded-for", value.encode()) for value in forwarded or []])
    return SimpleNamespace(client=SimpleNamespace(host=peer), headers=headers)


@pytest.mark.parametrize(
    ("peer", "forwarded", "trusted", "expected"),
    [
        ("203.0.113.9", ["1.2.3.4"], [], "203.0.113.9"),
        ("203.0.113.9", ["1.2.3.4"], ["10.0.0.0/8"], "203.0.113.9"),
        ("10.0.0.2", ["1.2.3.4"], ["10.0.0.0/8"], "1.2.3.4"),
        ("10.0.0.2", ["6.6.6.6, 1.2.3.4, 10.0.0.5"], ["10.0.0.0/8"], "1.2.3.4"),
        ("10.0.0.2", ["6.6.6.6", "1.2.3.4"], ["10.0.0.0/8"], "1.2.3.4"),
        ("10.0.0.2", [], ["10.0.0.0/8"], "10.0.0.2"),
        ("10.0.0.2", ["10.0.0.3"], ["10.0.0.0/8"], "10.0.0.3"),
    ],
)
def test_client_address(peer, forwarded, trusted, expected):
    assert client_address(connection(peer, forwarded), trusted) == expected


def test_ipv6_clients_count_per_64():
    assert bucket_of("2001:db8:1:2:aaaa::1") == bucket_of("2001:db8:1:2:bbbb::2")
    assert bucket_of("2001:db8:1:2::1") != bucket_of("2001:db8:1:3::1")
    assert bucket_of("::ffff:192.0.2.1") == "192.0.2.1"
    assert bucket_of("192.0.2.1") == "192.0.2.1"


def test_settings(monkeypatch):
    monkeypatch.setenv("GNEWS_TRUSTED_PROXIES", "10.0.0.0/8, 192.0.2.1")
    monkeypatch.setenv("GNEWS_RATE_LIMIT_READS", "50")
    settings = load_settings()
    assert settings.trusted_proxies == ["10.0.0.0/8", "192.0.2.1"]
    assert settings.rate_limit_reads == 50 and settings.rate_limit_registrations == 20
    monkeypatch.setenv("GNEWS_TRUSTED_PROXIES", "10.0.0.0/8, proxy.internal")
    with pytest.raises(ConfigurationError, match="GNEWS_TRUSTED_PROXIES"):
        load_settings()
    monkeypatch.setenv("GNEWS_TRUSTED_PROXIES", "")
    monkeypatch.setenv("GNEWS_RATE_LIMIT_READS", "-1")
    with pytest.raises(ConfigurationError, match="GNEWS_RATE_LIMIT_READS"):
        load_settings()

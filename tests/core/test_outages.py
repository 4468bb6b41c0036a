"""MongoDB or Redis down: /health/ready and the API answer 503, then recover by themselves."""

from __future__ import annotations

import asyncio

import pytest

from gnews.app import create_app
from gnews.dev.embedded import free_port, start_mongodb, start_redis
from gnews.plugins import build_plugin_manager
from tests.support.api import assert_error, serve_app

RECOVERY_SECONDS = 30


async def eventually(check, timeout: float = RECOVERY_SECONDS):
    """Poll ``check`` (a coroutine function returning a truthy value) until it succeeds."""
    deadline = asyncio.get_running_loop().time() + timeout
    while True:
        result = await check()
        if result:
            return result
        if asyncio.get_running_loop().time() > deadline:
            pytest.fail(f"condition not met within {timeout}s")
        await asyncio.sleep(0.25)


@pytest.fixture
def own_mongodb(tmp_path):
    """A MongoDB-compatible server of this test's own, which the test may stop and restart."""
    port = free_port()
    servers = [start_mongodb(tmp_path, port)]
    yield tmp_path, port, servers
    for server in servers:
        server.stop()


async def test_mongodb_down_gives_503_and_the_api_recovers(settings, own_mongodb):
    data_dir, port, servers = own_mongodb
    settings = settings.model_copy(update={"mongodb_uri": servers[0].url, "db_timeout_ms": 500})
    app = create_app(
        settings, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    async with serve_app(app) as http:
        assert (await http.get("/api/v1/agencies")).status_code == 200
        servers[0].stop()
        ready = await http.get("/health/ready")
        assert ready.status_code == 503
        assert ready.json()["status"] == "unavailable"
        assert ready.json()["checks"]["mongodb"] != "ok" and ready.json()["checks"]["redis"] == "ok"
        error = assert_error(await http.get("/api/v1/agencies"), 503)
        assert "MongoDB" in error["message"]
        login = await http.post("/api/v1/auth/login", json={"email": "a@b.c", "password": "x"})
        assert_error(login, 503)
        servers.append(start_mongodb(data_dir, port))

        async def agencies_answer():
            return (await http.get("/api/v1/agencies")).status_code == 200

        await eventually(agencies_answer)
        assert (await http.get("/health/ready")).status_code == 200


async def test_api_starts_while_mongodb_is_down_and_initialises_when_it_comes_up(
    settings, tmp_path
):
    port = free_port()
    settings = settings.model_copy(
        update={"mongodb_uri": f"mongodb://127.0.0.1:{port}", "db_timeout_ms": 300}
    )
    app = create_app(
        settings, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    async with serve_app(app) as http:
        assert (await http.get("/health/ready")).status_code == 503
        assert_error(await http.get("/api/v1/agencies"), 503)
        server = start_mongodb(tmp_path, port)
        try:

            async def ready():
                return (await http.get("/health/ready")).status_code == 200

            await eventually(ready)
            assert (await http.get("/api/v1/agencies")).status_code == 200
        finally:
            server.stop()


async def test_redis_down_gives_503_on_ready_and_recovers(settings, tmp_path):
    port = free_port()
    redis = start_redis(tmp_path, port, persist=False)
    settings = settings.model_copy(update={"redis_url": redis.url, "db_timeout_ms": 500})
    app = create_app(
        settings, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    try:
        async with serve_app(app) as http:
            assert (await http.get("/health/ready")).status_code == 200
            redis.stop()
            ready = await http.get("/health/ready")
            assert ready.status_code == 503 and ready.json()["checks"]["redis"] != "ok"
            assert ready.json()["checks"]["mongodb"] == "ok"
            redis = start_redis(tmp_path, port, persist=False)

            async def recovered():
                return (await http.get("/health/ready")).status_code == 200

            await eventually(recovered)
    finally:
        redis.stop()

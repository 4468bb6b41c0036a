"""The API served by uvicorn on a loopback port, in a thread with its own event loop, for
clients that make real HTTP requests (schemathesis, the generated Python client).

Coroutines that use the app's database (beanie is bound to the server's MongoDB client) run on
the server's loop through :meth:`LiveAPI.run`.
"""

from __future__ import annotations

import asyncio
import threading
import time
import uuid
from collections.abc import Coroutine, Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any, TypeVar

import httpx
import uvicorn
from redis import Redis

from gnews.app import create_app
from gnews.config import Settings, load_settings
from gnews.core.persistence import mongo_client
from gnews.plugins import build_plugin_manager

T = TypeVar("T")


@dataclass
class LiveAPI:
    """A running API: its base URL and a way to run coroutines on its event loop."""

    url: str
    settings: Settings
    loop: asyncio.AbstractEventLoop

    def run(self, coroutine: Coroutine[Any, Any, T], timeout: float = 60) -> T:
        """Run ``coroutine`` on the server's loop (where the app's database client lives)."""
        return asyncio.run_coroutine_threadsafe(coroutine, self.loop).result(timeout)


def live_settings(mongodb_uri: str, redis_url: str, data_dir: Path, **overrides: Any) -> Settings:
    """Settings for a live API on its own fresh database (rate limits off unless given)."""
    Redis.from_url(redis_url).flushdb()
    values: dict[str, Any] = {
        "mongodb_uri": mongodb_uri,
        "redis_url": redis_url,
        "mongodb_db": f"test_{uuid.uuid4().hex[:12]}",
        "data_dir": data_dir,
        "plugins": [],
        "rate_limit_reads": 0,
        "rate_limit_registrations": 0,
    }
    return load_settings(**{**values, **overrides})


@contextmanager
def serve_live(settings: Settings) -> Iterator[LiveAPI]:
    """Serve the API for ``settings`` on 127.0.0.1 (a free port) until the block ends; the
    test database is dropped afterwards."""
    app = create_app(
        settings, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    server = uvicorn.Server(
        uvicorn.Config(app, host="127.0.0.1", port=0, lifespan="on", log_level="warning")
    )
    loop = asyncio.new_event_loop()
    thread = threading.Thread(
        target=loop.run_until_complete, args=(server.serve(),), name="live-api", daemon=True
    )
    thread.start()
    deadline = time.monotonic() + 60
    while not server.started:
        if not thread.is_alive() or time.monotonic() > deadline:
            raise RuntimeError("the live API did not start")
        time.sleep(0.05)
    port = server.servers[0].sockets[0].getsockname()[1]
    live = LiveAPI(f"http://127.0.0.1:{port}", settings, loop)
    while httpx.get(f"{live.url}/api/v1/agencies").status_code == 503:  # database not ready
        if time.monotonic() > deadline:
            raise RuntimeError("the live API's database did not become ready")
        time.sleep(0.1)
    try:
        yield live
    finally:

        async def drop() -> None:
            client = mongo_client(settings.mongodb_uri or "")
            await client.drop_database(settings.mongodb_db)
            await client.close()

        live.run(drop())
        server.should_exit = True
        thread.join(30)
        loop.close()

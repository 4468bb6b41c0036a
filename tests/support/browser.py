"""Browser tests: the application on a real port and Debian's Chromium driven by Playwright.

Playwright's own browser download cannot work here (no network but the package registries), so
the tests drive ``/usr/bin/chromium`` (``apt-get install -y chromium``; ``GNEWS_CHROMIUM`` names
another). Without it every browser test is skipped with that reason, and the session header
says so. Screenshots of the main pages are test artifacts, saved under
``var/test-artifacts/screenshots`` (``GNEWS_TEST_ARTIFACTS`` names another folder).
"""

from __future__ import annotations

import asyncio
import os
import re
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager
from pathlib import Path
from typing import Any

import uvicorn
from litestar import Litestar

from gnews.dev.embedded import free_port

ROOT = Path(__file__).resolve().parents[2]
CHROMIUM = Path(os.environ.get("GNEWS_CHROMIUM", "/usr/bin/chromium"))
ARTIFACTS = Path(os.environ.get("GNEWS_TEST_ARTIFACTS", ROOT / "var" / "test-artifacts"))
NO_CHROMIUM = (
    f"browser tests skipped: no Chromium at {CHROMIUM} "
    "(apt-get install -y chromium, or set GNEWS_CHROMIUM)"
)


def chromium_available() -> bool:
    """Whether the browser tests can run."""
    return CHROMIUM.is_file() and os.access(CHROMIUM, os.X_OK)


@asynccontextmanager
async def serve_live(app: Litestar) -> AsyncIterator[str]:
    """``app`` served by uvicorn on a free loopback port, on the test's own event loop (pymongo's
    async client is bound to one loop); yields its base URL."""
    port = free_port()
    config = uvicorn.Config(app, host="127.0.0.1", port=port, log_level="warning", lifespan="on")
    server = uvicorn.Server(config)
    task = asyncio.create_task(server.serve())
    while not server.started:
        if task.done():
            task.result()  # start-up failed: raise its error
            raise RuntimeError("the live server stopped during start-up")
        await asyncio.sleep(0.02)
    try:
        yield f"http://127.0.0.1:{port}"
    finally:
        server.should_exit = True
        await task


async def screenshot(page: Any, name: str) -> Path:
    """Save a full-page screenshot of ``page`` as ``<artifacts>/screenshots/<name>.png``."""
    folder = ARTIFACTS / "screenshots"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{re.sub(r'[^A-Za-z0-9_.-]+', '-', name)}.png"
    await page.screenshot(path=str(path), full_page=True)
    return path

"""Helpers of the API tests: the app served on the test's event loop, signing in, and the one
error shape."""

from __future__ import annotations

import asyncio
from collections.abc import AsyncIterator
from contextlib import asynccontextmanager

import httpx
from litestar import Litestar

from gnews.accounts.models import User

PASSWORD = "correct horse battery"
"""The password of every account the ``make_user`` fixture creates."""


@asynccontextmanager
async def serve_app(app: Litestar) -> AsyncIterator[httpx.AsyncClient]:
    """An HTTP client for ``app`` on the test's own event loop, with start-up and shutdown run.

    (pymongo's async client is bound to one event loop, so the app cannot run on a test
    client's portal thread while the test reads the same database.)
    """
    started, stop = asyncio.Event(), asyncio.Event()

    async def run_lifespan() -> None:
        # Entered and exited in this one task: Litestar's lifespan holds an anyio task group.
        async with app.lifespan():
            started.set()
            await stop.wait()

    lifespan = asyncio.create_task(run_lifespan())
    await asyncio.wait(
        [lifespan, asyncio.create_task(started.wait())], return_when=asyncio.FIRST_COMPLETED
    )
    if lifespan.done():
        lifespan.result()  # start-up failed: raise its error
    try:
        transport = httpx.ASGITransport(app=app)
        async with httpx.AsyncClient(transport=transport, base_url="http://testserver") as http:
            yield http
    finally:
        stop.set()
        await lifespan


async def login(client: httpx.AsyncClient, user: User) -> dict[str, str]:
    """Headers with a bearer token for ``user`` (signed in through the API)."""
    response = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert response.status_code == 200, response.text
    return {"Authorization": f"Bearer {response.json()['access_token']}"}


def assert_error(response, status: int, *, field: str | None = None) -> dict:
    """The response is the one error shape with this status (and names ``field``)."""
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert error["status"] == status
    assert error["code"] and error["message"] and error["request_id"]
    if field is not None:
        assert field in {f["field"] for f in error.get("fields", [])}, error
    return error

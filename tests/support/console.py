"""Signing in to the console over HTTP (httpx), the way a browser does: the form's CSRF token
comes from the page, the session from the cookie."""

from __future__ import annotations

import re
from typing import Any

import httpx

from gnews.accounts.models import User
from tests.support.api import PASSWORD

_CSRF = re.compile(r'name="_csrf_token" value="([^"]*)"')


def csrf_of(page: httpx.Response) -> str:
    """The CSRF token of a console page's forms."""
    found = _CSRF.search(page.text)
    assert found, "no CSRF token on the page"
    return found.group(1)


async def console_sign_in(client: httpx.AsyncClient, user: User, password: str = PASSWORD) -> str:
    """Sign ``user`` in on ``client`` (its cookie jar keeps the session); the CSRF token."""
    form = await client.get("/console/sign-in")
    token = csrf_of(form)
    signed_in = await client.post(
        "/console/sign-in",
        data={"email": user.email, "password": password, "_csrf_token": token},
    )
    assert signed_in.status_code == 303, signed_in.text
    return csrf_of(await client.get("/console/"))


async def browser_sign_in(page: Any, base_url: str, user: User, password: str = PASSWORD) -> None:
    """Sign ``user`` in to the console in the browser ``page`` (lands on the console's home)."""
    await page.goto(f"{base_url}/console/sign-in")
    await page.fill("#f-email", user.email)
    await page.fill("#f-password", password)
    await page.click("button[type=submit]")
    await page.wait_for_url(f"{base_url}/console/**")
    assert "/sign-in" not in page.url, "sign-in failed"

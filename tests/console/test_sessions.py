"""Console sessions: sign-in, the cookie's flags, CSRF, sign-out, expiry, and an account changed
meanwhile being signed out on its next request."""

from __future__ import annotations

import asyncio

import pytest

from gnews.accounts.models import User
from gnews.app import create_app
from gnews.core.persistence import update_one
from gnews.plugins import build_plugin_manager
from tests.support.api import serve_app
from tests.support.console import console_sign_in, csrf_of


async def test_pages_need_a_session(client):
    answer = await client.get("/console/")
    assert answer.status_code == 303
    assert answer.headers["location"] == "/console/sign-in?next=%2Fconsole"
    htmx = await client.get("/console/", headers={"HX-Request": "true"})
    assert htmx.status_code == 401 and htmx.headers["HX-Redirect"].startswith("/console/sign-in")


async def test_sign_in_sets_a_protected_session_cookie(client, make_user):
    editor = await make_user("editor")
    await console_sign_in(client, editor)
    cookie = next(c for c in client.cookies.jar if c.name == "gnews_console")
    assert cookie.path == "/console" and cookie.has_nonstandard_attr("HttpOnly")
    assert cookie.get_nonstandard_attr("SameSite", "").lower() == "lax"
    home = await client.get("/console/")
    assert home.status_code == 200 and editor.email in home.text
    assert 'lang="th"' in home.text and "ออกจากระบบ" in home.text
    english = await client.get("/console/", params={"lang": "en"})
    assert 'lang="en"' in english.text and "Sign out" in english.text


async def test_wrong_password_and_missing_fields_show_next_to_the_form(client, make_user):
    editor = await make_user("editor")
    form = await client.get("/console/sign-in")
    token = csrf_of(form)
    wrong = await client.post(
        "/console/sign-in", data={"email": editor.email, "password": "nope", "_csrf_token": token}
    )
    assert wrong.status_code == 401 and "wrong e-mail or password" in wrong.text
    missing = await client.post("/console/sign-in", data={"email": "", "_csrf_token": token})
    assert missing.status_code == 422
    assert 'data-field="email"' in missing.text and 'data-field="password"' in missing.text
    assert client.cookies.get("gnews_console", path="/console") in (None, "null")  # none kept


async def test_forms_without_the_csrf_token_are_refused(client, make_user):
    editor = await make_user("editor")
    await console_sign_in(client, editor)
    forged = await client.post("/console/sign-out", data={})
    assert forged.status_code == 403 and "<html" in forged.text and "reload" in forged.text
    assert (await client.get("/console/")).status_code == 200  # still signed in
    wrong = await client.post("/console/sign-out", data={"_csrf_token": "forged"})
    assert wrong.status_code == 403


async def test_sign_out_ends_the_session_on_the_server(client, make_user):
    editor = await make_user("editor")
    token = await console_sign_in(client, editor)
    stolen = client.cookies.get("gnews_console", path="/console")
    out = await client.post("/console/sign-out", data={"_csrf_token": token})
    assert out.status_code == 303 and "reason=signed-out" in out.headers["location"]
    client.cookies.set("gnews_console", stolen, path="/console")  # replaying the old cookie
    assert (await client.get("/console/")).status_code == 303


@pytest.mark.parametrize("change", ["deactivate", "new role", "new password"])
async def test_an_account_changed_meanwhile_is_signed_out(client, make_user, change):
    editor = await make_user("editor")
    await console_sign_in(client, editor)
    changes = {
        "deactivate": {"active": False},
        "new role": {"role": "developer"},
        "new password": {},
    }[change]
    # Whatever the API's admin endpoints do, they bump the token version (tested there); here
    # the stored account changes directly.
    await update_one(User, {"_id": editor.id}, set=changes, inc={"token_version": 1})
    answer = await client.get("/console/")
    assert answer.status_code == 303 and "reason=revoked" in answer.headers["location"]
    assert (await client.get("/console/")).status_code == 303


async def test_sessions_expire_when_idle_and_after_the_maximum(settings, make_user, client):
    editor = await make_user("editor")
    short = settings.model_copy(update={"console_idle_seconds": 1, "console_max_seconds": 60})
    plugins = build_plugin_manager(entry_points=False)
    async with serve_app(create_app(short, plugins=plugins, setup_logging=False)) as http:
        await console_sign_in(http, editor)
        await asyncio.sleep(1.6)
        idle = await http.get("/console/")  # the cookie and the stored session are gone
        assert idle.status_code == 303 and idle.headers["location"].startswith("/console/sign-in")
    capped = settings.model_copy(update={"console_max_seconds": 1})
    async with serve_app(create_app(capped, plugins=plugins, setup_logging=False)) as http:
        await console_sign_in(http, editor)
        await asyncio.sleep(1.2)
        old = await http.get("/console/")
        assert old.status_code == 303 and "reason=expired" in old.headers["location"]


async def test_sign_in_goes_back_where_it_was_asked_and_nowhere_else(client, make_user):
    editor = await make_user("editor")
    form = await client.get("/console/sign-in", params={"next": "https://evil.example/"})
    assert 'value="/console/"' in form.text
    token = csrf_of(form)
    answer = await client.post(
        "/console/sign-in",
        data={"email": editor.email, "password": "correct horse battery staple",
              "_csrf_token": token, "next": "/console/?lang=en"},
    )  # fmt: skip
    assert answer.status_code in (303, 401)

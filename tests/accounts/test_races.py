"""Replayed races on accounts and API keys: both changes survive (no stale whole-document
replace undoes a revocation or a deactivation)."""

from __future__ import annotations

import asyncio

from gnews.accounts import guards
from gnews.accounts import service as accounts
from gnews.accounts.models import ApiKey, User
from tests.support.api import PASSWORD, assert_error
from tests.support.interleave import PauseBeforeWrite


async def test_api_key_revoked_while_a_request_using_it_records_its_use(
    client, auth_headers, monkeypatch
):
    staff = await auth_headers("agency", agency="dopa")
    created = await client.post(
        "/api/v1/agencies/dopa/api-keys", headers=staff, json={"name": "cms"}
    )
    secret, key_id = created.json()["key"], created.json()["id"]
    pause = PauseBeforeWrite(guards.update_one)
    monkeypatch.setattr(guards, "update_one", pause)
    # The request has read the key (not revoked) and is about to record last_used_at …
    using = asyncio.create_task(client.get("/api/v1/auth/me", headers={"X-API-Key": secret}))
    await pause.reached()
    # … when the agency revokes it.
    revoked = await client.delete(f"/api/v1/agencies/dopa/api-keys/{key_id}", headers=staff)
    assert revoked.status_code == 200, revoked.text
    pause.resume()
    assert_error(await using, 401)
    stored = await ApiKey.get(key_id)
    assert stored is not None and stored.revoked_at is not None
    assert_error(await client.get("/api/v1/auth/me", headers={"X-API-Key": secret}), 401)


async def test_user_deactivated_while_signing_in_stays_deactivated(
    client, auth_headers, make_user, monkeypatch
):
    admin = await auth_headers("admin")
    user = await make_user("editor")
    pause = PauseBeforeWrite(accounts.update_one)
    monkeypatch.setattr(accounts, "update_one", pause)
    # The password is checked (argon2, slow) and last_login_at is about to be written …
    signing_in = asyncio.create_task(
        client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    )
    await pause.reached()
    # … when an admin deactivates the account.
    patched = await client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"active": False})
    assert patched.status_code == 200, patched.text
    pause.resume()
    assert_error(await signing_in, 401)
    stored = await User.get(user.id)
    assert stored is not None and stored.active is False
    again = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert_error(again, 401)


async def test_an_admins_change_during_a_sign_in_keeps_both(
    client, auth_headers, make_user, monkeypatch
):
    admin = await auth_headers("admin")
    user = await make_user("editor")
    pause = PauseBeforeWrite(accounts.update_one)
    monkeypatch.setattr(accounts, "update_one", pause)
    signing_in = asyncio.create_task(
        client.post("/api/v1/auth/login", json={"email": user.email, "password": PASSWORD})
    )
    await pause.reached()
    patched = await client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"name": "นภา"})
    assert patched.status_code == 200, patched.text
    pause.resume()
    assert (await signing_in).status_code == 200
    stored = await User.get(user.id)
    assert stored is not None and stored.name == "นภา" and stored.last_login_at is not None

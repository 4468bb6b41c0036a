"""Login, tokens, roles and account administration, including every failure path."""

from __future__ import annotations

import jwt
from beanie import PydanticObjectId

from gnews.accounts.models import User
from gnews.accounts.security import issue_token
from tests.support.api import PASSWORD, assert_error, login


async def test_login_returns_expiring_bearer_token_and_me_shows_the_user(client, make_user):
    user = await make_user("editor", email="Editor@Example.org")
    response = await client.post(
        "/api/v1/auth/login", json={"email": " EDITOR@example.org ", "password": PASSWORD}
    )
    assert response.status_code == 200
    body = response.json()
    assert body["token_type"] == "bearer" and body["expires_in"] == 3600
    claims = jwt.decode(body["access_token"], options={"verify_signature": False})
    assert claims["sub"] == str(user.id) and claims["exp"] > claims["iat"]
    me = await client.get(
        "/api/v1/auth/me", headers={"Authorization": f"Bearer {body['access_token']}"}
    )
    assert me.status_code == 200
    assert me.json()["user"]["email"] == "editor@example.org"
    assert me.json()["role"] == "editor" and "password_hash" not in me.text
    stored = await User.get(user.id)
    assert stored.last_login_at is not None


async def test_wrong_credentials_are_401_without_telling_which_part_was_wrong(client, make_user):
    await make_user("editor", email="known@example.org")
    wrong_password = await client.post(
        "/api/v1/auth/login", json={"email": "known@example.org", "password": "not the password"}
    )
    unknown_email = await client.post(
        "/api/v1/auth/login", json={"email": "nobody@example.org", "password": PASSWORD}
    )
    assert (
        assert_error(wrong_password, 401)["message"] == assert_error(unknown_email, 401)["message"]
    )


async def test_deactivated_user_can_neither_log_in_nor_use_an_old_token(client, make_user):
    user = await make_user("editor")
    headers = await login(client, user)
    await user.set({User.active: False})
    assert_error(await client.get("/api/v1/auth/me", headers=headers), 401)
    response = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": PASSWORD}
    )
    assert_error(response, 401)


async def test_expired_tampered_and_malformed_tokens_are_401(client, make_user, settings):
    user = await make_user("admin")
    expired, _ = issue_token(str(user.id), "admin", settings.signing_key, ttl_seconds=-5)
    forged, _ = issue_token(str(user.id), "admin", "some other key" * 4, ttl_seconds=600)
    for token in (expired, forged, "not-a-jwt", expired[:-3] + "abc"):
        response = await client.get("/api/v1/auth/me", headers={"Authorization": f"Bearer {token}"})
        error = assert_error(response, 401)
        assert response.headers["WWW-Authenticate"] == "Bearer", error
    assert_error(await client.get("/api/v1/auth/me", headers={"Authorization": "Bearer "}), 401)
    assert_error(await client.get("/api/v1/auth/me"), 401)


async def test_login_validation_is_422_naming_the_field(client):
    assert_error(
        await client.post("/api/v1/auth/login", json={"email": "a@b.c"}), 422, field="password"
    )
    assert_error(
        await client.post("/api/v1/auth/login", json={"password": "x"}), 422, field="email"
    )


async def test_developer_can_register_but_not_choose_a_role(client):
    response = await client.post(
        "/api/v1/auth/register",
        json={"email": "dev@example.org", "password": "a long password", "name": "Somchai"},
    )
    assert response.status_code == 201, response.text
    assert response.json()["role"] == "developer"
    again = await client.post(
        "/api/v1/auth/register", json={"email": "DEV@example.org", "password": "a long password"}
    )
    assert_error(again, 409)
    sneaky = await client.post(
        "/api/v1/auth/register",
        json={"email": "x@example.org", "password": "a long password", "role": "admin"},
    )
    assert_error(sneaky, 422, field="role")
    assert_error(
        await client.post(
            "/api/v1/auth/register", json={"email": "y@example.org", "password": "short"}
        ),
        422,
        field="password",
    )
    assert_error(
        await client.post(
            "/api/v1/auth/register", json={"email": "nope", "password": "long enough!"}
        ),
        422,
        field="email",
    )


async def test_only_admins_manage_users(client, auth_headers):
    for role in ("editor", "developer"):
        headers = await auth_headers(role)
        assert_error(await client.get("/api/v1/users", headers=headers), 403)
        response = await client.post(
            "/api/v1/users",
            headers=headers,
            json={"email": "x@example.org", "password": "a long password", "role": "admin"},
        )
        assert_error(response, 403)
    assert_error(await client.get("/api/v1/users"), 401)


async def test_admin_creates_updates_and_deactivates_accounts(client, auth_headers):
    admin = await auth_headers("admin")
    created = await client.post(
        "/api/v1/users",
        headers=admin,
        json={"email": "ed@example.org", "password": "a long password", "role": "editor"},
    )
    assert created.status_code == 201, created.text
    user_id = created.json()["id"]
    assert_error(
        await client.post(
            "/api/v1/users",
            headers=admin,
            json={"email": "ed@example.org", "password": "a long password", "role": "editor"},
        ),
        409,
    )
    changed = await client.patch(
        f"/api/v1/users/{user_id}", headers=admin, json={"name": "Ed", "active": False}
    )
    assert changed.status_code == 200 and changed.json()["active"] is False
    assert (await client.get(f"/api/v1/users/{user_id}", headers=admin)).json()["name"] == "Ed"
    login_attempt = await client.post(
        "/api/v1/auth/login", json={"email": "ed@example.org", "password": "a long password"}
    )
    assert_error(login_attempt, 401)
    assert_error(await client.get(f"/api/v1/users/{PydanticObjectId()}", headers=admin), 404)
    assert_error(await client.get("/api/v1/users/not-an-id", headers=admin), 404)
    audit = await client.get("/api/v1/audit", headers=admin, params={"target_id": user_id})
    assert [e["action"] for e in audit.json()["items"]] == ["user.update", "user.create"]
    assert audit.json()["items"][0]["before"]["active"] is True


async def test_agency_accounts_need_an_existing_agency(client, auth_headers, make_user):
    admin = await auth_headers("admin")
    body = {"email": "staff@example.org", "password": "a long password", "role": "agency"}
    assert_error(await client.post("/api/v1/users", headers=admin, json=body), 422, field="agency")
    assert_error(
        await client.post("/api/v1/users", headers=admin, json={**body, "agency": "nope"}),
        422,
        field="agency",
    )
    assert_error(
        await client.post(
            "/api/v1/users",
            headers=admin,
            json={**body, "role": "editor", "agency": "nope"},
        ),
        422,
        field="agency",
    )
    await make_user("agency", agency="dopa")
    created = await client.post("/api/v1/users", headers=admin, json={**body, "agency": "dopa"})
    assert created.status_code == 201 and created.json()["agency"] == "dopa"


async def test_password_is_stored_as_argon2_hash(client, make_user):
    user = await make_user("developer")
    stored = await User.get(user.id)
    assert stored.password_hash.startswith("$argon2id$") and PASSWORD not in stored.password_hash


async def test_admin_can_change_a_password(client, auth_headers, make_user):
    admin = await auth_headers("admin")
    user = await make_user("editor")
    response = await client.patch(
        f"/api/v1/users/{user.id}", headers=admin, json={"password": "a brand new secret"}
    )
    assert response.status_code == 200
    assert_error(
        await client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"password": "short"}),
        422,
        field="password",
    )
    ok = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": "a brand new secret"}
    )
    assert ok.status_code == 200


async def test_password_role_and_status_changes_revoke_existing_tokens_at_once(
    client, auth_headers, make_user
):
    admin = await auth_headers("admin")
    me = "/api/v1/auth/me"
    for change in (
        {"password": "a brand new secret"},
        {"role": "developer"},
        {"active": False},
    ):
        user = await make_user("editor")
        old = await login(client, user)
        assert (await client.get(me, headers=old)).status_code == 200
        changed = await client.patch(f"/api/v1/users/{user.id}", headers=admin, json=change)
        assert changed.status_code == 200, changed.text
        error = assert_error(await client.get(me, headers=old), 401)
        if "active" not in change:  # (a deactivated account is refused before its tokens)
            assert "revoked" in error["message"]
    # a change that does not touch credentials keeps sessions; a new sign-in works after one
    user = await make_user("editor")
    kept = await login(client, user)
    renamed = await client.patch(f"/api/v1/users/{user.id}", headers=admin, json={"name": "สมชาย"})
    assert renamed.status_code == 200
    assert (await client.get(me, headers=kept)).status_code == 200
    await client.patch(
        f"/api/v1/users/{user.id}", headers=admin, json={"password": "another secret!"}
    )
    fresh = await client.post(
        "/api/v1/auth/login", json={"email": user.email, "password": "another secret!"}
    )
    token = {"Authorization": f"Bearer {fresh.json()['access_token']}"}
    assert (await client.get(me, headers=token)).status_code == 200
    assert_error(await client.get(me, headers=kept), 401)

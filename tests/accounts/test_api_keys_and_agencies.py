"""Agencies (public list, admin-managed) and agency API keys (shown once, hashed, revocable)."""

from __future__ import annotations

from gnews.accounts.models import ApiKey
from gnews.agencies.models import Agency
from tests.support.api import assert_error


async def test_agencies_are_public_and_admin_managed(client, auth_headers):
    admin = await auth_headers("admin")
    body = {
        "code": "dopa",
        "name_th": "กรมการปกครอง",
        "name_en": "Department of Provincial Administration",
    }
    created = await client.post("/api/v1/agencies", headers=admin, json=body)
    assert created.status_code == 201, created.text
    assert created.json()["trusted"] is False
    assert_error(await client.post("/api/v1/agencies", headers=admin, json=body), 409)
    listed = await client.get("/api/v1/agencies")
    assert [a["code"] for a in listed.json()["items"]] == ["dopa"]
    one = await client.get("/api/v1/agencies/dopa")
    assert one.json()["name_th"] == "กรมการปกครอง"
    assert_error(await client.get("/api/v1/agencies/nope"), 404)
    changed = await client.patch(
        "/api/v1/agencies/dopa", headers=admin, json={"trusted": True, "name_en": "DOPA"}
    )
    assert changed.json()["trusted"] is True and changed.json()["name_en"] == "DOPA"
    audit = await client.get("/api/v1/audit", headers=admin, params={"target_type": "agency"})
    entries = audit.json()["items"]
    assert [e["action"] for e in entries] == ["agency.update", "agency.create"]
    assert entries[0]["before"] == {
        "trusted": False,
        "name_en": "Department of Provincial Administration",
    }
    assert entries[0]["actor"]["role"] == "admin"


async def test_agency_validation_names_the_field(client, auth_headers):
    admin = await auth_headers("admin")
    good = {"code": "dopa", "name_th": "กรมการปกครอง", "name_en": "DOPA"}
    for field, value in (
        ("code", "Bad Code!"),
        ("code", ""),
        ("name_th", ""),
        ("website", "ftp://x"),
    ):
        response = await client.post("/api/v1/agencies", headers=admin, json={**good, field: value})
        assert_error(response, 422, field=field)
    response = await client.post("/api/v1/agencies", headers=admin, json={**good, "extra": 1})
    assert_error(response, 422, field="extra")
    assert await Agency.find_all().count() == 0


async def test_only_admins_create_agencies(client, auth_headers):
    body = {"code": "dopa", "name_th": "กรมการปกครอง", "name_en": "DOPA"}
    for role in ("editor", "developer"):
        response = await client.post(
            "/api/v1/agencies", headers=await auth_headers(role), json=body
        )
        assert_error(response, 403)
    assert_error(await client.post("/api/v1/agencies", json=body), 401)


async def test_agency_user_creates_uses_and_revokes_its_own_api_key(client, auth_headers):
    staff = await auth_headers("agency", agency="dopa")
    created = await client.post(
        "/api/v1/agencies/dopa/api-keys", headers=staff, json={"name": "cms"}
    )
    assert created.status_code == 201, created.text
    secret = created.json()["key"]
    assert secret.startswith("gnk_")
    stored = await ApiKey.get(created.json()["id"])
    assert secret not in stored.model_dump_json() and stored.key_hash != secret
    listed = await client.get("/api/v1/agencies/dopa/api-keys", headers=staff)
    assert [k["name"] for k in listed.json()] == ["cms"] and "key" not in listed.json()[0]
    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": secret})
    assert me.status_code == 200
    assert me.json() == {"kind": "api_key", "role": "agency", "agency": "dopa", "user": None}
    key_id = created.json()["id"]
    revoked = await client.delete(f"/api/v1/agencies/dopa/api-keys/{key_id}", headers=staff)
    assert revoked.status_code == 200 and revoked.json()["revoked_at"]
    assert_error(await client.get("/api/v1/auth/me", headers={"X-API-Key": secret}), 401)
    again = await client.delete(f"/api/v1/agencies/dopa/api-keys/{key_id}", headers=staff)
    assert again.status_code == 200
    assert (await client.get("/api/v1/agencies/dopa/api-keys", headers=staff)).json() == []


async def test_api_keys_of_another_agency_are_not_found(client, auth_headers, make_user):
    await make_user("agency", agency="moph")
    dopa_staff = await auth_headers("agency", agency="dopa")
    admin = await auth_headers("admin")
    moph_key = await client.post(
        "/api/v1/agencies/moph/api-keys", headers=admin, json={"name": "k"}
    )
    assert moph_key.status_code == 201
    assert_error(await client.get("/api/v1/agencies/moph/api-keys", headers=dopa_staff), 404)
    response = await client.post(
        "/api/v1/agencies/moph/api-keys", headers=dopa_staff, json={"name": "mine now"}
    )
    assert_error(response, 404)
    key_id = moph_key.json()["id"]
    assert_error(
        await client.delete(f"/api/v1/agencies/moph/api-keys/{key_id}", headers=dopa_staff), 404
    )
    assert_error(
        await client.delete(f"/api/v1/agencies/dopa/api-keys/{key_id}", headers=dopa_staff), 404
    )
    assert (
        await client.get("/api/v1/auth/me", headers={"X-API-Key": moph_key.json()["key"]})
    ).status_code == 200


async def test_api_keys_cannot_mint_keys_and_other_roles_are_refused(client, auth_headers):
    admin = await auth_headers("admin")
    await client.post(
        "/api/v1/agencies", headers=admin, json={"code": "dopa", "name_th": "ก", "name_en": "D"}
    )
    key = (
        await client.post("/api/v1/agencies/dopa/api-keys", headers=admin, json={"name": "k"})
    ).json()
    response = await client.post(
        "/api/v1/agencies/dopa/api-keys", headers={"X-API-Key": key["key"]}, json={"name": "k2"}
    )
    assert_error(response, 403)
    for role in ("editor", "developer"):
        response = await client.get(
            "/api/v1/agencies/dopa/api-keys", headers=await auth_headers(role)
        )
        assert_error(response, 403)
    assert_error(await client.get("/api/v1/auth/me", headers={"X-API-Key": "gnk_nope_nope"}), 401)
    assert_error(
        await client.post("/api/v1/agencies/nope/api-keys", headers=admin, json={"name": "k"}), 404
    )


async def test_agency_list_is_keyset_paginated(client, auth_headers):
    admin = await auth_headers("admin")
    for index in range(5):
        await client.post(
            "/api/v1/agencies",
            headers=admin,
            json={"code": f"agency-{index}", "name_th": "ก", "name_en": f"A{index}"},
        )
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/agencies", params=params)).json()
        seen += [a["code"] for a in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == [f"agency-{i}" for i in range(5)]
    assert_error(
        await client.get("/api/v1/agencies", params={"cursor": "garbage!"}), 422, field="cursor"
    )
    assert_error(await client.get("/api/v1/agencies", params={"limit": 0}), 422, field="limit")
    assert_error(await client.get("/api/v1/agencies", params={"limit": 1000}), 422, field="limit")
    assert_error(await client.get("/api/v1/agencies", params={"limit": "many"}), 422, field="limit")

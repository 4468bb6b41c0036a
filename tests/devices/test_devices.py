"""``/api/v1/devices``: registration, the device secret, subscriptions, deactivation."""

from __future__ import annotations

import asyncio
import hashlib

import pytest

from gnews.agencies.models import Agency
from gnews.devices.models import Device
from tests.support.api import assert_error
from tests.support.devices import device_auth, register
from tests.support.push import apns_token, fcm_token


async def test_register_and_read_own_device(client):
    await Agency(code="dopa", name_th="กรมการปกครอง", name_en="DOPA").insert()
    body = await register(
        client,
        provinces=["th-60", "TH-60", "TH-10"],
        categories=["Health", "disaster"],
        agencies=["dopa"],
        language="en",
        app_version=" 2.3.1 ",
    )
    secret = body.pop("secret")
    assert len(secret) >= 43  # 256 bits, URL-safe base64
    assert body["provinces"] == ["TH-60", "TH-10"]
    assert body["categories"] == ["health", "disaster"]
    assert body["agencies"] == ["dopa"]
    assert body["language"] == "en" and body["app_version"] == "2.3.1"
    assert body["platform"] == "android" and body["push_token"] == fcm_token()

    stored = await Device.get(body["id"])
    assert stored is not None and stored.active
    assert stored.secret_hash == hashlib.sha256(secret.encode()).hexdigest()
    assert secret not in stored.model_dump_json()

    response = await client.get(f"/api/v1/devices/{body['id']}", headers=device_auth(secret))
    assert response.status_code == 200, response.text
    assert response.headers["cache-control"] == "no-store"
    assert "secret" not in response.json()
    assert {k: v for k, v in response.json().items() if not k.endswith("_at")} == {
        k: v for k, v in body.items() if not k.endswith("_at")
    }


async def test_apns_token_is_normalised(client):
    body = await register(client, platform="ios", push_token=apns_token(7).upper())
    assert body["push_token"] == apns_token(7)


async def test_secret_is_required_and_never_reveals_whether_a_device_exists(client):
    mine = await register(client)
    other = await register(client, push_token=fcm_token(1))
    path = f"/api/v1/devices/{mine['id']}"
    # No credentials, or another scheme: 401, whatever the id.
    for headers in ({}, {"Authorization": "Bearer x"}, {"Authorization": "Device "}):
        for target in (path, "/api/v1/devices/0123456789abcdef01234567"):
            error = assert_error(await client.get(target, headers=headers), 401)
            assert "Device" in error["message"]
    # Wrong secret, unknown id, malformed id, another device's secret: the same 404.
    for target, secret in (
        (path, "not-the-secret"),
        (path, other["secret"]),
        ("/api/v1/devices/0123456789abcdef01234567", mine["secret"]),
        ("/api/v1/devices/nope", mine["secret"]),
    ):
        error = assert_error(await client.get(target, headers=device_auth(secret)), 404)
        assert error["message"] == "no such device"


async def test_a_device_cannot_read_or_change_another(client):
    first = await register(client, provinces=["TH-60"])
    second = await register(client, push_token=fcm_token(1), provinces=["TH-10"])
    path = f"/api/v1/devices/{first['id']}"
    stolen = device_auth(second["secret"])
    assert_error(await client.get(path, headers=stolen), 404)
    assert_error(await client.patch(path, json={"provinces": []}, headers=stolen), 404)
    assert_error(await client.delete(path, headers=stolen), 404)
    assert_error(await client.get(f"{path}/feed", headers=stolen), 404)
    assert_error(await client.get(f"{path}/notifications", headers=stolen), 404)
    response = await client.get(path, headers=device_auth(first["secret"]))
    assert response.status_code == 200 and response.json()["provinces"] == ["TH-60"]
    assert (await Device.get(first["id"])).active


async def test_reregistering_a_token_updates_that_device_with_a_new_secret(client):
    first = await register(client, provinces=["TH-60"])
    again = await register(client, provinces=["TH-50"], language="en")
    assert again["id"] == first["id"]
    assert again["secret"] != first["secret"]
    assert again["provinces"] == ["TH-50"] and again["language"] == "en"
    assert await Device.find_all().count() == 1
    path = f"/api/v1/devices/{first['id']}"
    assert_error(await client.get(path, headers=device_auth(first["secret"])), 404)
    assert (await client.get(path, headers=device_auth(again["secret"]))).status_code == 200


async def test_concurrent_registrations_of_one_token_make_one_device(client):
    responses = await asyncio.gather(
        *(
            client.post("/api/v1/devices", json={"platform": "android", "push_token": fcm_token(3)})
            for _ in range(5)
        )
    )
    assert {r.status_code for r in responses} == {201}
    assert len({r.json()["id"] for r in responses}) == 1
    assert await Device.find_all().count() == 1


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"platform": "windows"}, "platform"),
        ({"push_token": "short"}, "push_token"),
        ({"push_token": "x" * 99}, "push_token"),
        ({"push_token": "bad token with spaces" * 10}, "push_token"),
        ({"push_token": "x" * 4097}, "push_token"),
        ({"platform": "ios", "push_token": fcm_token()}, "push_token"),
        ({"platform": "ios", "push_token": "a" * 63}, "push_token"),
        ({"platform": "ios", "push_token": "g" * 64}, "push_token"),
        ({"provinces": ["TH-99"]}, "provinces"),
        ({"provinces": ["TH-60", "Bangkok"]}, "provinces"),
        ({"provinces": ["TH-60"] * 78}, "provinces"),
        ({"categories": ["gossip"]}, "categories"),
        ({"categories": ["health"] * 31}, "categories"),
        ({"agencies": ["nosuch"]}, "agencies"),
        ({"agencies": ["Not A Code"]}, "agencies"),
        ({"agencies": [f"a{i:03d}" for i in range(101)]}, "agencies"),
        ({"language": "fr"}, "language"),
        ({"app_version": "x" * 51}, "app_version"),
        ({"secret": "mine"}, "secret"),
    ],
)
async def test_bad_registrations_name_the_field(client, body, field):
    response = await client.post(
        "/api/v1/devices", json={"platform": "android", "push_token": fcm_token(), **body}
    )
    assert_error(response, 422, field=field)
    assert await Device.find_all().count() == 0


async def test_inactive_agencies_are_unknown(client):
    await Agency(code="gone", name_th="ยุบ", name_en="Gone", active=False).insert()
    await Agency(code="dopa", name_th="กรมการปกครอง", name_en="DOPA").insert()
    response = await client.post(
        "/api/v1/devices",
        json={"platform": "android", "push_token": fcm_token(), "agencies": ["dopa", "gone"]},
    )
    error = assert_error(response, 422, field="agencies")
    assert "'gone'" in error["message"] and "'dopa'" not in error["message"]


async def test_patch_changes_subscriptions_and_rotates_the_token(client):
    await Agency(code="moph", name_th="กระทรวงสาธารณสุข", name_en="MOPH").insert()
    device = await register(client, provinces=["TH-60"])
    path = f"/api/v1/devices/{device['id']}"
    auth = device_auth(device["secret"])
    response = await client.patch(
        path,
        json={
            "provinces": ["TH-10"],
            "categories": ["weather"],
            "agencies": ["moph"],
            "language": "en",
            "push_token": fcm_token(9),
        },
        headers=auth,
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["provinces"] == ["TH-10"] and body["categories"] == ["weather"]
    assert body["agencies"] == ["moph"] and body["language"] == "en"
    assert body["push_token"] == fcm_token(9)
    assert body["updated_at"] > device["updated_at"]
    # The secret still works; the old token now belongs to nobody and registers anew.
    assert (await client.get(path, headers=auth)).json()["push_token"] == fcm_token(9)
    fresh = await register(client)
    assert fresh["id"] != device["id"]
    # Only the fields sent change; an empty patch changes nothing.
    response = await client.patch(path, json={"provinces": []}, headers=auth)
    assert response.json()["provinces"] == [] and response.json()["categories"] == ["weather"]
    assert (await client.patch(path, json={}, headers=auth)).status_code == 200


@pytest.mark.parametrize(
    ("body", "field"),
    [
        ({"push_token": apns_token()}, "push_token"),  # an android device
        ({"provinces": None}, "provinces"),
        ({"provinces": ["TH-00"]}, "provinces"),
        ({"categories": ["nope"]}, "categories"),
        ({"agencies": ["nosuch"]}, "agencies"),
        ({"platform": "ios"}, "platform"),
        ({"language": "de"}, "language"),
    ],
)
async def test_bad_patches_name_the_field(client, body, field):
    device = await register(client, provinces=["TH-60"])
    path = f"/api/v1/devices/{device['id']}"
    response = await client.patch(path, json=body, headers=device_auth(device["secret"]))
    assert_error(response, 422, field=field)
    assert (await Device.get(device["id"])).provinces == ["TH-60"]


async def test_taking_another_devices_token_is_a_conflict(client):
    first = await register(client)
    second = await register(client, push_token=fcm_token(1))
    response = await client.patch(
        f"/api/v1/devices/{second['id']}",
        json={"push_token": fcm_token()},
        headers=device_auth(second["secret"]),
    )
    assert_error(response, 409)
    assert (await Device.get(first["id"])).push_token == fcm_token()


async def test_delete_deactivates_and_the_secret_stops_working(client):
    device = await register(client, provinces=["TH-60"])
    path = f"/api/v1/devices/{device['id']}"
    auth = device_auth(device["secret"])
    response = await client.delete(path, headers=auth)
    assert response.status_code == 204
    stored = await Device.get(device["id"])
    assert stored is not None and not stored.active
    for method in ("get", "delete"):
        assert_error(await client.request(method, path, headers=auth), 404)
    assert_error(await client.patch(path, json={"language": "en"}, headers=auth), 404)
    assert_error(await client.get(f"{path}/feed", headers=auth), 404)
    # Registering the token again revives the same device, with a new secret.
    again = await register(client)
    assert again["id"] == device["id"]
    assert (await Device.get(device["id"])).active
    assert (await client.get(path, headers=device_auth(again["secret"]))).status_code == 200


async def test_fanout_shaped_queries_work_on_this_server(client):
    """The push fan-out streams active devices by province and platform; the indexes that
    serve it must not break these queries on nx-27017 (see the multikey pitfall)."""
    await register(client, provinces=["TH-60"])
    await register(client, push_token=fcm_token(1), provinces=["TH-10", "TH-60"])
    await register(client, platform="ios", push_token=apns_token(1), provinces=["TH-60"])
    gone = await register(client, push_token=fcm_token(2), provinces=["TH-60"])
    await client.delete(f"/api/v1/devices/{gone['id']}", headers=device_auth(gone["secret"]))
    collection = Device.get_pymongo_collection()
    query = {"active": True, "platform": "android", "provinces": {"$in": ["TH-60"]}}
    found = [d async for d in collection.find(query, {"push_token": 1}).sort("_id", 1)]
    assert [d["push_token"] for d in found] == [fcm_token(), fcm_token(1)]
    assert await collection.count_documents({"active": True, "platform": "ios"}) == 1
    assert await collection.count_documents({"active": False}) == 1

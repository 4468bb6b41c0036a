"""Push-token uniqueness kept in ``push_tokens`` (keyed by the token), so it survives sharding
``devices`` by hashed ``_id``."""

from __future__ import annotations

from beanie import PydanticObjectId

from gnews.core.persistence import object_id
from gnews.devices.models import Device, PushToken
from tests.support.api import assert_error
from tests.support.devices import device_auth, register
from tests.support.push import fcm_token


async def test_registration_claims_the_token_for_its_device(client):
    device = await register(client, push_token=fcm_token(1))
    claim = await PushToken.get(fcm_token(1))
    assert claim is not None and claim.device_id == device["id"]
    again = await register(client, push_token=fcm_token(1))
    assert again["id"] == device["id"] and await PushToken.count() == 1


async def test_a_claim_left_by_a_registration_that_died_is_taken_over(client):
    # The claim was written, the device never was (the process died in between).
    await PushToken(id=fcm_token(2), device_id=str(PydanticObjectId())).insert()
    device = await register(client, push_token=fcm_token(2))
    claim = await PushToken.get(fcm_token(2))
    assert claim is not None and claim.device_id == device["id"]
    assert await Device.find_all().count() == 1


async def test_a_device_registered_before_push_tokens_existed_keeps_its_token(client):
    device = await register(client, push_token=fcm_token(3))
    await PushToken.get_pymongo_collection().delete_many({})  # as before the collection existed
    again = await register(client, push_token=fcm_token(3))
    assert again["id"] == device["id"] and await Device.find_all().count() == 1
    claim = await PushToken.get(fcm_token(3))
    assert claim is not None and claim.device_id == device["id"]


async def test_a_new_token_moves_the_claim_and_frees_the_old_one(client):
    device = await register(client, push_token=fcm_token(4))
    other = await register(client, push_token=fcm_token(5))
    taken = await client.patch(
        f"/api/v1/devices/{device['id']}",
        headers=device_auth(device["secret"]),
        json={"push_token": fcm_token(5)},
    )
    assert_error(taken, 409)
    moved = await client.patch(
        f"/api/v1/devices/{device['id']}",
        headers=device_auth(device["secret"]),
        json={"push_token": fcm_token(6)},
    )
    assert moved.status_code == 200, moved.text
    assert (await PushToken.get(fcm_token(6))).device_id == device["id"]
    assert await PushToken.get(fcm_token(4)) is None
    assert (await PushToken.get(fcm_token(5))).device_id == other["id"]
    fresh = await register(client, push_token=fcm_token(4))  # the old token is free again
    assert fresh["id"] not in (device["id"], other["id"])
    stored = await Device.get(object_id(device["id"]))
    assert stored is not None and stored.push_token == fcm_token(6)

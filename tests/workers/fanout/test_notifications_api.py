"""``/api/v1/notifications``: creating (validation, who may), previewing the audience, listing,
reading and cancelling, and a breaking news item notified in one call. No worker runs here:
these are the API's answers and what it stores and enqueues."""

from __future__ import annotations

import random
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from gnews.agencies.models import Agency
from gnews.devices.models import Device
from gnews.devices.platforms import push_platforms
from gnews.geo.provinces import provinces_in_region
from gnews.jobs import PUSH_QUEUE, fanout_job_id
from gnews.news.models import ItemStatus, NewsItem
from gnews.notifications.audience import device_filter
from gnews.notifications.models import Audience, Notification, NotificationStatus
from tests.support.api import assert_error
from tests.support.news import news_item
from tests.support.notifications import note
from tests.workers.fanout.conftest import add_devices

NOW = datetime.now(UTC)


async def test_create_stores_the_notification_and_enqueues_its_fanout(
    client, auth_headers, settings
):
    headers = await auth_headers("editor")
    body = note(
        title_en="Nakhon Sawan notice",
        body_en="Main road flooded",
        audience={"provinces": ["th-60", "TH-61"], "regions": ["North"], "platforms": ["ios"]},
        data={"kind": "flood"},
        priority="normal",
        ttl_seconds=3600,
    )
    response = await client.post("/api/v1/notifications", json=body, headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["status"] == "scheduled"
    assert created["audience"] == {
        "everyone": False,
        "provinces": ["TH-60", "TH-61"],
        "regions": ["north"],
        "categories": [],
        "agencies": [],
        "platforms": ["ios"],
        "languages": [],
    }
    send_at = datetime.fromisoformat(created["send_at"])
    expires_at = datetime.fromisoformat(created["expires_at"])
    assert abs((send_at - datetime.now(UTC)).total_seconds()) < 5
    assert expires_at - send_at == timedelta(hours=1)
    assert created["stats"] == {
        "targeted": 0,
        "sent": 0,
        "failed": 0,
        "failed_by_reason": {},
        "deactivated": 0,
        "skipped": 0,
        "opened": 0,
        "sent_by_province": {},
        "sent_by_second": {},
        "opened_by_hour": {},
    }
    assert created["data"] == {"kind": "flood"} and created["priority"] == "normal"
    # The API enqueued the fan-out by name, to run now; it sends nothing itself.
    redis = Redis.from_url(settings.redis_url)
    job_id = fanout_job_id(created["id"], 0)
    assert await redis.zscore(PUSH_QUEUE, job_id) is not None
    await redis.aclose()

    detail = await client.get(f"/api/v1/notifications/{created['id']}", headers=headers)
    assert detail.status_code == 200 and detail.json() == created
    audit = await client.get(
        "/api/v1/audit",
        params={"target_type": "notification"},
        headers=await auth_headers("admin"),
    )
    assert [entry["action"] for entry in audit.json()["items"]] == ["notification.create"]


async def test_a_scheduled_notification_is_enqueued_for_its_send_at(client, auth_headers, settings):
    headers = await auth_headers("admin")
    send_at = datetime.now(UTC) + timedelta(hours=2)
    body = note(send_at=send_at.isoformat(), expires_at=(send_at + timedelta(days=2)).isoformat())
    created = (await client.post("/api/v1/notifications", json=body, headers=headers)).json()
    assert created["status"] == "scheduled"
    assert abs(datetime.fromisoformat(created["send_at"]).timestamp() - send_at.timestamp()) < 0.01
    redis = Redis.from_url(settings.redis_url)
    score = await redis.zscore(PUSH_QUEUE, fanout_job_id(created["id"], 0))
    await redis.aclose()
    assert abs(score / 1000 - send_at.timestamp()) < 5  # arq runs it then, not before


async def test_invalid_notifications_are_422_naming_the_field(client, auth_headers):
    headers = await auth_headers("editor")
    await Agency(code="dopa", name_th="กรมการปกครอง", name_en="DOPA", active=True).insert()
    soon = datetime.now(UTC) + timedelta(hours=1)
    cases = [
        (note(audience={"provinces": ["TH-99"]}), "audience.provinces"),
        (note(audience={"regions": ["middle-earth"]}), "audience.regions.0"),
        (note(audience={"categories": ["gossip"]}), "audience.categories"),
        (note(audience={"agencies": ["nobody"]}), "audience.agencies"),
        (note(audience={"platforms": ["windows"]}), "audience.platforms.0"),
        (note(audience={"languages": ["fr"]}), "audience.languages.0"),
        (note(audience={}), "audience"),
        (note(audience={"everyone": True, "provinces": ["TH-60"]}), "audience"),
        (note(title_th=""), "title_th"),
        (note(title_th="ก" * 201), "title_th"),
        (note(body_th=" "), "body_th"),
        (note(title_en="Only a title"), "body_en"),
        (note(send_at=(datetime.now(UTC) + timedelta(days=31)).isoformat()), "send_at"),
        (note(send_at=(datetime.now(UTC) - timedelta(hours=1)).isoformat()), "send_at"),
        (note(send_at="2026-01-01T00:00:00"), "send_at"),  # no offset
        (note(send_at=soon.isoformat(), expires_at=soon.isoformat()), "expires_at"),
        (note(expires_at=(soon + timedelta(days=29)).isoformat()), "expires_at"),
        (note(ttl_seconds=3600, expires_at=soon.isoformat()), "ttl_seconds"),
        (note(ttl_seconds=10), "ttl_seconds"),
        (note(data={"notification_id": "x"}), "data"),
        (note(data={"bad key": "x"}), "data"),
        (note(data={"k": "v" * 1000, "l": "v" * 1000, "m": "v" * 1000, "n": "v" * 900}), "data"),
        (note(image_url="not a url"), "image_url"),
        (note(news_item_id="0123456789abcdef01234567"), "news_item_id"),
        (note(priority="urgent"), "priority"),
        (note(extra=1), "extra"),
    ]
    for body, field in cases:
        response = await client.post("/api/v1/notifications", json=body, headers=headers)
        assert_error(response, 422, field=field)
    assert await Notification.count() == 0


async def test_who_may_create_and_see_notifications(client, auth_headers, make_user):
    ours = await news_item("dopa")
    theirs = await news_item("ega")
    pending = await news_item("dopa", status=ItemStatus.PENDING)
    agency = await auth_headers("agency", agency="dopa")
    editor = await auth_headers("editor")
    url = "/api/v1/notifications"

    assert_error(await client.post(url, json=note()), 401)
    assert_error(await client.post(url, json=note(), headers=await auth_headers("developer")), 403)
    assert_error(await client.post(url, json=note(), headers=agency), 403)  # no news item
    other = await client.post(url, json=note(news_item_id=str(theirs.id)), headers=agency)
    assert_error(other, 404)
    unpublished = await client.post(url, json=note(news_item_id=str(pending.id)), headers=agency)
    assert_error(unpublished, 422, field="news_item_id")
    mine = await client.post(url, json=note(news_item_id=str(ours.id)), headers=agency)
    assert mine.status_code == 201, mine.text
    assert mine.json()["agency"] == "dopa"
    assert mine.json()["deep_link"] == f"gnews://news/{ours.id}"
    staff = await client.post(url, json=note(news_item_id=str(theirs.id)), headers=editor)
    assert staff.status_code == 201
    plain = await client.post(url, json=note(), headers=editor)
    assert plain.status_code == 201

    # Agency users list and read their agency's notifications only; staff see all.
    listed = (await client.get(url, headers=agency)).json()
    assert [n["id"] for n in listed["items"]] == [mine.json()["id"]]
    assert_error(await client.get(f"{url}/{staff.json()['id']}", headers=agency), 404)
    assert_error(await client.get(f"{url}/{plain.json()['id']}", headers=agency), 404)
    everything = (await client.get(url, headers=editor)).json()["items"]
    assert [n["id"] for n in everything] == [
        plain.json()["id"],
        staff.json()["id"],
        mine.json()["id"],
    ]
    assert_error(await client.get(f"{url}/nope", headers=editor), 404)


async def test_listing_pages_newest_first_and_filters_by_status(client, auth_headers):
    headers = await auth_headers("editor")
    ids = []
    for n in range(5):
        created = await client.post(
            "/api/v1/notifications", json=note(title_th=f"ข่าว {n}"), headers=headers
        )
        ids.append(created.json()["id"])
    await client.post(f"/api/v1/notifications/{ids[1]}/cancel", headers=headers)
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/notifications", params=params, headers=headers)).json()
        seen += [item["id"] for item in page["items"]]
        if not (cursor := page["next_cursor"]):
            break
    assert seen == ids[::-1]
    cancelled = await client.get(
        "/api/v1/notifications", params={"status": "cancelled"}, headers=headers
    )
    assert [item["id"] for item in cancelled.json()["items"]] == [ids[1]]
    bad = await client.get("/api/v1/notifications", params={"status": "sent"}, headers=headers)
    assert_error(bad, 422, field="status")


async def test_cancel_stops_a_scheduled_notification_and_is_409_once_finished(client, auth_headers):
    headers = await auth_headers("editor")
    later = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    created = (
        await client.post("/api/v1/notifications", json=note(send_at=later), headers=headers)
    ).json()
    url = f"/api/v1/notifications/{created['id']}/cancel"
    cancelled = await client.post(url, headers=headers)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled" and cancelled.json()["finished_at"]
    assert (await client.post(url, headers=headers)).json()["status"] == "cancelled"
    stored = await Notification.get(created["id"])
    assert stored.settled and stored.stats.targeted == 0

    done = await Notification(
        title_th="t", body_th="b", status=NotificationStatus.DONE, settled=True
    ).insert()
    assert_error(await client.post(f"/api/v1/notifications/{done.id}/cancel", headers=headers), 409)
    assert_error(await client.post("/api/v1/notifications/nope/cancel", headers=headers), 404)


async def test_preview_counts_the_audience_by_platform(client, auth_headers):
    devices = await add_devices(
        400,
        provinces=[["TH-60"], ["TH-61"], ["TH-50"], ["TH-10"], ["TH-60", "TH-50"], []],
        seed=7,
    )
    rnd = random.Random(3)
    for device in rnd.sample(devices, 40):  # inactive devices are never counted
        await Device.get_pymongo_collection().update_one(
            {"_id": device.id}, {"$set": {"active": False}}
        )
    for device in rnd.sample(devices, 60):
        await Device.get_pymongo_collection().update_one(
            {"_id": device.id}, {"$set": {"categories": ["health"], "agencies": ["dopa"]}}
        )
    await Agency(code="dopa", name_th="กรมการปกครอง", name_en="DOPA").insert()
    stored = await Device.find_all().to_list()
    headers = await auth_headers("editor")
    north = {p.code for p in provinces_in_region("north")}
    audiences = [
        ({"provinces": ["TH-60"]}, lambda d: "TH-60" in d.provinces),
        ({"regions": ["north"]}, lambda d: bool(north & set(d.provinces))),
        (
            {"provinces": ["TH-60", "TH-61"], "platforms": ["ios"], "languages": ["en"]},
            lambda d: (
                {"TH-60", "TH-61"} & set(d.provinces) and d.platform == "ios" and d.language == "en"
            ),
        ),
        (
            {"regions": ["north"], "provinces": ["TH-10"], "languages": ["th"]},
            lambda d: (north | {"TH-10"}) & set(d.provinces) and d.language == "th",
        ),
        ({"categories": ["health"], "agencies": ["dopa"]}, lambda d: "health" in d.categories),
        ({"everyone": True, "platforms": ["android"]}, lambda d: d.platform == "android"),
        ({"everyone": True}, lambda d: True),
    ]
    for audience, matches in audiences:
        expected = [d for d in stored if d.active and matches(d)]
        response = await client.post(
            "/api/v1/notifications/preview", json={"audience": audience}, headers=headers
        )
        assert response.status_code == 200, response.text
        counts = response.json()
        platforms = audience.get("platforms") or push_platforms().names  # every loaded one
        assert counts["by_platform"] == {
            p: sum(d.platform == p for d in expected) for p in platforms
        }, audience
        assert counts["total"] == len(expected)
        # The very filter the fan-out streams finds exactly these devices.
        found = await Device.find(device_filter(Audience(**audience))).to_list()
        assert sorted(d.id for d in found) == sorted(d.id for d in expected)
    assert_error(
        await client.post("/api/v1/notifications/preview", json={"audience": {}}, headers=headers),
        422,
        field="audience",
    )


async def test_a_breaking_item_is_notified_in_one_call(client, auth_headers, settings):
    item = await news_item("dopa")
    national = await news_item("ega", provinces=[], image_url="data:image/png;base64,AAAA")
    quiet = await news_item("ega", breaking=False)
    headers = await auth_headers("editor")
    url = "/api/v1/editorial/items/{}/notify"

    response = await client.post(url.format(item.id), headers=headers)
    assert response.status_code == 201, response.text
    created = response.json()
    assert created["title_th"] == item.title
    assert created["body_th"] == "ระดับน้ำเจ้าพระยาสูงขึ้น โปรดขนของขึ้นที่สูง"
    assert created["audience"]["provinces"] == ["TH-60"]
    assert created["news_item_id"] == str(item.id)
    assert created["deep_link"] == f"gnews://news/{item.id}"
    assert created["image_url"] == item.image_url and created["agency"] == "dopa"
    redis = Redis.from_url(settings.redis_url)
    assert await redis.zscore(PUSH_QUEUE, fanout_job_id(created["id"], 0)) is not None
    await redis.aclose()

    everyone = await client.post(
        url.format(national.id),
        json={"title_en": "Flood", "priority": "normal", "ttl_seconds": 600},
        headers=headers,
    )
    assert everyone.status_code == 201, everyone.text
    body = everyone.json()
    assert body["audience"]["everyone"] is True and body["image_url"] is None
    assert (body["title_en"], body["body_en"], body["priority"]) == ("Flood", "Flood", "normal")
    targeted = await client.post(
        url.format(national.id), json={"audience": {"regions": ["south"]}}, headers=headers
    )
    assert targeted.json()["audience"]["regions"] == ["south"]

    assert_error(await client.post(url.format(quiet.id), headers=headers), 409)
    await NewsItem.get_pymongo_collection().update_one(
        {"_id": item.id}, {"$set": {"status": "withdrawn"}}
    )
    assert_error(await client.post(url.format(item.id), headers=headers), 409)
    assert_error(await client.post(url.format("nope"), headers=headers), 404)
    # Agency users: their agency's breaking items only.
    agency = await auth_headers("agency", agency="ega")
    assert_error(await client.post(url.format(item.id), headers=agency), 404)
    assert (await client.post(url.format(national.id), headers=agency)).status_code == 201
    bad = await client.post(
        url.format(national.id), json={"audience": {"provinces": ["XX"]}}, headers=headers
    )
    assert_error(bad, 422, field="audience.provinces")

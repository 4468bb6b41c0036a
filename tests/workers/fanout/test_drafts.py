"""Draft notifications: written by staff (``"draft": true``) or by GAC when an app is published
for the first time ("new official app"); edited, sent or discarded by editors; never sent before.
"""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from redis.asyncio import Redis

from gnews.audit.models import AuditEntry
from gnews.jobs import PUSH_QUEUE, fanout_job_id
from gnews.notifications.models import Notification, NotificationStatus
from tests.support.api import assert_error
from tests.support.gac import BODY, LISTINGS, create, make_agency
from tests.support.news import news_item
from tests.support.notifications import note
from tests.workers.fanout.conftest import add_devices, received, running_worker, settled

NOTIFICATIONS = "/api/v1/notifications"


async def actions_on(notification_id: str) -> list[str]:
    entries = await AuditEntry.find({"target_id": notification_id}).sort("_id").to_list()
    return [entry.action for entry in entries]


async def publish_listing(client, auth_headers, **overrides) -> dict:
    """A developer's listing submitted and approved by an editor (its first publication)."""
    await make_agency("dopa")
    developer = await auth_headers("developer")
    listing = await create(client, developer, **overrides)
    path = f"{LISTINGS}/{listing['id']}"
    assert (await client.post(f"{path}/submit", headers=developer)).status_code == 200
    approved = await client.post(f"{path}/approve", headers=await auth_headers("editor"))
    assert approved.status_code == 200, approved.text
    return approved.json()


async def drafts(client, headers) -> list[dict]:
    response = await client.get(NOTIFICATIONS, params={"status": "draft"}, headers=headers)
    assert response.status_code == 200, response.text
    return response.json()["items"]


async def test_a_new_official_app_gets_a_draft_that_an_editor_edits_and_sends(
    client, push_settings, emulators, auth_headers
):
    phuket = await add_devices(30, provinces=[["TH-83"]], seed=3)
    elsewhere = await add_devices(20, start=100, provinces=[["TH-60"], []], seed=4)
    editor = await auth_headers("editor")
    listing = await publish_listing(client, auth_headers)

    [draft] = await drafts(client, editor)
    assert draft["status"] == "draft" and draft["origin"] == "gac.new_app"
    assert draft["title_th"] == "แอปใหม่ของรัฐ: ภูเก็ตพาส"
    assert draft["body_th"] == BODY["description_th"]
    assert (draft["title_en"], draft["body_en"]) == (
        "New government app: Phuket Pass",
        "Register your trip to Phuket.",
    )
    assert draft["audience"]["provinces"] == ["TH-83"] and not draft["audience"]["everyone"]
    assert draft["audience"]["platforms"] == ["android", "ios"]  # not web: no push there
    assert draft["deep_link"] == "gnews://apps/phuket-pass"
    assert draft["data"] == {"app_slug": "phuket-pass"}
    assert draft["image_url"] == BODY["icon_url"]
    assert draft["send_at"] is None and draft["expires_at"] is None
    assert draft["created_by"] is None
    nid = draft["id"]

    async with running_worker(push_settings):
        # A draft is never sent by itself: the reconciler (every second here) leaves it be.
        await asyncio.sleep(2.5)
        assert (await Notification.get(nid)).status is NotificationStatus.DRAFT
        assert sum(received(emulators).values()) == 0

        edited = await client.patch(
            f"{NOTIFICATIONS}/{nid}",
            json={"body_th": "ลงทะเบียนเดินทางเข้าภูเก็ตได้แล้ววันนี้"},
            headers=editor,
        )
        assert edited.status_code == 200, edited.text
        assert edited.json()["body_th"] == "ลงทะเบียนเดินทางเข้าภูเก็ตได้แล้ววันนี้"
        assert edited.json()["title_th"] == draft["title_th"]  # the rest is kept

        sent = await client.post(f"{NOTIFICATIONS}/{nid}/send", headers=editor)
        assert sent.status_code == 200, sent.text
        assert sent.json()["status"] == "scheduled"
        send_at = datetime.fromisoformat(sent.json()["send_at"])
        expires_at = datetime.fromisoformat(sent.json()["expires_at"])
        assert abs((send_at - datetime.now(UTC)).total_seconds()) < 5
        assert expires_at - send_at == timedelta(days=1)
        finished = await settled(nid)

    assert finished.status is NotificationStatus.DONE
    got = received(emulators)
    assert set(got) == {d.push_token for d in phuket} and set(got.values()) == {1}
    assert not set(got) & {d.push_token for d in elsewhere}
    assert finished.stats.sent == len(phuket)
    payloads = [m.payload["data"] for m in emulators.fcm.recorder.messages]
    payloads += [m.payload for m in emulators.apns.recorder.messages]
    assert len(payloads) == len(phuket)
    assert {(p["deep_link"], p["app_slug"], p["notification_id"]) for p in payloads} == {
        ("gnews://apps/phuket-pass", "phuket-pass", nid)
    }
    assert await actions_on(nid) == ["notification.draft", "notification.edit", "notification.send"]
    assert (await AuditEntry.find_one({"target_id": nid})).actor["kind"] == "system"
    assert listing["status"] == "published"


async def test_a_national_web_app_drafts_to_everyone_on_every_platform(client, auth_headers):
    await publish_listing(
        client,
        auth_headers,
        slug="tax-web",
        name_en=None,
        description_en=None,
        android_package=None,
        ios_bundle_id=None,
        app_store_url=None,
        provinces=[],
        description_th="ยื่นแบบ " * 100,
    )
    [draft] = await drafts(client, await auth_headers("admin"))
    assert draft["audience"]["everyone"] and draft["audience"]["provinces"] == []
    assert draft["audience"]["platforms"] == []
    assert draft["title_en"] is None and draft["body_en"] is None
    assert len(draft["body_th"]) == 240 and draft["body_th"].endswith("…")


async def test_staff_drafts_are_not_enqueued_until_sent(client, auth_headers, settings):
    editor = await auth_headers("editor")
    response = await client.post(NOTIFICATIONS, json=note(draft=True), headers=editor)
    assert response.status_code == 201, response.text
    draft = response.json()
    assert draft["status"] == "draft" and draft["send_at"] is None and draft["origin"] is None
    redis = Redis.from_url(settings.redis_url)
    job_id = fanout_job_id(draft["id"], 0)
    assert await redis.zscore(PUSH_QUEUE, job_id) is None

    send_at = datetime.now(UTC) + timedelta(hours=1)
    sent = await client.post(
        f"{NOTIFICATIONS}/{draft['id']}/send",
        json={"send_at": send_at.isoformat(), "ttl_seconds": 600},
        headers=editor,
    )
    assert sent.status_code == 200, sent.text
    body = sent.json()
    assert body["status"] == "scheduled"
    assert abs(datetime.fromisoformat(body["send_at"]).timestamp() - send_at.timestamp()) < 0.01
    assert datetime.fromisoformat(body["expires_at"]) - datetime.fromisoformat(
        body["send_at"]
    ) == timedelta(seconds=600)
    score = await redis.zscore(PUSH_QUEUE, job_id)
    await redis.aclose()
    assert abs(score / 1000 - send_at.timestamp()) < 5
    # Sent once: a second send, or an edit, is a conflict.
    assert_error(await client.post(f"{NOTIFICATIONS}/{draft['id']}/send", headers=editor), 409)
    changed = await client.patch(
        f"{NOTIFICATIONS}/{draft['id']}", json={"title_th": "ใหม่"}, headers=editor
    )
    assert_error(changed, 409)
    assert (await Notification.get(draft["id"])).title_th == note()["title_th"]


async def test_bad_drafts_and_changes_are_422_naming_the_field(client, auth_headers):
    editor = await auth_headers("editor")
    soon = (datetime.now(UTC) + timedelta(hours=1)).isoformat()
    for field, value in (("send_at", soon), ("expires_at", soon), ("ttl_seconds", 600)):
        response = await client.post(
            NOTIFICATIONS, json=note(draft=True, **{field: value}), headers=editor
        )
        assert_error(response, 422, field=field)
    assert await Notification.count() == 0

    created = await client.post(NOTIFICATIONS, json=note(draft=True), headers=editor)
    nid = created.json()["id"]
    path = f"{NOTIFICATIONS}/{nid}"
    cases = [
        ({"title_th": None}, "title_th"),
        ({"body_th": ""}, "body_th"),
        ({"audience": None}, "audience"),
        ({"audience": {"provinces": ["TH-99"]}}, "audience.provinces"),
        ({"audience": {}}, "audience"),
        ({"title_en": "Only a title"}, "body_en"),
        ({"data": {"notification_id": "x"}}, "data"),
        ({"priority": "urgent"}, "priority"),
        ({"image_url": "not a url"}, "image_url"),
        ({"news_item_id": "0123456789abcdef01234567"}, "news_item_id"),  # not changeable
    ]
    for body, field in cases:
        assert_error(await client.patch(path, json=body, headers=editor), 422, field=field)
    past = (datetime.now(UTC) - timedelta(hours=1)).isoformat()
    bad_send = await client.post(f"{path}/send", json={"send_at": past}, headers=editor)
    assert_error(bad_send, 422, field="send_at")
    stored = await Notification.get(nid)
    assert stored.status is NotificationStatus.DRAFT and stored.title_th == note()["title_th"]

    # English together; null removes it again; the audience is replaced whole.
    both = await client.patch(
        path,
        json={"title_en": "Notice", "body_en": "Road closed", "audience": {"everyone": True}},
        headers=editor,
    )
    assert both.status_code == 200, both.text
    assert both.json()["audience"]["everyone"] and both.json()["audience"]["provinces"] == []
    removed = await client.patch(path, json={"title_en": None, "body_en": None}, headers=editor)
    assert (removed.json()["title_en"], removed.json()["body_en"]) == (None, None)
    assert_error(await client.patch(f"{NOTIFICATIONS}/nonsense", json={}, headers=editor), 404)


async def test_a_discarded_draft_is_cancelled_and_cannot_be_sent(client, auth_headers):
    editor = await auth_headers("editor")
    nid = (await client.post(NOTIFICATIONS, json=note(draft=True), headers=editor)).json()["id"]
    cancelled = await client.post(f"{NOTIFICATIONS}/{nid}/cancel", headers=editor)
    assert cancelled.status_code == 200, cancelled.text
    assert cancelled.json()["status"] == "cancelled"
    stored = await Notification.get(nid)
    assert stored.settled and stored.finished_at and stored.stats.targeted == 0
    assert_error(await client.post(f"{NOTIFICATIONS}/{nid}/send", headers=editor), 409)
    assert await actions_on(nid) == ["notification.draft", "notification.cancel"]


async def test_gac_drafts_are_for_editors_and_agency_drafts_for_their_agency(
    client, auth_headers, make_user
):
    await publish_listing(client, auth_headers)
    [gac] = await drafts(client, await auth_headers("editor"))
    agency = await auth_headers("agency", agency="dopa")
    assert await drafts(client, agency) == []
    assert_error(await client.get(f"{NOTIFICATIONS}/{gac['id']}", headers=agency), 404)
    assert_error(await client.post(f"{NOTIFICATIONS}/{gac['id']}/send", headers=agency), 404)
    assert_error(await client.patch(f"{NOTIFICATIONS}/{gac['id']}", json={}, headers=agency), 404)
    developer = await auth_headers("developer")
    assert_error(await client.post(f"{NOTIFICATIONS}/{gac['id']}/send", headers=developer), 403)

    # An agency drafts about its own news item, edits and sends it.
    item = await news_item("dopa")
    own = await client.post(
        NOTIFICATIONS, json=note(draft=True, news_item_id=str(item.id)), headers=agency
    )
    assert own.status_code == 201, own.text
    path = f"{NOTIFICATIONS}/{own.json()['id']}"
    assert (await client.patch(path, json={"title_th": "แก้"}, headers=agency)).status_code == 200
    sent = await client.post(f"{path}/send", headers=agency)
    assert sent.status_code == 200 and sent.json()["status"] == "scheduled"
    assert sent.json()["deep_link"] == f"gnews://news/{item.id}"

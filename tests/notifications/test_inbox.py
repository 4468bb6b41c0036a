"""A device's notification inbox and recording opens (counted once)."""

from __future__ import annotations

import asyncio
from datetime import UTC, datetime, timedelta

from gnews.notifications.models import InboxEntry, Notification, NotificationStatus
from tests.support.api import assert_error
from tests.support.devices import device_auth, register
from tests.support.push import fcm_token

NOW = datetime.now(UTC).replace(microsecond=0)


async def notify(device_ids: list[str], title: str, minutes_ago: float = 0, **values):
    """A sent notification and the inbox entries the fan-out would write."""
    notification = await Notification(
        title_th=title,
        body_th=f"เนื้อหา {title}",
        status=NotificationStatus.DONE,
        settled=True,
        **values,
    ).insert()
    for device_id in device_ids:
        await InboxEntry(
            device_id=device_id,
            notification_id=str(notification.id),
            created_at=NOW - timedelta(minutes=minutes_ago),
        ).insert()
    return notification


async def test_inbox_lists_the_devices_notifications_newest_first(client):
    phone = await register(client)
    other = await register(client, push_token=fcm_token(1))
    older = await notify([phone["id"], other["id"]], "เก่า", 30, data={"item": "1"})
    newer = await notify(
        [phone["id"]], "ใหม่", 5, title_en="New", body_en="Body", news_item_id="abc"
    )
    await notify([other["id"]], "ของคนอื่น", 1)
    path = f"/api/v1/devices/{phone['id']}/notifications"
    auth = device_auth(phone["secret"])

    response = await client.get(path, headers=auth)
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["lang"] == "th" and body["next_cursor"] is None
    assert [entry["id"] for entry in body["items"]] == [str(newer.id), str(older.id)]
    first = body["items"][0]
    assert first["title"] == "ใหม่" and first["body"] == "เนื้อหา ใหม่"
    assert first["news_item_id"] == "abc" and first["opened"] is False
    assert first["opened_at"] is None
    assert datetime.fromisoformat(first["sent_at"]) == NOW - timedelta(minutes=5)
    assert body["items"][1]["data"] == {"item": "1"}
    assert response.headers["cache-control"] == "max-age=0, private, must-revalidate"
    again = await client.get(path, headers=auth | {"If-None-Match": response.headers["etag"]})
    assert again.status_code == 304

    english = (await client.get(path, headers=auth | {"Accept-Language": "en"})).json()
    assert english["lang"] == "en"
    assert [(e["title"], e["body"]) for e in english["items"]] == [
        ("New", "Body"),
        ("เก่า", "เนื้อหา เก่า"),  # no English text: Thai
    ]
    assert (await client.get(path, params={"lang": "en"}, headers=auth)).json()["lang"] == "en"


async def test_inbox_pages_and_follows_the_devices_language(client):
    phone = await register(client, language="en")
    for minutes in range(5):
        await notify([phone["id"]], f"n{minutes}", minutes, title_en=f"N{minutes}")
    path = f"/api/v1/devices/{phone['id']}/notifications"
    auth = device_auth(phone["secret"])
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get(path, params=params, headers=auth)).json()
        seen += [entry["title"] for entry in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
        await notify([phone["id"]], "arrived", -1, title_en="Arrived")  # newer: not repeated
    assert seen == ["N0", "N1", "N2", "N3", "N4"]
    assert_error(await client.get(path, params={"limit": 0}, headers=auth), 422, field="limit")


async def test_inbox_needs_the_devices_secret(client):
    phone = await register(client)
    other = await register(client, push_token=fcm_token(1))
    path = f"/api/v1/devices/{phone['id']}/notifications"
    assert_error(await client.get(path), 401)
    assert_error(await client.get(path, headers=device_auth(other["secret"])), 404)
    assert_error(await client.post(f"{path}/x/opened"), 401)


async def test_an_open_is_recorded_once(client, auth_headers):
    phone = await register(client)
    other = await register(client, push_token=fcm_token(1))
    notification = await notify([phone["id"], other["id"]], "ข่าวด่วน")
    path = f"/api/v1/devices/{phone['id']}/notifications"
    auth = device_auth(phone["secret"])
    opened = f"{path}/{notification.id}/opened"
    before = datetime.now(UTC)

    responses = await asyncio.gather(*(client.post(opened, headers=auth) for _ in range(6)))
    assert {r.status_code for r in responses} == {204}
    assert (await client.post(opened, headers=auth)).status_code == 204
    stored = await Notification.get(notification.id)
    assert stored.stats.opened == 1

    entry = await InboxEntry.find_one({"device_id": phone["id"]})
    assert entry.opens == 1 and entry.opened_at is not None
    # A real date, comparable in queries, whichever server stores it.
    collection = InboxEntry.get_pymongo_collection()
    assert await collection.count_documents({"opened_at": {"$gte": before}}) == 1
    listed = (await client.get(path, headers=auth)).json()["items"][0]
    assert listed["opened"] is True
    assert datetime.fromisoformat(listed["opened_at"]) >= before.replace(microsecond=0)

    # Another device opening it counts too; the figures show in the staff view.
    other_open = f"/api/v1/devices/{other['id']}/notifications/{notification.id}/opened"
    assert (await client.post(other_open, headers=device_auth(other["secret"]))).status_code == 204
    staff = await client.get(
        f"/api/v1/notifications/{notification.id}", headers=await auth_headers("editor")
    )
    assert staff.status_code == 200, staff.text
    stats = staff.json()["stats"]
    opens_by_hour = stats.pop("opened_by_hour")
    assert sum(opens_by_hour.values()) == 2  # one hour, or two if the hour turned meanwhile
    assert stats == {
        "targeted": 0,
        "sent": 0,
        "failed": 0,
        "failed_by_reason": {},
        "deactivated": 0,
        "skipped": 0,
        "opened": 2,
        "sent_by_province": {},
        "sent_by_second": {},
    }
    assert staff.json()["status"] == "done"


async def test_opening_what_is_not_in_the_inbox_is_404(client, auth_headers):
    phone = await register(client)
    other = await register(client, push_token=fcm_token(1))
    theirs = await notify([other["id"]], "ของคนอื่น")
    auth = device_auth(phone["secret"])
    base = f"/api/v1/devices/{phone['id']}/notifications"
    for notification_id in (str(theirs.id), "0123456789abcdef01234567", "nope"):
        assert_error(await client.post(f"{base}/{notification_id}/opened", headers=auth), 404)
    assert (await Notification.get(theirs.id)).stats.opened == 0
    # Staff (or the news item's agency), and 404 for an unknown notification.
    assert_error(await client.get(f"/api/v1/notifications/{theirs.id}"), 401)
    agency = await auth_headers("agency", agency="dopa")
    assert_error(await client.get(f"/api/v1/notifications/{theirs.id}", headers=agency), 404)
    developer = await auth_headers("developer")
    assert_error(await client.get(f"/api/v1/notifications/{theirs.id}", headers=developer), 403)
    admin = await auth_headers("admin")
    assert_error(await client.get("/api/v1/notifications/nope", headers=admin), 404)

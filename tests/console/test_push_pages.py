"""Sending a push from the console over HTTP: compose errors next to their fields, Bangkok time
to UTC, drafts, cancelling, the audience count from the preview service, agency staff seeing
their agency's notifications only, the delivery figures."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

from gnews.console.access import bangkok_input
from gnews.console.notifications import delivery_figures, shade
from gnews.notifications.models import Notification, NotificationStats, NotificationStatus
from gnews.thai.dates import BANGKOK
from tests.support.console import console_sign_in
from tests.support.devices import register
from tests.support.news import news_item
from tests.support.push import apns_token, fcm_token


def compose(token: str, **fields: object) -> dict[str, object]:
    """A compose form to Nakhon Sawan, sent now, changed by ``fields``."""
    return {
        "_csrf_token": token,
        "title_th": "ประกาศจังหวัดนครสวรรค์",
        "body_th": "น้ำท่วมถนนสายหลัก",
        "provinces": ["TH-60"],
        "when": "now",
        **fields,
    }


def field_error(html: str, name: str) -> str:
    """The error shown next to field ``name`` ('' when none)."""
    found = re.search(rf'id="e-{re.escape(name)}" data-field="{re.escape(name)}">([^<]*)<', html)
    return found.group(1) if found else ""


async def test_compose_errors_are_shown_next_to_their_fields(client, make_user):
    token = await console_sign_in(client, await make_user("editor"))
    page = await client.get("/console/notifications/new")
    assert page.status_code == 200
    assert 'maxlength="200"' in page.text and 'maxlength="2000"' in page.text  # the API's limits
    assert page.text.count("data-province=") >= 77  # the map, inline
    bad = await client.post(
        "/console/notifications/new",
        data=compose(token, title_th="", body_th="x" * 2001, provinces=[], when="later"),
    )
    assert bad.status_code == 422
    # every bad field at once, each next to its field
    assert field_error(bad.text, "send_at") == "required"
    assert field_error(bad.text, "title_th") == "required"
    assert "at most 2000" in field_error(bad.text, "body_th")
    assert "at least one of" in field_error(bad.text, "audience")
    assert 'aria-invalid="true"' in bad.text
    # what was typed is kept
    assert "x" * 2001 in bad.text
    english = await client.post(
        "/console/notifications/new", data=compose(token, title_en="Flood warning")
    )
    assert english.status_code == 422
    assert field_error(english.text, "body_en") == "is required with the other English text"
    assert await Notification.find_all().count() == 0


async def test_a_bangkok_time_is_stored_in_utc_and_a_draft_can_be_sent_or_discarded(
    client, make_user
):
    token = await console_sign_in(client, await make_user("editor"))
    tomorrow = (datetime.now(BANGKOK) + timedelta(days=1)).date()
    sent = await client.post(
        "/console/notifications/new",
        data=compose(token, when="later", send_at=f"{tomorrow.isoformat()}T09:00"),
    )
    assert sent.status_code == 303, sent.text
    stored = await Notification.get(sent.headers["location"].rsplit("/", 1)[1])
    assert stored is not None and stored.status is NotificationStatus.SCHEDULED
    assert stored.send_at is not None
    at = stored.send_at.replace(tzinfo=UTC) if stored.send_at.tzinfo is None else stored.send_at
    assert at == datetime(tomorrow.year, tomorrow.month, tomorrow.day, 2, 0, tzinfo=UTC)
    shown = await client.get(sent.headers["location"])
    assert "09:00" in shown.text  # shown back in Bangkok time
    assert 'hx-trigger="every 2s"' in shown.text and "หยุดส่ง" in shown.text  # in flight

    past = await client.post(
        "/console/notifications/new", data=compose(token, when="later", send_at="2020-01-01T09:00")
    )
    assert past.status_code == 422 and field_error(past.text, "send_at") == "is in the past"

    draft = await client.post("/console/notifications/new", data=compose(token, when="draft"))
    assert draft.status_code == 303
    location = draft.headers["location"]
    stored = await Notification.get(location.rsplit("/", 1)[1])
    assert stored.status is NotificationStatus.DRAFT and stored.send_at is None
    page = await client.get(location)
    assert "ส่งฉบับร่าง" in page.text
    later = (datetime.now(BANGKOK) + timedelta(days=2)).date()
    send = await client.post(
        f"{location}/send",
        data={"_csrf_token": token, "when": "later", "send_at": f"{later}T09:00"},
    )
    assert send.status_code == 303
    stored = await Notification.get(stored.id)
    assert stored.status is NotificationStatus.SCHEDULED
    assert stored.send_at.replace(tzinfo=UTC).hour == 2
    again = await client.post(f"{location}/send", data={"_csrf_token": token, "when": "now"})
    assert again.status_code == 409  # no longer a draft: the page says so
    cancelled = await client.post(f"{location}/cancel", data={"_csrf_token": token})
    assert cancelled.status_code == 303
    assert (await Notification.get(stored.id)).status is NotificationStatus.CANCELLED
    ended = await client.get(location)
    assert 'data-status="cancelled"' in ended.text
    assert 'hx-trigger="every 2s"' not in ended.text and "หยุดส่ง" not in ended.text


async def test_the_audience_count_is_the_preview_apis(client, make_user, auth_headers):
    for n, (platform, province) in enumerate(
        [("android", "TH-60"), ("ios", "TH-60"), ("android", "TH-10"), ("ios", "TH-50")]
    ):
        token = fcm_token(n) if platform == "android" else apns_token(n)
        await register(client, platform=platform, push_token=token, provinces=[province])
    headers = await auth_headers("editor")
    api = await client.post(
        "/api/v1/notifications/preview",
        json={"audience": {"provinces": ["TH-60"]}},
        headers=headers,
    )
    token = await console_sign_in(client, await make_user("editor"))
    counted = await client.post(
        "/console/notifications/preview",
        data={"_csrf_token": token, "provinces": ["TH-60"]},
        headers={"hx-request": "true"},
    )
    assert counted.status_code == 200
    assert f'data-audience-total="{api.json()["total"]}"' in counted.text
    assert api.json()["total"] == 2
    narrowed = await client.post(
        "/console/notifications/preview",
        data={"_csrf_token": token, "provinces": ["TH-60"], "platforms": ["ios"]},
    )
    assert 'data-audience-total="1"' in narrowed.text
    nobody = await client.post("/console/notifications/preview", data={"_csrf_token": token})
    assert 'data-audience-total=""' in nobody.text and "at least one of" in nobody.text


async def test_agency_staff_see_only_their_agencys_notifications(client, make_user):
    mine = await make_user("agency", agency="nsw")
    await make_user("agency", agency="dopa")
    ours = await Notification(title_th="ของเรา", body_th="x", agency="nsw").insert()
    theirs = await Notification(title_th="ของเขา", body_th="x", agency="dopa").insert()
    token = await console_sign_in(client, mine)
    listed = await client.get("/console/notifications")
    assert f'data-notification="{ours.id}"' in listed.text
    assert f'data-notification="{theirs.id}"' not in listed.text
    assert (await client.get(f"/console/notifications/{ours.id}")).status_code == 200
    assert (await client.get(f"/console/notifications/{theirs.id}")).status_code == 404
    assert (await client.get(f"/console/notifications/{theirs.id}/delivery")).status_code == 404
    refused = await client.post(
        f"/console/notifications/{theirs.id}/cancel", data={"_csrf_token": token}
    )
    assert refused.status_code == 404
    # without a news item of their agency they may not send (the API's rule), said on the form
    plain = await client.post("/console/notifications/new", data=compose(token))
    assert plain.status_code == 403
    assert "news items" in plain.text
    # another agency's item is "no such news item"; their own is sent, and theirs to follow
    other_item = await news_item("dopa")
    refused = await client.post(
        "/console/notifications/new", data=compose(token, news_item_id=str(other_item.id))
    )
    assert refused.status_code == 404 and "no such news item" in refused.text
    item = await news_item("nsw")
    sent = await client.post(
        "/console/notifications/new", data=compose(token, when="draft", news_item_id=str(item.id))
    )
    assert sent.status_code == 303
    created = await Notification.get(sent.headers["location"].rsplit("/", 1)[1])
    assert created.agency == "nsw" and created.news_item_id == str(item.id)
    assert (await client.get(sent.headers["location"])).status_code == 200


async def test_the_list_is_paged_by_key(client, make_user):
    await console_sign_in(client, await make_user("editor"))
    for n in range(35):
        await Notification(title_th=f"ข่าว {n:02d}", body_th="x").insert()
    first = await client.get("/console/notifications")
    assert first.text.count("data-notification=") == 30
    assert "ข่าว 34" in first.text and "ข่าว 04" not in first.text
    following = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert following
    second = await client.get("/console/notifications" + following.group(1).replace("&amp;", "&"))
    assert second.text.count("data-notification=") == 5 and "ข่าว 00" in second.text


def test_delivery_figures_from_the_counters():
    start = datetime(2026, 11, 26, 2, 0, tzinfo=UTC)
    stats = NotificationStats(
        targeted=10,
        sent=8,
        failed=2,
        failed_by_reason={"UNREGISTERED": 2},
        sent_by_province={"TH-60": 6, "TH-10": 2},
        sent_by_second={str(int(start.timestamp()) + 1): 3, str(int(start.timestamp())): 5},
    )
    figures = delivery_figures(
        Notification(title_th="t", body_th="b", status=NotificationStatus.DONE, stats=stats)
    )
    assert figures["final"]
    assert [total for _, total in figures["series"]] == [5, 8]  # cumulative, in time order
    assert [code for _, code, _ in figures["provinces"]] == ["TH-60", "TH-10"]
    assert figures["province_shades"] == {"TH-60": 5, "TH-10": 2}
    assert shade(0, 0) == 1
    assert bangkok_input("send_at", "2026-11-26T09:00") == start  # 09:00 Bangkok: 02:00 UTC


async def test_a_draft_is_edited_in_the_compose_form_then_sent(client, make_user):
    token = await console_sign_in(client, await make_user("editor"))
    draft = await client.post("/console/notifications/new", data=compose(token, when="draft"))
    location = draft.headers["location"]
    form = await client.get(f"{location}/edit")
    assert form.status_code == 200 and "ประกาศจังหวัดนครสวรรค์" in form.text
    assert f'action="{location}/edit"' in form.text
    bad = await client.post(f"{location}/edit", data=compose(token, title_th="", when="draft"))
    assert bad.status_code == 422 and field_error(bad.text, "title_th") == "required"
    kept = await client.post(
        f"{location}/edit",
        data=compose(token, title_th="ประกาศใหม่", provinces=["TH-60", "TH-61"], when="draft"),
    )
    assert kept.status_code == 303
    stored = await Notification.get(location.rsplit("/", 1)[1])
    assert stored.status is NotificationStatus.DRAFT and stored.title_th == "ประกาศใหม่"
    assert stored.audience.provinces == ["TH-60", "TH-61"]
    sent = await client.post(f"{location}/edit", data=compose(token, body_th="ข้อความใหม่"))
    assert sent.status_code == 303
    stored = await Notification.get(stored.id)
    assert stored.status is not NotificationStatus.DRAFT and stored.body_th == "ข้อความใหม่"
    assert (await client.get(f"{location}/edit")).status_code == 409  # no longer a draft

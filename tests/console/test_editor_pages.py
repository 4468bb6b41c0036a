"""The editors' console pages over HTTP: role rules, the home panels, the editorial queue and
its actions (through the API's services), sources, and the GAC review."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import pytest

from appcenter.models import AppListing, ListingStatus
from gnews.accounts.guards import principal_of
from gnews.console.gac_review import store_links
from gnews.core.errors import ConflictError
from gnews.core.persistence import update_one
from gnews.news import service as editorial
from gnews.news.models import ItemStatus, NewsItem
from gnews.notifications.models import Notification, NotificationStatus
from gnews.sources.models import Source
from gnews.thai.dates import BANGKOK
from tests.support.console import console_sign_in, csrf_of
from tests.support.editorial import listing_in_review, pending_item, reload_listing
from tests.support.news import make_source

EDITOR_PAGES = ["/console/queue", "/console/sources", "/console/gac/review"]


async def _item(item_id) -> NewsItem:
    stored = await NewsItem.get(item_id)
    assert stored is not None
    return stored


def _bangkok_input(moment: datetime) -> str:
    return moment.astimezone(BANGKOK).strftime("%Y-%m-%dT%H:%M")


@pytest.mark.parametrize("role", ["agency", "developer"])
async def test_agency_and_developer_accounts_get_403_on_editor_pages(client, make_user, role):
    user = await make_user(role, agency="dopa" if role == "agency" else None)
    token = await console_sign_in(client, user)
    source = await make_source()
    item = await pending_item(source, "ข่าวรอตรวจ")
    for path in EDITOR_PAGES:
        answer = await client.get(path)
        assert answer.status_code == 403, path
        assert "<html" in answer.text
    approve = await client.post(f"/console/queue/{item.id}/approve", data={"_csrf_token": token})
    assert approve.status_code == 403
    assert (await _item(item.id)).status is ItemStatus.PENDING
    home = await client.get("/console/")
    assert home.status_code == 200 and 'id="panel-pending"' not in home.text
    assert "/console/queue" not in home.text  # not in the menu either


async def test_home_panels_show_what_needs_the_editor(client, make_user):
    editor = await make_user("editor")
    source = await make_source()
    for n in range(3):
        await pending_item(source, f"ข่าวรอตรวจ {n}", minutes_ago=10 + n)
    await update_one(
        Source,
        {"_id": source.id},
        set={"consecutive_failures": 3, "last_error": "boom", "last_error_kind": "dns"},
    )
    developer = await make_user("developer")
    await listing_in_review(developer)
    await Notification(title_th="นัดหมาย", body_th="b", status=NotificationStatus.SCHEDULED).insert()
    await Notification(title_th="กำลังส่ง", body_th="b", status=NotificationStatus.SENDING).insert()
    await Notification(
        title_th="แอปใหม่ของรัฐ: x",
        body_th="b",
        status=NotificationStatus.DRAFT,
        origin="gac.new_app",
    ).insert()
    await console_sign_in(client, editor)
    home = (await client.get("/console/", params={"lang": "en"})).text

    def panel(name: str) -> str:
        found = re.search(rf'id="panel-{name}".*?</section>', home, re.S)
        assert found, name
        return found.group(0)

    assert '<span class="count">3</span>' in panel("pending")
    assert "ข่าวรอตรวจ 0" in panel("pending") and 'href="/console/queue"' in panel("pending")
    assert '<span class="count">1</span>' in panel("gac") and "ภูเก็ตพาส" in panel("gac")
    assert '<span class="count">1</span>' in panel("drafts")
    assert '<strong id="new-app-drafts">1</strong>' in panel("drafts")
    assert "new app" in panel("drafts")
    assert source.name in panel("sources") and "3 times in a row" in panel("sources")
    flight = panel("in-flight")
    assert "scheduled</a>: <strong>1</strong>" in flight
    assert "fanning out</a>: <strong>0</strong>" in flight
    assert "sending</a>: <strong>1</strong>" in flight


async def test_queue_previews_an_item_with_why_each_province_was_tagged(client, make_user):
    editor = await make_user("editor")
    source = await make_source()
    item = await pending_item(
        source,
        "น้ำท่วมนครสวรรค์",
        content_html="<p>ระดับน้ำ<script>alert(1)</script><b>สูง</b></p>",
    )
    await console_sign_in(client, editor)
    queue = (await client.get("/console/queue", params={"lang": "en"})).text
    assert f'data-item="{item.id}"' in queue
    assert "<b>สูง</b>" in queue and "<script>alert" not in queue  # sanitised HTML, shown
    assert "www.prd.go.th/flood.jpg" not in queue  # an image not cached is not shown at all
    assert re.search(
        r'data-province="TH-60"><strong>Nakhon Sawan</strong> \(TH-60\): named in the text', queue
    )
    assert re.search(r"Bangkok</strong> \(TH-10\): the source&#39;s default province", queue)


async def test_approve_shows_the_next_item_and_publishes_to_the_public_feed(client, make_user):
    editor = await make_user("editor")
    source = await make_source()
    first = await pending_item(source, "ข่าวแรก", minutes_ago=30)
    second = await pending_item(source, "ข่าวที่สอง", minutes_ago=20)
    token = await console_sign_in(client, editor)
    approved = await client.post(f"/console/queue/{first.id}/approve", data={"_csrf_token": token})
    assert approved.status_code == 303 and approved.headers["location"].startswith("/console/queue")
    following = await client.get(approved.headers["location"])
    assert f'data-item="{second.id}"' in following.text and "อนุมัติแล้ว" in following.text
    assert f'item={first.id}" id="last-item"' in following.text  # to feature or pin it next
    stored = await _item(first.id)
    assert stored.status is ItemStatus.PUBLISHED and stored.reviewed_by == str(editor.id)
    feed = (await client.get("/api/v1/news")).json()
    assert [entry["title"] for entry in feed["items"]] == ["ข่าวแรก"]


async def test_reject_needs_a_reason_shown_next_to_its_field(client, make_user):
    editor = await make_user("editor")
    item = await pending_item(await make_source(), "ข่าวไม่ผ่าน")
    token = await console_sign_in(client, editor)
    missing = await client.post(f"/console/queue/{item.id}/reject", data={"_csrf_token": token})
    assert missing.status_code == 422
    assert re.search(r'id="e-reason" data-field="reason">required<', missing.text)
    assert (await _item(item.id)).status is ItemStatus.PENDING
    rejected = await client.post(
        f"/console/queue/{item.id}/reject", data={"_csrf_token": token, "reason": "ซ้ำ"}
    )
    assert rejected.status_code == 303
    stored = await _item(item.id)
    assert stored.status is ItemStatus.REJECTED and stored.rejection_reason == "ซ้ำ"


async def test_edit_through_the_patch_model_and_a_stale_form_is_refused(client, make_user):
    editor = await make_user("editor")
    item = await _item((await pending_item(await make_source(), "หัวข้อเดิม")).id)  # as stored
    token = await console_sign_in(client, editor)
    page = await client.get("/console/queue", params={"item": str(item.id)})
    assert f'name="updated_at" value="{item.updated_at.isoformat()}"' in page.text
    form = {
        "_csrf_token": token,
        "updated_at": item.updated_at.isoformat(),
        "title": "หัวข้อใหม่",
        "summary": item.summary,
        "categories": "disaster",
        "provinces": ["TH-10", "TH-60"],
    }
    saved = await client.post(f"/console/queue/{item.id}/edit", data=form)
    assert saved.status_code == 303, saved.text
    stored = await _item(item.id)
    assert stored.title == "หัวข้อใหม่"
    assert stored.edited_fields == ["title", "search_terms"]  # only what changed was sent
    # The same form again (read before the save): stale, nothing overwritten.
    stale = await client.post(f"/console/queue/{item.id}/edit", data={**form, "title": "ทับของคนอื่น"})
    assert stale.status_code == 409
    assert "ถูกเปลี่ยนแปลงระหว่างที่คุณแก้ไข" in stale.text
    assert (await _item(item.id)).title == "หัวข้อใหม่"
    assert 'value="หัวข้อใหม่"' in stale.text  # the form now shows the item as stored
    assert f'value="{(await _item(item.id)).updated_at.isoformat()}"' in stale.text
    fresh = {**form, "updated_at": stored.updated_at.isoformat()}
    bad = await client.post(
        f"/console/queue/{item.id}/edit", data={**fresh, "provinces": ["TH-99"]}
    )
    assert bad.status_code == 422 and 'data-field="provinces"' in bad.text
    national = await client.post(f"/console/queue/{item.id}/edit", data={**fresh, "provinces": []})
    assert national.status_code == 303
    assert (await _item(item.id)).provinces == []


async def test_feature_pin_and_breaking_with_a_bangkok_time(client, make_user):
    editor = await make_user("editor")
    item = await pending_item(await make_source(), "ข่าวเด่น")
    token = await console_sign_in(client, editor)
    until = (datetime.now(UTC) + timedelta(days=2)).replace(second=0, microsecond=0)
    pending = await client.post(
        f"/console/queue/{item.id}/highlight",
        data={"_csrf_token": token, "action": "feature", "until": _bangkok_input(until)},
    )
    assert pending.status_code == 409 and "only published items" in pending.text
    await client.post(f"/console/queue/{item.id}/approve", data={"_csrf_token": token})
    featured = await client.post(
        f"/console/queue/{item.id}/highlight",
        data={"_csrf_token": token, "action": "feature", "until": _bangkok_input(until)},
    )
    assert featured.status_code == 303
    stored = await _item(item.id)
    assert stored.featured_until is not None
    assert stored.featured_until.astimezone(UTC) == until  # typed in Bangkok time, stored UTC
    past = await client.post(
        f"/console/queue/{item.id}/highlight",
        data={"_csrf_token": token, "action": "pin", "until": "2020-01-01T10:00"},
    )
    assert past.status_code == 422 and 'data-field="until"' in past.text
    pinned = await client.post(
        f"/console/queue/{item.id}/highlight",
        data={"_csrf_token": token, "action": "pin", "until": _bangkok_input(until)},
    )
    assert pinned.status_code == 303 and (await _item(item.id)).pinned_until is not None
    breaking = await client.post(
        f"/console/queue/{item.id}/breaking", data={"_csrf_token": token, "on": "1"}
    )
    assert breaking.status_code == 303 and (await _item(item.id)).breaking
    stopped = await client.post(
        f"/console/queue/{item.id}/highlight",
        data={"_csrf_token": token, "action": "feature", "stop": "1"},
    )
    assert stopped.status_code == 303 and (await _item(item.id)).featured_until is None


async def test_queue_is_keyset_paged_and_filters_by_agency_and_source(client, make_user):
    editor = await make_user("editor")
    dopa = await make_source()
    other = await make_source("moph-news", agency="moph")
    for n in range(22):
        await pending_item(dopa, f"dopa {n:02d}", minutes_ago=100 - n)
    await pending_item(other, "moph only", minutes_ago=5)
    await console_sign_in(client, editor)
    first = await client.get("/console/queue")
    titles = re.findall(r'item=[0-9a-f]{24}">([^<]+)</a>', first.text)
    assert titles[:2] == ["dopa 00", "dopa 01"] and len(titles) == 20
    next_link = re.search(r'rel="next" href="([^"]+)"', first.text)
    assert next_link
    second = await client.get(next_link.group(1).replace("&amp;", "&"))
    assert re.findall(r'item=[0-9a-f]{24}[^"]*">([^<]+)</a>', second.text) == [
        "dopa 20",
        "dopa 21",
        "moph only",
    ]
    by_agency = await client.get("/console/queue", params={"agency": "moph"})
    assert re.findall(r'item=[0-9a-f]{24}">([^<]+)</a>', by_agency.text) == ["moph only"]
    by_source = await client.get("/console/queue", params={"source_id": str(other.id)})
    assert "moph only" in by_source.text and "dopa 00" not in by_source.text
    choose = await client.get("/console/queue", params={"agency": "moph"})
    assert f'<option value="{other.id}"' in choose.text  # an agency's sources to choose from
    assert f'<option value="{dopa.id}"' not in choose.text


async def test_sources_health_and_actions(client, make_user):
    editor = await make_user("editor", agency=None)
    await make_user("agency", agency="dopa")  # creates the agency
    source = await make_source()
    last_success = datetime.now(UTC) - timedelta(hours=3)
    await update_one(
        Source,
        {"_id": source.id},
        set={
            "consecutive_failures": 4,
            "last_error": "https://dopa.example/feed: connection refused",
            "last_error_kind": "connect",
            "last_success_at": last_success,
        },
    )
    token = await console_sign_in(client, editor)
    listing = (await client.get("/console/sources", params={"lang": "en"})).text
    row = re.search(rf'id="source-{source.id}".*?</tr>', listing, re.S)
    assert row
    assert (
        "the server could not be reached: https://dopa.example/feed: connection refused"
        in row.group(0)
    )
    assert '<td class="failures">4</td>' in row.group(0)
    failing = await client.get("/console/sources", params={"failing": "1"})
    assert f'id="source-{source.id}"' in failing.text
    polled = await client.post(f"/console/sources/{source.id}/poll", data={"_csrf_token": token})
    assert polled.status_code == 303 and "done=poll-queued" in polled.headers["location"]
    again = await client.post(f"/console/sources/{source.id}/poll", data={"_csrf_token": token})
    assert "done=poll-already-queued" in again.headers["location"]
    await client.post(f"/console/sources/{source.id}/disable", data={"_csrf_token": token})
    stored = await Source.get(source.id)
    assert stored is not None and not stored.enabled
    refused = await client.post(f"/console/sources/{source.id}/poll", data={"_csrf_token": token})
    assert refused.status_code == 409 and "disabled" in refused.text
    await client.post(f"/console/sources/{source.id}/enable", data={"_csrf_token": token})
    stored = await Source.get(source.id)
    assert stored is not None and stored.enabled

    new = {
        "_csrf_token": token,
        "slug": "dopa-press",
        "agency": "dopa",
        "name": "ข่าวกรมการปกครอง",
        "feed_url": "not a url",
        "language": "th",
        "poll_interval_minutes": "2",
        "enabled": "on",
    }
    bad = await client.post("/console/sources/new", data=new)
    assert bad.status_code == 422
    assert 'data-field="feed_url"' in bad.text and 'data-field="poll_interval_minutes"' in bad.text
    assert 'value="ข่าวกรมการปกครอง"' in bad.text  # what was typed is kept
    good = {**new, "feed_url": "https://dopa.example/press.xml", "poll_interval_minutes": "15"}
    created = await client.post("/console/sources/new", data={**good, "provinces": ["TH-60"]})
    assert created.status_code == 303, created.text
    made = await Source.find_one({"slug": "dopa-press"})
    assert made is not None and made.provinces == ["TH-60"] and made.poll_interval_minutes == 15
    taken = await client.post("/console/sources/new", data=good)
    assert taken.status_code == 409 and "already exists" in taken.text
    form = await client.get(f"/console/sources/{made.id}/edit")
    assert 'value="https://dopa.example/press.xml"' in form.text
    edited = await client.post(
        f"/console/sources/{made.id}/edit",
        data={**good, "name": "ชื่อใหม่", "_csrf_token": csrf_of(form), "provinces": ["TH-60"]},
    )
    assert edited.status_code == 303
    changed = await Source.get(made.id)
    assert changed is not None and changed.name == "ชื่อใหม่" and changed.provinces == ["TH-60"]


async def test_gac_review_shows_the_listing_and_publishes_it(client, make_user):
    editor = await make_user("editor")
    developer = await make_user("developer")
    listing = await listing_in_review(developer)
    token = await console_sign_in(client, editor)
    review = (await client.get("/console/gac/review", params={"lang": "en"})).text
    assert f'data-listing="{listing.id}"' in review
    # the images are not cached yet: a placeholder, never the publisher's host
    assert 'class="icon none"' in review and 'src="https://cdn.example.go.th' not in review
    assert re.search(r'class="ok" data-store="Google Play">.*?well-formed', review)
    assert re.search(r'class="ok" data-store="App Store">.*?well-formed: id1234567890', review)
    missing = await client.post(
        f"/console/gac/review/{listing.id}/reject", data={"_csrf_token": token}
    )
    assert missing.status_code == 422 and 'data-field="reason"' in missing.text
    approved = await client.post(
        f"/console/gac/review/{listing.id}/approve", data={"_csrf_token": token}
    )
    assert approved.status_code == 303
    stored = await reload_listing(listing)
    assert stored.status is ListingStatus.PUBLISHED
    assert (await client.get("/api/v1/apps/phuket-pass")).status_code == 200
    draft = await Notification.find_one({"origin": "gac.new_app"})
    assert draft is not None and draft.status is NotificationStatus.DRAFT
    until = (datetime.now(UTC) + timedelta(days=3)).replace(second=0, microsecond=0)
    featured = await client.post(
        f"/console/gac/review/{listing.id}/feature",
        data={"_csrf_token": token, "until": _bangkok_input(until)},
    )
    assert featured.status_code == 303
    assert (await reload_listing(listing)).featured_until == until
    delisted = await client.post(
        f"/console/gac/review/{listing.id}/delist",
        data={"_csrf_token": token, "reason": "เลิกให้บริการ"},
    )
    assert delisted.status_code == 303
    stored = await reload_listing(listing)
    assert stored.status is ListingStatus.DELISTED and stored.status_reason == "เลิกให้บริการ"


async def test_the_services_stale_guard_writes_nothing(client, make_user):
    editor = principal_of(await make_user("editor"))
    item = await _item((await pending_item(await make_source(), "เดิม")).id)
    read_at = item.updated_at
    await editorial.edit_item(item, {"summary": "แก้โดยคนแรก"}, editor, read_at=read_at)
    with pytest.raises(ConflictError):  # the copy read before the first edit, the same version
        await editorial.edit_item(item, {"title": "ทับ"}, editor, read_at=read_at)
    stored = await _item(item.id)
    assert stored.title == "เดิม" and stored.summary == "แก้โดยคนแรก"
    fresh = await editorial.edit_item(stored, {"title": "ใหม่"}, editor, read_at=stored.updated_at)
    assert fresh.title == "ใหม่"


def test_store_links_say_which_link_is_not_of_its_store():
    listing = AppListing.model_construct(
        google_play_url="https://example.com/store/apps/details?id=th.go.x",
        android_package=None,
        app_store_url="https://apps.apple.com/th/app/x/id123",
        web_url="http://insecure.example.go.th/",
        privacy_policy_url=None,
    )
    checked = {link["store"]: link for link in store_links(listing)}
    assert not checked["Google Play"]["ok"] and "play.google.com" in checked["Google Play"]["why"]
    assert checked["App Store"]["ok"] and checked["App Store"]["why"] == "id123"
    assert not checked["Web"]["ok"]

"""The console's agency, developer and admin pages over HTTP (httpx): each page, its role rule,
another agency's things staying "not found", the API key secret shown once, errors next to their
fields and stale forms refused."""

from __future__ import annotations

import re
from datetime import UTC, datetime, timedelta

import httpx
import pytest

from appcenter import service as gac
from appcenter.models import AppListing, ListingStatus
from gnews.accounts.guards import principal_of
from gnews.accounts.models import ApiKey, User
from gnews.agencies.models import Agency
from gnews.audit import service as audit
from gnews.audit.models import AuditEntry
from gnews.core.persistence import update_one
from gnews.news import service as news
from gnews.sources.models import Source
from tests.support.api import PASSWORD
from tests.support.console import console_sign_in, csrf_of
from tests.support.gac import BODY, make_agency
from tests.support.news import make_source, publish


async def _rejected_item(source: Source, title: str, reason: str, editor: User):
    item = await publish(source, title, status="pending")
    return await news.transition(item, "reject", principal_of(editor), reason)


async def test_agency_sees_its_items_with_rejection_reasons_and_not_anothers(client, make_user):
    staff = await make_user("agency", agency="dopa")
    await make_user("agency", agency="moph")
    editor = await make_user("editor")
    ours = await make_source("dopa-news", "dopa")
    theirs = await make_source("moph-news", "moph")
    await _rejected_item(ours, "ประกาศน้ำประปา", "ภาพไม่ชัด โปรดส่งใหม่", editor)
    await _rejected_item(theirs, "ประกาศของกรมอื่น", "เหตุผลลับของอีกหน่วยงาน", editor)
    await console_sign_in(client, staff)

    items = await client.get("/console/agency/items")
    assert items.status_code == 200
    assert "ประกาศน้ำประปา" in items.text and "ภาพไม่ชัด โปรดส่งใหม่" in items.text
    assert "ประกาศของกรมอื่น" not in items.text and "เหตุผลลับ" not in items.text
    pending = await client.get("/console/agency/items", params={"status": "pending"})
    assert "ประกาศน้ำประปา" not in pending.text

    sources = await client.get("/console/agency/sources")
    assert sources.status_code == 200 and "dopa-news" in sources.text
    assert "moph-news" not in sources.text
    own = await client.get(f"/console/agency/sources/{ours.id}")
    assert own.status_code == 200 and ours.feed_url in own.text
    other = await client.get(f"/console/agency/sources/{theirs.id}")
    assert other.status_code == 404 and "<html" in other.text
    assert theirs.feed_url not in other.text


async def test_source_health_in_words(client, make_user):
    staff = await make_user("agency", agency="dopa")
    source = await make_source("dopa-news", "dopa")
    failed_at = datetime.now(UTC) - timedelta(minutes=5)
    await update_one(
        Source,
        {"_id": source.id},
        set={
            "last_error": "GET https://dopa.example/feed: timed out after 20 s",
            "last_error_kind": "timeout",
            "last_error_at": failed_at,
            "consecutive_failures": 3,
        },
    )
    await console_sign_in(client, staff)
    page = await client.get("/console/agency/sources", params={"lang": "en"})
    assert "The feed&#39;s server took too long to answer" in page.text
    assert "Failing (3 in a row)" in page.text and "health-failing" in page.text
    thai = await client.get(f"/console/agency/sources/{source.id}", params={"lang": "th"})
    assert "เซิร์ฟเวอร์ของฟีดตอบช้าเกินไป" in thai.text and "timed out after 20 s" in thai.text


async def test_agency_items_api_is_its_own_and_paged(client, make_user, auth_headers):
    editor = await make_user("editor")
    ours = await make_source("dopa-news", "dopa")
    theirs = await make_source("moph-news", "moph")
    for n in range(3):
        await publish(ours, f"ours {n}", minutes_ago=n)
    await _rejected_item(ours, "rejected one", "ซ้ำกับข่าวเดิม", editor)
    await publish(theirs, "theirs")
    headers = await auth_headers("agency", agency="dopa")
    first = await client.get("/api/v1/agencies/dopa/items/", headers=headers, params={"limit": 2})
    assert first.status_code == 200, first.text
    body = first.json()
    assert len(body["items"]) == 2 and body["next_cursor"]
    rest = await client.get(
        "/api/v1/agencies/dopa/items/",
        headers=headers,
        params={"limit": 2, "cursor": body["next_cursor"]},
    )
    titles = {i["title"] for i in body["items"]} | {i["title"] for i in rest.json()["items"]}
    assert titles == {"ours 0", "ours 1", "ours 2", "rejected one"}
    rejected = await client.get(
        "/api/v1/agencies/dopa/items/", headers=headers, params={"status": "rejected"}
    )
    [item] = rejected.json()["items"]
    assert item["rejection_reason"] == "ซ้ำกับข่าวเดิม"
    await make_agency("moph")
    other = await client.get("/api/v1/agencies/moph/items/", headers=headers)
    assert other.status_code == 404
    developer = await auth_headers("developer")
    assert (await client.get("/api/v1/agencies/dopa/items/", headers=developer)).status_code == 403
    admin = await auth_headers("admin")
    assert (await client.get("/api/v1/agencies/moph/items/", headers=admin)).status_code == 200
    schema = (await client.get("/schema/openapi.json")).json()
    assert "/api/v1/agencies/{code}/items" in schema["paths"]


async def test_api_key_secret_is_shown_once_and_revoked(client, make_user):
    staff = await make_user("agency", agency="dopa")
    await make_user("agency", agency="moph")
    token = await console_sign_in(client, staff)
    keys = await client.get("/console/agency/keys", follow_redirects=True)
    assert keys.status_code == 200 and str(keys.url).endswith("/console/agencies/dopa/keys")
    blank = await client.post("/console/agencies/dopa/keys/", data={"_csrf_token": token})
    assert blank.status_code == 422 and 'data-field="name"' in blank.text
    created = await client.post(
        "/console/agencies/dopa/keys/", data={"name": "publisher", "_csrf_token": token}
    )
    assert created.status_code == 200 and created.headers["cache-control"] == "no-store"
    secret = re.search(r'id="secret">([^<]+)<', created.text).group(1)
    assert secret.startswith("gnk_")
    # the secret works against the API, and is never shown again
    me = await client.get("/api/v1/auth/me", headers={"X-API-Key": secret})
    assert me.status_code == 200 and me.json()["agency"] == "dopa"
    listing = await client.get("/console/agencies/dopa/keys/")
    assert secret not in listing.text and "publisher" in listing.text
    key = await ApiKey.find_one({"agency": "dopa"})
    revoked = await client.post(
        f"/console/agencies/dopa/keys/{key.id}/revoke", data={"_csrf_token": token}
    )
    assert revoked.status_code == 303
    assert (await client.get("/api/v1/auth/me", headers={"X-API-Key": secret})).status_code == 401
    # another agency's keys: not found, and nothing created there
    other = await client.get("/console/agencies/moph/keys/")
    assert other.status_code == 404
    forged = await client.post(
        "/console/agencies/moph/keys/", data={"name": "x", "_csrf_token": token}
    )
    assert forged.status_code == 404 and await ApiKey.find_one({"agency": "moph"}) is None


@pytest.mark.parametrize(
    ("path", "allowed"),
    [
        ("/console/agency/items", "agency"),
        ("/console/agency/sources", "agency"),
        ("/console/developer/listings", "developer"),
        ("/console/admin/users", "admin"),
        ("/console/admin/agencies", "admin"),
        ("/console/admin/audit", "admin"),
    ],
)
async def test_pages_refuse_the_wrong_role(client, make_user, path, allowed):
    wrong = await make_user("editor")
    await console_sign_in(client, wrong)
    refused = await client.get(path)
    assert refused.status_code == 403 and "<html" in refused.text
    right = await make_user(allowed, agency="dopa" if allowed == "agency" else None)
    await console_sign_in(client, right)
    assert (await client.get(path)).status_code == 200


async def test_developer_registers_creates_submits_and_reads_the_outcome(client, make_user):
    await make_user("admin")  # any account; the agency the app belongs to:
    await Agency(code="dopa", name_th="กรมการปกครอง", name_en="DOPA").insert()
    form = await client.get("/console/register")
    token = csrf_of(form)
    short = await client.post(
        "/console/register",
        data={"email": "dev@example.org", "password": "short", "_csrf_token": token},
    )
    assert short.status_code == 422 and 'data-field="password"' in short.text
    bad_email = await client.post(
        "/console/register",
        data={"email": "not-an-email", "password": PASSWORD, "_csrf_token": token},
    )
    assert bad_email.status_code == 422 and 'data-field="email"' in bad_email.text
    joined = await client.post(
        "/console/register",
        data={
            "email": "Dev@Example.org",
            "password": PASSWORD,
            "name": "Dev",
            "_csrf_token": token,
        },
    )
    assert joined.status_code == 303 and joined.headers["location"].startswith(
        "/console/developer/listings"
    )
    user = await User.find_one({"email": "dev@example.org"})
    assert user.role.value == "developer"
    mine = await client.get("/console/developer/listings")
    assert mine.status_code == 200
    token = csrf_of(mine)
    again = await client.post(
        "/console/register",
        data={"email": "dev@example.org", "password": PASSWORD, "_csrf_token": token},
    )
    assert again.status_code == 409 and 'data-field="email"' in again.text

    bad = await client.post(
        "/console/developer/listings/new",
        data={"slug": "Bad Slug", "agency": "dopa", "name_th": "", "_csrf_token": token},
    )
    assert bad.status_code == 422
    assert 'data-field="slug"' in bad.text and 'data-field="name_th"' in bad.text
    values = {
        "slug": "phuket-pass",
        "agency": "dopa",
        "name_th": BODY["name_th"],
        "categories": ["tourism"],
        "web_url": BODY["web_url"],
        "_csrf_token": token,
    }
    created = await client.post("/console/developer/listings/new", data=values)
    assert created.status_code == 303, created.text
    listing = await AppListing.find_one({"slug": "phuket-pass"})
    assert listing.owner_id == str(user.id) and listing.categories == ["tourism"]
    url = f"/console/developer/listings/{listing.id}"
    # submitting without a Thai description: the missing field is named on the page
    incomplete = await client.post(f"{url}/submit", data={"_csrf_token": token})
    assert incomplete.status_code == 422 and 'data-field="description_th"' in incomplete.text
    edit = await client.get(url)
    read_at = re.search(r'name="read_at" value="([^"]+)"', edit.text).group(1)
    saved = await client.post(
        url,
        data={**values, "description_th": BODY["description_th"], "read_at": read_at},
    )
    assert saved.status_code == 303, saved.text
    # the same (now stale) form again: refused, nothing overwritten
    stale = await client.post(
        url, data={**values, "description_th": "ทับของเดิม", "read_at": read_at}
    )
    assert stale.status_code == 409 and 'class="error stale"' in stale.text
    assert (await AppListing.get(listing.id)).description_th == BODY["description_th"]
    submitted = await client.post(f"{url}/submit", data={"_csrf_token": token})
    assert submitted.status_code == 303
    assert (await AppListing.get(listing.id)).status is ListingStatus.IN_REVIEW
    editor = await make_user("editor")
    stored = await AppListing.get(listing.id)
    await gac.transition(stored, "reject", principal_of(editor), None, "ไอคอนไม่ชัด")
    outcome = await client.get(url)
    assert "ไอคอนไม่ชัด" in outcome.text and "badge-rejected" in outcome.text
    assert "ไอคอนไม่ชัด" in (await client.get("/console/developer/listings")).text
    # another developer's listing is not found
    other = await make_user("developer")
    await console_sign_in(client, other)
    assert (await client.get(url)).status_code == 404


async def test_admin_manages_users_and_their_sessions_end(client, make_user):
    admin = await make_user("admin")
    await Agency(code="dopa", name_th="กรมการปกครอง", name_en="DOPA").insert()
    token = await console_sign_in(client, admin)
    bad = await client.post(
        "/console/admin/users/new",
        data={
            "email": "x@example.org",
            "password": PASSWORD,
            "role": "agency",
            "_csrf_token": token,
        },
    )
    assert bad.status_code == 422 and 'data-field="agency"' in bad.text
    created = await client.post(
        "/console/admin/users/new",
        data={
            "email": "staff@example.org",
            "password": PASSWORD,
            "role": "agency",
            "agency": "dopa",
            "_csrf_token": token,
        },
    )
    assert created.status_code == 303
    staff = await User.find_one({"email": "staff@example.org"})
    listed = await client.get("/console/admin/users", params={"role": "agency"})
    assert "staff@example.org" in listed.text and f'data-user="{admin.id}"' not in listed.text

    # the new account signs in in another browser (its own cookie jar, the same app)
    async with httpx.AsyncClient(transport=client._transport, base_url=client.base_url) as other:
        await console_sign_in(other, staff)
        page = await client.get(f"/console/admin/users/{staff.id}")
        read_at = re.search(r'name="read_at" value="([^"]+)"', page.text).group(1)
        changed = await client.post(
            f"/console/admin/users/{staff.id}",
            data={
                "change": "details",
                "role": "developer",
                "read_at": read_at,
                "_csrf_token": token,
            },
        )
        assert changed.status_code == 303
        assert (await User.get(staff.id)).role.value == "developer"
        ended = await other.get("/console/")
        assert ended.status_code == 303 and "reason=revoked" in ended.headers["location"]
    # a form read before that change is stale now: refused, said so
    stale = await client.post(
        f"/console/admin/users/{staff.id}",
        data={"change": "active", "active": "false", "read_at": read_at, "_csrf_token": token},
    )
    assert stale.status_code == 409 and 'class="error stale"' in stale.text
    assert (await User.get(staff.id)).active
    page = await client.get(f"/console/admin/users/{staff.id}")
    read_at = re.search(r'name="read_at" value="([^"]+)"', page.text).group(1)
    short = await client.post(
        f"/console/admin/users/{staff.id}",
        data={"change": "password", "password": "short", "read_at": read_at, "_csrf_token": token},
    )
    assert short.status_code == 422 and 'data-field="password"' in short.text
    off = await client.post(
        f"/console/admin/users/{staff.id}",
        data={"change": "active", "active": "false", "read_at": read_at, "_csrf_token": token},
    )
    assert off.status_code == 303 and not (await User.get(staff.id)).active


async def test_admin_manages_agencies_and_any_agencys_keys(client, make_user):
    admin = await make_user("admin")
    token = await console_sign_in(client, admin)
    bad = await client.post(
        "/console/admin/agencies/new",
        data={"code": "Bad Code", "name_th": "", "name_en": "X", "_csrf_token": token},
    )
    assert bad.status_code == 422
    assert 'data-field="code"' in bad.text and 'data-field="name_th"' in bad.text
    ok = await client.post(
        "/console/admin/agencies/new",
        data={"code": "dopa", "name_th": "กรมการปกครอง", "name_en": "DOPA", "_csrf_token": token},
    )
    assert ok.status_code == 303
    taken = await client.post(
        "/console/admin/agencies/new",
        data={"code": "dopa", "name_th": "ซ้ำ", "name_en": "Dup", "_csrf_token": token},
    )
    assert taken.status_code == 409 and 'data-field="code"' in taken.text
    page = await client.get("/console/admin/agencies/dopa")
    read_at = re.search(r'name="read_at" value="([^"]+)"', page.text).group(1)
    edited = await client.post(
        "/console/admin/agencies/dopa",
        data={"name_th": "กรมการปกครอง", "name_en": "Department of Provincial Administration",
              "active": "true", "read_at": read_at, "_csrf_token": token},
    )  # fmt: skip
    assert edited.status_code == 303
    assert (await Agency.find_one({"code": "dopa"})).name_en.startswith("Department")
    stale = await client.post(
        "/console/admin/agencies/dopa",
        data={"name_th": "เก่า", "name_en": "Old", "active": "true", "read_at": read_at,
              "_csrf_token": token},
    )  # fmt: skip
    assert stale.status_code == 409 and 'class="error stale"' in stale.text
    assert (await Agency.find_one({"code": "dopa"})).name_th == "กรมการปกครอง"
    keys = await client.post(
        "/console/agencies/dopa/keys/", data={"name": "by admin", "_csrf_token": token}
    )
    assert keys.status_code == 200 and 'id="secret"' in keys.text


async def test_audit_log_filters_and_shows_before_and_after(client, make_user):
    admin = await make_user("admin")
    other = await make_user("admin")
    await audit.record(
        principal_of(admin), "agency.update", "agency", "dopa",
        before={"name_en": "DOPA"}, after={"name_en": "Provincial Administration"},
    )  # fmt: skip
    await audit.record(principal_of(other), "user.create", "user", "x", after={"role": "editor"})
    await audit.record(
        principal_of(admin), "app.feature", "app", "thaid",
        before={"featured_until": None}, after={"featured_until": "2026-11-26T02:00:00+00:00"},
    )  # fmt: skip
    old = AuditEntry(
        id=audit.id_at(datetime(2026, 1, 10, 20, 0, tzinfo=UTC)),  # 11 Jan, 03:00 in Bangkok
        at=datetime(2026, 1, 10, 20, 0, tzinfo=UTC),
        actor={"id": "old"},
        action="agency.update",
        target_type="agency",
        target_id="old",
    )
    await old.insert()
    await console_sign_in(client, admin)
    everything = await client.get("/console/admin/audit", params={"lang": "en"})
    assert everything.status_code == 200
    assert "<del>DOPA</del>" in everything.text
    assert "<ins>Provincial Administration</ins>" in everything.text
    assert "<ins>26 Nov 2026 09:00</ins>" in everything.text  # a stored time, in Bangkok time
    mine = await client.get("/console/admin/audit", params={"actor": admin.email, "lang": "th"})
    assert "agency.update" in mine.text and "user.create" not in mine.text
    assert "<ins>26 พ.ย. 2569 09:00</ins>" in mine.text  # Thai: Buddhist Era
    by_action = await client.get("/console/admin/audit", params={"action": "user.create"})
    assert "user.create" in by_action.text and "agency.update" not in by_action.text
    # Bangkok dates: the old entry is on 11 January there (10 January in UTC)
    day = await client.get(
        "/console/admin/audit", params={"since": "2026-01-11", "until": "2026-01-11"}
    )
    assert f'data-entry="{old.id}"' in day.text and "user.create" not in day.text
    before = await client.get("/console/admin/audit", params={"until": "2026-01-10"})
    assert f'data-entry="{old.id}"' not in before.text
    wrong = await client.get("/console/admin/audit", params={"since": "yesterday"})
    assert wrong.status_code == 422 and 'data-field="since"' in wrong.text
    backwards = await client.get(
        "/console/admin/audit", params={"since": "2026-02-01", "until": "2026-01-01"}
    )
    assert backwards.status_code == 422 and 'data-field="until"' in backwards.text


async def test_audit_date_range_pages_by_id(client, make_user):
    """The service's when-filter is a range on _id, paged newest first without repeats."""
    admin = principal_of(await make_user("admin"))
    start = datetime(2026, 3, 1, tzinfo=UTC)
    for n in range(7):
        at = start + timedelta(hours=n)
        await AuditEntry(
            id=audit.id_at(at), at=at, actor={"id": "a"}, action="x", target_type="t",
            target_id=str(n),
        ).insert()  # fmt: skip
    await audit.record(admin, "x", "t", "now")
    since, until = start + timedelta(hours=1), start + timedelta(hours=5)
    seen = []
    cursor = None
    while True:
        page, cursor = await audit.list_entries(
            target_type=None, target_id=None, action="x", actor_id=None,
            cursor=cursor, limit=2, since=since, until=until,
        )  # fmt: skip
        seen += [entry.target_id for entry in page]
        if cursor is None:
            break
    assert seen == ["4", "3", "2", "1"]
    api = await client.get(
        "/api/v1/audit/",
        headers=await _bearer(client, make_user),
        params={"since": since.isoformat(), "until": until.isoformat(), "action": "x"},
    )
    assert [e["target_id"] for e in api.json()["items"]] == ["4", "3", "2", "1"]
    ancient = await client.get(
        "/api/v1/audit/",
        headers=await _bearer(client, make_user),
        params={"since": "0270-02-17T19:28:06+05:30", "until": "9999-01-01T00:00:00Z"},
    )
    assert ancient.status_code == 200 and len(ancient.json()["items"]) >= 8


async def _bearer(client, make_user):
    from tests.support.api import login

    return await login(client, await make_user("admin"))

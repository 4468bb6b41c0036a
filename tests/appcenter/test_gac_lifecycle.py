"""GAC listings through their lifecycle, with every role, including what each may not do."""

from __future__ import annotations

import asyncio
from datetime import timedelta

from appcenter.models import AppListing, ListingStatus
from gnews.audit.models import AuditEntry
from gnews.notifications.models import Notification
from tests.support.api import assert_error, login
from tests.support.gac import BODY, LISTINGS, NOW, create, make_agency


async def actions_of(listing_id: str) -> list[str]:
    entries = await AuditEntry.find({"target_id": listing_id}).sort("_id").to_list()
    return [entry.action for entry in entries]


async def test_developer_submits_editor_publishes_and_a_phone_finds_it(client, auth_headers):
    await make_agency("dopa")
    developer = await auth_headers("developer")
    editor = await auth_headers("editor")

    draft = await create(client, developer)
    assert draft["status"] == "draft" and draft["owner_kind"] == "developer"
    assert draft["platforms"] == ["android", "ios", "web"]
    assert draft["google_play_url"] == (
        "https://play.google.com/store/apps/details?id=th.go.example.phuketpass"
    )
    path = f"{LISTINGS}/{draft['id']}"
    assert (await client.get("/api/v1/apps/phuket-pass")).status_code == 404

    submitted = await client.post(f"{path}/submit", headers=developer)
    assert submitted.status_code == 200 and submitted.json()["status"] == "in_review"
    queue = (await client.get("/api/v1/gac/queue", headers=editor)).json()["items"]
    assert [x["slug"] for x in queue] == ["phuket-pass"]
    assert (await client.get("/api/v1/apps/phuket-pass")).status_code == 404

    approved = await client.post(f"{path}/approve", headers=editor)
    assert approved.status_code == 200, approved.text
    assert approved.json()["status"] == "published" and approved.json()["published_at"]
    assert (await client.get("/api/v1/gac/queue", headers=editor)).json()["items"] == []

    # The developer sees the outcome of the review.
    mine = (await client.get(LISTINGS, headers=developer)).json()["items"]
    assert [(x["slug"], x["status"]) for x in mine] == [("phuket-pass", "published")]

    # A phone finds it by category and by a Thai query.
    by_category = await client.get("/api/v1/apps", params={"category": "tourism"})
    assert [a["slug"] for a in by_category.json()["items"]] == ["phuket-pass"]
    by_query = await client.get("/api/v1/apps", params={"q": "ลงทะเบียนเดินทาง"})
    assert [a["slug"] for a in by_query.json()["items"]] == ["phuket-pass"]
    app = (await client.get("/api/v1/apps/phuket-pass")).json()
    assert app["agency"] == {"code": "dopa", "name_th": "หน่วยงาน dopa", "name_en": "DOPA"}
    assert app["provinces"] == ["TH-83"] and app["featured"] is False
    assert "status" not in app and "owner_id" not in app

    assert await actions_of(draft["id"]) == [
        "app.create",
        "app.submit",
        "app.approve",
        "app.published_new",
    ]


async def test_reject_with_reason_then_fix_and_resubmit(client, auth_headers):
    await make_agency("dopa")
    developer = await auth_headers("developer")
    editor = await auth_headers("editor")
    listing = await create(client, developer)
    path = f"{LISTINGS}/{listing['id']}"
    await client.post(f"{path}/submit", headers=developer)

    assert_error(await client.post(f"{path}/reject", headers=editor, json={}), 422, field="reason")
    rejected = await client.post(
        f"{path}/reject", headers=editor, json={"reason": "ไม่พบนโยบายความเป็นส่วนตัว"}
    )
    assert rejected.status_code == 200
    seen = (await client.get(path, headers=developer)).json()
    assert seen["status"] == "rejected"
    assert seen["status_reason"] == "ไม่พบนโยบายความเป็นส่วนตัว" and seen["reviewed_at"]

    fixed = await client.patch(path, headers=developer, json={"version": "1.2.1"})
    assert fixed.status_code == 200 and fixed.json()["status"] == "rejected"
    resubmitted = await client.post(f"{path}/submit", headers=developer)
    assert resubmitted.json()["status"] == "in_review"
    assert resubmitted.json()["status_reason"] is None
    # In review it cannot be edited; withdrawn to draft it can.
    assert_error(await client.patch(path, headers=developer, json={"version": "2"}), 409)
    withdrawn = await client.post(f"{path}/withdraw", headers=developer)
    assert withdrawn.json()["status"] == "draft"
    assert (await client.patch(path, headers=developer, json={"version": "2"})).status_code == 200
    assert await actions_of(listing["id"]) == [
        "app.create",
        "app.submit",
        "app.reject",
        "app.update",
        "app.submit",
        "app.withdraw",
        "app.update",
    ]
    # The audit entry of the rejection has the reason and the status before and after.
    entry = await AuditEntry.find_one({"target_id": listing["id"], "action": "app.reject"})
    assert entry.before["status"] == "in_review" and entry.after["status"] == "rejected"
    assert entry.after["status_reason"] == "ไม่พบนโยบายความเป็นส่วนตัว"


async def test_transitions_from_the_wrong_status_are_conflicts(client, auth_headers):
    await make_agency("dopa")
    developer = await auth_headers("developer")
    editor = await auth_headers("editor")
    path = f"{LISTINGS}/{(await create(client, developer))['id']}"
    reason = {"reason": "x"}
    assert_error(await client.post(f"{path}/approve", headers=editor), 409)
    assert_error(await client.post(f"{path}/reject", headers=editor, json=reason), 409)
    assert_error(await client.post(f"{path}/withdraw", headers=developer), 409)
    assert_error(await client.post(f"{path}/delist", headers=editor, json=reason), 409)
    assert_error(await client.post(f"{path}/relist", headers=editor), 409)
    await client.post(f"{path}/submit", headers=developer)
    assert_error(await client.post(f"{path}/submit", headers=developer), 409)


async def test_roles_that_may_not(client, auth_headers, make_user):
    await make_agency("dopa")
    owner = await auth_headers("developer")
    other = await auth_headers("developer")
    editor = await auth_headers("editor")
    listing = await create(client, owner)
    path = f"{LISTINGS}/{listing['id']}"
    await client.post(f"{path}/submit", headers=owner)

    # Anonymous callers: 401.
    assert_error(await client.get(LISTINGS), 401)
    assert_error(await client.post(LISTINGS, json=BODY), 401)
    # A developer never publishes, rejects, features or relists: 403.
    for action, body in (
        ("approve", None),
        ("reject", {"reason": "x"}),
        ("relist", None),
        ("feature", {"until": (NOW + timedelta(days=1)).isoformat()}),
    ):
        assert_error(await client.post(f"{path}/{action}", headers=owner, json=body), 403)
    assert_error(await client.delete(f"{path}/feature", headers=owner), 403)
    # Another developer neither sees nor changes it: 404, and it is not in their list.
    assert_error(await client.get(path, headers=other), 404)
    assert_error(await client.patch(path, headers=other, json={"version": "6.6.6"}), 404)
    for action in ("submit", "withdraw"):
        assert_error(await client.post(f"{path}/{action}", headers=other), 404)
    assert_error(await client.post(f"{path}/delist", headers=other, json={"reason": "x"}), 404)
    assert (await client.get(LISTINGS, headers=other)).json()["items"] == []
    # Editors review but do not write listings: 403.
    assert_error(await client.post(LISTINGS, headers=editor, json=BODY | {"slug": "x-y"}), 403)
    assert_error(await client.patch(path, headers=editor, json={"version": "9"}), 403)
    assert_error(await client.post(f"{path}/withdraw", headers=editor), 403)
    # Malformed and unknown ids are 404 too.
    assert_error(await client.get(f"{LISTINGS}/nope", headers=owner), 404)
    assert_error(await client.get(f"{LISTINGS}/{'0' * 24}", headers=editor), 404)
    stored = await AppListing.find_one({"slug": BODY["slug"]})
    assert stored.status is ListingStatus.IN_REVIEW and stored.version == "1.2.0"


async def test_agencies_manage_their_own_listings_only(client, auth_headers, make_user):
    await make_agency("dopa")
    await make_agency("moph")
    dopa = await login(client, await make_user("agency", agency="dopa"))
    moph = await login(client, await make_user("agency", agency="moph"))
    developer = await auth_headers("developer")

    refused = await client.post(LISTINGS, headers=dopa, json={**BODY, "agency": "moph"})
    assert "not your agency" in assert_error(refused, 422, field="agency")["message"]
    own = await create(client, dopa)
    assert own["owner_kind"] == "agency" and own["owner_id"] == "dopa"
    path = f"{LISTINGS}/{own['id']}"
    # Another agency cannot see or touch it.
    assert_error(await client.get(path, headers=moph), 404)
    assert_error(await client.patch(path, headers=moph, json={"version": "0"}), 404)
    assert_error(await client.post(f"{path}/submit", headers=moph), 404)
    assert (await client.get(LISTINGS, headers=moph)).json()["items"] == []
    listed = await client.get(LISTINGS, headers=moph, params={"agency": "dopa"})
    assert listed.json()["items"] == []
    # An agency cannot move its listing to another agency.
    moved = await client.patch(path, headers=dopa, json={"agency": "moph"})
    assert_error(moved, 422, field="agency")
    # A developer's listing naming the agency is the agency's to manage too.
    theirs = await create(client, developer, slug="dopa-queue")
    assert (await client.get(f"{LISTINGS}/{theirs['id']}", headers=dopa)).status_code == 200
    assert_error(await client.get(f"{LISTINGS}/{theirs['id']}", headers=moph), 404)
    slugs = {x["slug"] for x in (await client.get(LISTINGS, headers=dopa)).json()["items"]}
    assert slugs == {"phuket-pass", "dopa-queue"}
    # The agency's systems (API keys) may maintain its listings as well.
    key = (
        await client.post("/api/v1/agencies/dopa/api-keys", headers=dopa, json={"name": "ci"})
    ).json()["key"]
    by_key = await client.patch(path, headers={"X-API-Key": key}, json={"version": "1.3.0"})
    assert by_key.status_code == 200 and by_key.json()["version"] == "1.3.0"
    submitted = await client.post(f"{path}/submit", headers={"X-API-Key": key})
    assert submitted.json()["status"] == "in_review"
    assert_error(await client.post(f"{path}/approve", headers={"X-API-Key": key}), 403)


async def test_published_listings_change_through_review_except_for_release_fields(
    client, auth_headers
):
    await make_agency("dopa")
    developer = await auth_headers("developer")
    editor = await auth_headers("editor")
    admin = await auth_headers("admin")
    listing = await create(client, developer)
    path = f"{LISTINGS}/{listing['id']}"
    await client.post(f"{path}/submit", headers=developer)
    await client.post(f"{path}/approve", headers=editor)

    release = await client.patch(
        path,
        headers=developer,
        json={"version": "1.3.0", "release_notes": "ใหม่", "slug": BODY["slug"]},
    )
    assert release.status_code == 200 and release.json()["status"] == "published"
    assert (await client.get("/api/v1/apps/phuket-pass")).json()["version"] == "1.3.0"
    moved = await client.patch(
        path, headers=developer, json={"web_url": "https://evil.example/", "name_th": "อื่น"}
    )
    error = assert_error(moved, 409, field="web_url")
    assert "name_th" in {f["field"] for f in error["fields"]}
    # An admin may; the slug stays fixed once published.
    by_admin = await client.patch(path, headers=admin, json={"name_en": "Phuket Pass 2"})
    assert by_admin.status_code == 200
    assert_error(await client.patch(path, headers=admin, json={"slug": "other"}), 422, field="slug")

    # Delisted by its developer (taking down one's own app), edited, submitted again.
    delisted = await client.post(f"{path}/delist", headers=developer, json={"reason": "ปิดบริการ"})
    assert delisted.json()["status"] == "delisted"
    assert (await client.get("/api/v1/apps/phuket-pass")).status_code == 404
    edited = await client.patch(path, headers=developer, json={"web_url": "https://new.example/"})
    assert edited.status_code == 200
    assert (await client.post(f"{path}/submit", headers=developer)).json()["status"] == "in_review"
    await client.post(f"{path}/approve", headers=editor)
    assert (await client.get("/api/v1/apps/phuket-pass")).json()["web_url"] == (
        "https://new.example/"
    )
    # Editors delist and relist; a second publication is not a new app.
    await client.post(f"{path}/delist", headers=editor, json={"reason": "ตรวจสอบ"})
    relisted = await client.post(f"{path}/relist", headers=editor)
    assert relisted.json()["status"] == "published"
    actions = await actions_of(listing["id"])
    assert actions.count("app.published_new") == 1
    assert actions[-2:] == ["app.delist", "app.relist"]
    assert await Notification.find({"origin": "gac.new_app"}).count() == 1  # one draft


async def test_feature_with_expiry(client, auth_headers):
    await make_agency("dopa")
    developer = await auth_headers("developer")
    editor = await auth_headers("editor")
    listing = await create(client, developer)
    path = f"{LISTINGS}/{listing['id']}"
    soon = {"until": (NOW + timedelta(days=7)).isoformat()}
    assert_error(await client.post(f"{path}/feature", headers=editor, json=soon), 409)
    await client.post(f"{path}/submit", headers=developer)
    await client.post(f"{path}/approve", headers=editor)
    for until in (NOW + timedelta(days=31), NOW - timedelta(minutes=1)):
        too_far = await client.post(
            f"{path}/feature", headers=editor, json={"until": until.isoformat()}
        )
        assert_error(too_far, 422, field="until")
    naive = await client.post(f"{path}/feature", headers=editor, json={"until": "2030-01-01T00:00"})
    assert_error(naive, 422)
    featured = await client.post(f"{path}/feature", headers=editor, json=soon)
    assert featured.status_code == 200 and featured.json()["featured_until"]
    assert (await client.get("/api/v1/apps/phuket-pass")).json()["featured"] is True
    unfeatured = await client.delete(f"{path}/feature", headers=editor)
    assert unfeatured.json()["featured_until"] is None
    await client.post(f"{path}/feature", headers=editor, json=soon)
    delisted = await client.post(f"{path}/delist", headers=editor, json={"reason": "x"})
    assert delisted.json()["featured_until"] is None  # leaving the catalogue ends the feature
    assert "app.feature" in await actions_of(listing["id"])


async def test_a_second_listing_of_the_same_app_is_not_published(client, auth_headers):
    await make_agency("dopa")
    first, second = await auth_headers("developer"), await auth_headers("developer")
    editor = await auth_headers("editor")
    ids = []
    for headers, slug in ((first, "phuket-pass"), (second, "phuket-pass-copy")):
        listing = await create(client, headers, slug=slug)  # drafts may share a package name
        await client.post(f"{LISTINGS}/{listing['id']}/submit", headers=headers)
        ids.append(listing["id"])
    assert (await client.post(f"{LISTINGS}/{ids[0]}/approve", headers=editor)).status_code == 200
    duplicate = await client.post(f"{LISTINGS}/{ids[1]}/approve", headers=editor)
    error = assert_error(duplicate, 409, field="android_package")
    assert "phuket-pass" in error["message"]
    assert "ios_bundle_id" in {f["field"] for f in error["fields"]}


async def test_submitting_needs_a_description_and_a_platform(client, auth_headers):
    await make_agency("dopa")
    developer = await auth_headers("developer")
    bare = {"slug": "bare", "agency": "dopa", "name_th": "แอป"}
    response = await client.post(LISTINGS, headers=developer, json=bare)
    assert response.status_code == 201 and response.json()["platforms"] == []
    path = f"{LISTINGS}/{response.json()['id']}"
    error = assert_error(await client.post(f"{path}/submit", headers=developer), 422)
    assert {f["field"] for f in error["fields"]} == {"description_th", "platforms"}
    await client.patch(
        path, headers=developer, json={"description_th": "คำอธิบาย", "web_url": "https://a.go.th"}
    )
    submitted = await client.post(f"{path}/submit", headers=developer)
    assert submitted.status_code == 200 and submitted.json()["platforms"] == ["web"]


async def test_admins_do_everything(client, auth_headers):
    await make_agency("dopa")
    admin = await auth_headers("admin")
    listing = await create(client, admin)
    assert listing["owner_kind"] == "agency" and listing["owner_id"] == "dopa"
    path = f"{LISTINGS}/{listing['id']}"
    assert (await client.post(f"{path}/submit", headers=admin)).status_code == 200
    assert (await client.post(f"{path}/approve", headers=admin)).status_code == 200
    assert (await client.patch(path, headers=admin, json={"name_th": "ใหม่"})).status_code == 200
    assert (await client.get("/api/v1/apps/phuket-pass")).json()["name_th"] == "ใหม่"


async def test_two_editors_approving_two_listings_of_one_app_at_once_publish_one(
    client, auth_headers
):
    await make_agency("dopa")
    editor, other_editor = await auth_headers("editor"), await auth_headers("editor")
    ids = []
    for slug in ("phuket-pass", "phuket-pass-copy"):
        developer = await auth_headers("developer")
        listing = await create(client, developer, slug=slug)
        await client.post(f"{LISTINGS}/{listing['id']}/submit", headers=developer)
        ids.append(listing["id"])
    # No read-then-write check to slip between: the database refuses the second publication.
    answers = await asyncio.gather(
        client.post(f"{LISTINGS}/{ids[0]}/approve", headers=editor),
        client.post(f"{LISTINGS}/{ids[1]}/approve", headers=other_editor),
    )
    assert sorted(answer.status_code for answer in answers) == [200, 409]
    published = await AppListing.find({"status": ListingStatus.PUBLISHED.value}).to_list()
    assert len(published) == 1

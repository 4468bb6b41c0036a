"""``/api/v1/editorial``: EGA staff review, edit and highlight ingested news."""

from __future__ import annotations

import uuid
from datetime import UTC, datetime, timedelta
from zoneinfo import ZoneInfo

import pytest

from gnews.audit.models import AuditEntry
from gnews.news.models import ItemStatus, NewsItem, ProvinceTag
from gnews.sources.models import Source
from gnews.thai.text import index_terms, query_terms
from tests.support.api import assert_error, login

NOW = datetime.now(UTC).replace(microsecond=0)


async def make_source(slug: str = "dopa-news", agency: str = "dopa") -> Source:
    return await Source(
        slug=slug, agency=agency, name=slug, feed_url=f"https://{agency}.example/feed"
    ).insert()


async def make_item(source: Source, **overrides) -> NewsItem:
    values = {
        "source_id": str(source.id),
        "source_slug": source.slug,
        "agency": source.agency,
        "key": uuid.uuid4().hex,
        "title": "ข่าว",
        "published_at": NOW - timedelta(hours=1),
        "content_hash": uuid.uuid4().hex,
        **overrides,
    }
    return await NewsItem(**values).insert()


async def audit_of(item_id) -> list[AuditEntry]:
    return await AuditEntry.find({"target_id": str(item_id)}).sort("_id").to_list()


async def test_only_staff_users_curate(client, auth_headers):
    item = await make_item(await make_source())
    assert_error(await client.get("/api/v1/editorial/queue"), 401)
    assert_error(await client.post(f"/api/v1/editorial/items/{item.id}/approve"), 401)
    agency = await auth_headers("agency", agency="dopa")
    for headers in (await auth_headers("developer"), agency):
        assert_error(await client.get("/api/v1/editorial/queue", headers=headers), 403)
        assert_error(
            await client.post(f"/api/v1/editorial/items/{item.id}/approve", headers=headers), 403
        )
    key = (
        await client.post("/api/v1/agencies/dopa/api-keys", headers=agency, json={"name": "k"})
    ).json()["key"]
    assert_error(await client.get("/api/v1/editorial/queue", headers={"X-API-Key": key}), 403)
    for role in ("editor", "admin"):
        response = await client.get("/api/v1/editorial/queue", headers=await auth_headers(role))
        assert response.status_code == 200
    assert (await NewsItem.get(item.id)).status is ItemStatus.PENDING


async def test_queue_is_pending_items_oldest_fetched_first(client, auth_headers):
    editor = await auth_headers("editor")
    dopa, moph = await make_source(), await make_source("moph-news", "moph")
    # Inserted out of order: the queue follows fetched_at, not insertion.
    for title, minutes, source in (
        ("c", 10, dopa),
        ("a", 30, moph),
        ("e", 1, dopa),
        ("b", 20, dopa),
        ("d", 5, moph),
    ):
        await make_item(source, title=title, fetched_at=NOW - timedelta(minutes=minutes))
    await make_item(dopa, title="published", status=ItemStatus.PUBLISHED, fetched_at=NOW)
    await make_item(dopa, title="rejected", status=ItemStatus.REJECTED, fetched_at=NOW)

    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/editorial/queue", headers=editor, params=params)).json()
        seen += [i["title"] for i in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["a", "b", "c", "d", "e"]

    by_agency = await client.get(
        "/api/v1/editorial/queue", headers=editor, params={"agency": "moph"}
    )
    assert [i["title"] for i in by_agency.json()["items"]] == ["a", "d"]
    by_source = await client.get(
        "/api/v1/editorial/queue", headers=editor, params={"source_id": str(dopa.id)}
    )
    assert [i["title"] for i in by_source.json()["items"]] == ["b", "c", "e"]
    assert_error(
        await client.get("/api/v1/editorial/queue", headers=editor, params={"cursor": "x"}),
        422,
        field="cursor",
    )


async def test_items_in_any_status_newest_first(client, auth_headers):
    editor = await auth_headers("editor")
    source = await make_source()
    for hours, status in ((3, "pending"), (1, "published"), (2, "rejected"), (4, "published")):
        await make_item(
            source,
            title=f"{status}-{hours}",
            status=status,
            published_at=NOW - timedelta(hours=hours),
        )
    listed = await client.get("/api/v1/editorial/items", headers=editor)
    assert [i["title"] for i in listed.json()["items"]] == [
        "published-1",
        "rejected-2",
        "pending-3",
        "published-4",
    ]
    published = await client.get(
        "/api/v1/editorial/items", headers=editor, params={"status": "published"}
    )
    assert [i["title"] for i in published.json()["items"]] == ["published-1", "published-4"]
    assert_error(
        await client.get("/api/v1/editorial/items", headers=editor, params={"status": "lost"}),
        422,
        field="status",
    )


async def test_one_item_shows_everything_editors_need(client, auth_headers):
    editor = await auth_headers("editor")
    item = await make_item(
        await make_source(),
        provinces=["TH-50"],
        province_tags=[ProvinceTag(code="TH-50", reason="text")],
        rejection_reason=None,
    )
    body = (await client.get(f"/api/v1/editorial/items/{item.id}", headers=editor)).json()
    assert body["id"] == str(item.id) and body["status"] == "pending"
    assert body["province_tags"] == [{"code": "TH-50", "reason": "text", "detail": None}]
    assert body["edited_fields"] == [] and body["rejection_reason"] is None
    assert "search_terms" not in body


@pytest.mark.parametrize("item_id", ["nope", "0123456789abcdef01234567"])
async def test_unknown_or_malformed_item_ids_are_not_found(client, auth_headers, item_id):
    editor = await auth_headers("editor")
    base = f"/api/v1/editorial/items/{item_id}"
    assert_error(await client.get(base, headers=editor), 404)
    assert_error(await client.patch(base, headers=editor, json={"title": "x"}), 404)
    assert_error(await client.post(f"{base}/approve", headers=editor), 404)
    assert_error(await client.post(f"{base}/reject", headers=editor, json={"reason": "x"}), 404)
    assert_error(await client.post(f"{base}/withdraw", headers=editor, json={"reason": "x"}), 404)
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    assert_error(await client.post(f"{base}/feature", headers=editor, json={"until": until}), 404)
    assert_error(await client.delete(f"{base}/pin", headers=editor), 404)
    assert_error(await client.post(f"{base}/breaking", headers=editor), 404)


async def test_review_transitions_and_their_audit(client, auth_headers, make_user):
    editor_user = await make_user("editor")
    editor = await login(client, editor_user)
    item = await make_item(await make_source())
    base = f"/api/v1/editorial/items/{item.id}"

    approved = await client.post(f"{base}/approve", headers=editor)
    assert approved.status_code == 200, approved.text
    body = approved.json()
    assert body["status"] == "published" and body["reviewed_by"] == str(editor_user.id)
    assert body["reviewed_at"] is not None
    error = assert_error(await client.post(f"{base}/approve", headers=editor), 409)
    assert "published" in error["message"]
    assert_error(
        await client.post(f"{base}/withdraw", headers=editor, json={}), 422, field="reason"
    )

    rejected = await client.post(f"{base}/reject", headers=editor, json={"reason": "ซ้ำ"})
    assert rejected.json()["status"] == "rejected" and rejected.json()["rejection_reason"] == "ซ้ำ"
    assert (
        "rejected"
        in assert_error(
            await client.post(f"{base}/reject", headers=editor, json={"reason": "again"}), 409
        )["message"]
    )
    assert (
        "rejected"
        in assert_error(
            await client.post(f"{base}/withdraw", headers=editor, json={"reason": "x"}), 409
        )["message"]
    )

    republished = await client.post(f"{base}/approve", headers=editor)
    assert republished.json()["status"] == "published"
    assert republished.json()["rejection_reason"] is None
    withdrawn = await client.post(f"{base}/withdraw", headers=editor, json={"reason": "ผิดพลาด"})
    assert withdrawn.json()["status"] == "withdrawn"
    assert withdrawn.json()["rejection_reason"] == "ผิดพลาด"
    assert (await client.post(f"{base}/approve", headers=editor)).json()["status"] == "published"

    entries = await audit_of(item.id)
    assert [e.action for e in entries] == [
        "news.approve",
        "news.reject",
        "news.approve",
        "news.withdraw",
        "news.approve",
    ]
    assert all(e.target_type == "news_item" for e in entries)
    assert entries[0].before == {"status": "pending"}
    assert entries[0].after == {"status": "published"}
    assert entries[1].before == {"status": "published", "rejection_reason": None}
    assert entries[1].after == {"status": "rejected", "rejection_reason": "ซ้ำ"}
    assert entries[2].before == {"status": "rejected", "rejection_reason": "ซ้ำ"}
    assert entries[2].after == {"status": "published", "rejection_reason": None}
    assert entries[0].actor["id"] == str(editor_user.id)


async def test_reasons_are_validated(client, auth_headers):
    editor = await auth_headers("editor")
    item = await make_item(await make_source())
    path = f"/api/v1/editorial/items/{item.id}/reject"
    for body in ({"reason": ""}, {"reason": "   "}, {"reason": "x" * 501}, {}):
        assert_error(await client.post(path, headers=editor, json=body), 422, field="reason")
    assert_error(
        await client.post(path, headers=editor, json={"reason": "x", "more": 1}), 422, field="more"
    )
    ok = await client.post(path, headers=editor, json={"reason": "x" * 500})
    assert ok.status_code == 200
    assert await AuditEntry.find({"action": "news.reject"}).count() == 1


async def test_edits_are_kept_and_reindexed(client, auth_headers, make_user):
    editor_user = await make_user("editor")
    editor = await login(client, editor_user)
    item = await make_item(
        await make_source(),
        title="ประชุมคณะกรรมการ",
        summary="สรุป",
        content_html="<p>โครงการ<b>อบรม</b>ดิจิทัล</p>",
        categories=["เดิม"],
        provinces=["TH-10"],
        province_tags=[ProvinceTag(code="TH-10", reason="source")],
        search_terms=index_terms("ประชุมคณะกรรมการ"),
    )
    path = f"/api/v1/editorial/items/{item.id}"
    response = await client.patch(
        path,
        headers=editor,
        json={"title": "  Smart City ภูเก็ต  ", "provinces": ["th-83", "TH-83"], "categories": []},
    )
    assert response.status_code == 200, response.text
    body = response.json()
    assert body["title"] == "Smart City ภูเก็ต"
    assert body["provinces"] == ["TH-83"] and body["categories"] == []
    assert body["province_tags"] == [
        {"code": "TH-83", "reason": "editor", "detail": str(editor_user.id)}
    ]
    assert body["edited_fields"] == [
        "title",
        "categories",
        "provinces",
        "province_tags",
        "search_terms",
    ]
    stored = await NewsItem.get(item.id)
    assert set(query_terms("smart city")) <= set(stored.search_terms)
    assert "ภูเก็ต" in stored.search_terms
    assert "อบรม" in stored.search_terms  # the content stays searchable
    assert "คณะกรรมการ" not in stored.search_terms  # the old title does not match any more

    national = await client.patch(path, headers=editor, json={"provinces": [], "summary": ""})
    assert national.json()["provinces"] == [] and national.json()["province_tags"] == []
    assert national.json()["summary"] == ""
    assert national.json()["edited_fields"][-1] == "summary"

    entries = await audit_of(item.id)
    assert [e.action for e in entries] == ["news.edit", "news.edit"]
    assert entries[0].before["title"] == "ประชุมคณะกรรมการ"
    assert entries[0].after["title"] == "Smart City ภูเก็ต"
    assert entries[0].before["provinces"] == ["TH-10"]
    assert entries[0].before["province_tags"] == [
        {"code": "TH-10", "reason": "source", "detail": None}
    ]
    assert entries[0].after["edited_fields"][0] == "title"
    assert entries[1].before == {
        "summary": "สรุป",
        "provinces": ["TH-83"],
        "province_tags": [{"code": "TH-83", "reason": "editor", "detail": str(editor_user.id)}],
        "edited_fields": ["title", "categories", "provinces", "province_tags", "search_terms"],
    }


async def test_edit_validation_names_the_field(client, auth_headers):
    editor = await auth_headers("editor")
    item = await make_item(await make_source(), title="เดิม")
    path = f"/api/v1/editorial/items/{item.id}"
    for field, value in (
        ("title", ""),
        ("title", None),
        ("title", "x" * 501),
        ("summary", "x" * 2001),
        ("summary", None),
        ("categories", [f"c{i}" for i in range(21)]),
        ("provinces", None),
        ("status", "published"),
        ("content_html", "<p>x</p>"),
    ):
        assert_error(
            await client.patch(path, headers=editor, json={field: value}), 422, field=field
        )
    assert_error(
        await client.patch(path, headers=editor, json={"provinces": ["XX"]}),
        422,
        field="provinces.0",
    )
    stored = await NewsItem.get(item.id)
    assert stored.title == "เดิม" and stored.edited_fields == []
    assert await AuditEntry.find_all().count() == 0


@pytest.mark.parametrize(
    ("action", "field"), [("feature", "featured_until"), ("pin", "pinned_until")]
)
async def test_feature_and_pin_published_items_for_a_while(client, auth_headers, action, field):
    editor = await auth_headers("editor")
    source = await make_source()
    pending = await make_item(source)
    item = await make_item(source, status=ItemStatus.PUBLISHED)
    path = f"/api/v1/editorial/items/{item.id}/{action}"
    soon = datetime.now(UTC) + timedelta(days=2)

    assert_error(
        await client.post(
            f"/api/v1/editorial/items/{pending.id}/{action}",
            headers=editor,
            json={"until": soon.isoformat()},
        ),
        409,
    )
    for until in (
        (datetime.now(UTC) - timedelta(minutes=1)).isoformat(),
        (datetime.now(UTC) + timedelta(days=31)).isoformat(),
        soon.replace(tzinfo=None).isoformat(),  # naive: which time zone?
        "tomorrow",
    ):
        assert_error(
            await client.post(path, headers=editor, json={"until": until}), 422, field="until"
        )
    assert_error(await client.post(path, headers=editor, json={}), 422, field="until")

    bangkok = soon.astimezone(ZoneInfo("Asia/Bangkok"))
    response = await client.post(path, headers=editor, json={"until": bangkok.isoformat()})
    assert response.status_code == 200, response.text
    stored = await NewsItem.get(item.id)
    assert abs(getattr(stored, field) - soon) < timedelta(milliseconds=2)
    raw = await NewsItem.get_pymongo_collection().find_one({"_id": item.id})
    assert isinstance(raw[field], datetime) and isinstance(raw["published_at"], datetime)
    public = (await client.get(f"/api/v1/news/{item.id}")).json()
    assert public["featured" if action == "feature" else "pinned"] is True

    removed = await client.delete(path, headers=editor)
    assert removed.status_code == 200 and removed.json()[field] is None
    again = await client.delete(path, headers=editor)  # harmless, not audited
    assert again.status_code == 200
    entries = await audit_of(item.id)
    assert [e.action for e in entries] == [f"news.{action}", f"news.un{action}"]
    assert entries[0].before == {field: None}
    assert abs(entries[0].after[field].replace(tzinfo=UTC) - soon) < timedelta(milliseconds=2)
    assert entries[1].after == {field: None}


async def test_breaking_news_and_leaving_publication(client, auth_headers):
    editor = await auth_headers("editor")
    source = await make_source()
    pending = await make_item(source)
    assert_error(
        await client.post(f"/api/v1/editorial/items/{pending.id}/breaking", headers=editor), 409
    )
    item = await make_item(source, status=ItemStatus.PUBLISHED)
    base = f"/api/v1/editorial/items/{item.id}"
    marked = await client.post(f"{base}/breaking", headers=editor)
    assert marked.status_code == 200 and marked.json()["breaking"] is True
    assert (await client.get(f"/api/v1/news/{item.id}")).json()["breaking"] is True
    unmarked = await client.delete(f"{base}/breaking", headers=editor)
    assert unmarked.json()["breaking"] is False

    # Withdrawing drops the highlights: re-approving later does not bring them back.
    until = (datetime.now(UTC) + timedelta(days=1)).isoformat()
    await client.post(f"{base}/breaking", headers=editor)
    await client.post(f"{base}/feature", headers=editor, json={"until": until})
    withdrawn = await client.post(f"{base}/withdraw", headers=editor, json={"reason": "ผิด"})
    assert withdrawn.json()["breaking"] is False and withdrawn.json()["featured_until"] is None
    entries = await audit_of(item.id)
    assert [e.action for e in entries] == [
        "news.breaking",
        "news.unbreaking",
        "news.breaking",
        "news.feature",
        "news.withdraw",
    ]
    assert entries[0].before == {"breaking": False} and entries[0].after == {"breaking": True}
    assert entries[-1].before["breaking"] is True and entries[-1].after["breaking"] is False
    assert entries[-1].after["featured_until"] is None

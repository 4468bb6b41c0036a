"""``/api/v1/sources``: agencies' feeds, managed by staff (all) and agencies (their own)."""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

import pytest
from redis.asyncio import Redis

from gnews.agencies.models import Agency
from gnews.audit.models import AuditEntry
from gnews.jobs import FEEDS_QUEUE, PUSH_QUEUE, poll_job_id
from gnews.sources.models import Source
from tests.support.api import assert_error

BODY = {
    "slug": "dopa-news",
    "agency": "dopa",
    "name": "ข่าวกรมการปกครอง",
    "feed_url": "https://www.dopa.go.th/news/rss.xml",
    "provinces": ["th-10", "TH-50"],
    "categories": ["ประชาสัมพันธ์"],
    "poll_interval_minutes": 15,
}


async def make_agency(code: str) -> None:
    if not await Agency.find_one(Agency.code == code):
        await Agency(code=code, name_th=f"หน่วยงาน {code}", name_en=code).insert()


async def plugin_source(**overrides) -> Source:
    values = {
        "origin": "dopa-plugin",
        "slug": "dopa-press",
        "agency": "dopa",
        "name": "DOPA press",
        "feed_url": "https://www.dopa.go.th/press.xml",
        **overrides,
    }
    return await Source(**values).insert()


async def test_staff_create_read_and_update_sources_with_audit(client, auth_headers):
    await make_agency("dopa")
    admin = await auth_headers("admin")
    editor = await auth_headers("editor")
    created = await client.post("/api/v1/sources", headers=editor, json=BODY)
    assert created.status_code == 201, created.text
    source = created.json()
    assert source["origin"] == "api" and source["slug"] == "dopa-news"
    assert source["provinces"] == ["TH-10", "TH-50"]
    assert source["language"] == "th" and source["trusted"] is False and source["enabled"]
    for field in (
        "last_polled_at",
        "last_success_at",
        "last_error",
        "last_error_kind",
        "last_error_at",
    ):
        assert source[field] is None
    assert source["consecutive_failures"] == 0 and source["item_count"] == 0
    assert source["next_poll_at"].endswith("Z") or "+00:00" in source["next_poll_at"]

    listed = await client.get("/api/v1/sources", headers=admin)
    assert [s["id"] for s in listed.json()["items"]] == [source["id"]]
    one = await client.get(f"/api/v1/sources/{source['id']}", headers=admin)
    assert one.status_code == 200 and one.json()["name"] == BODY["name"]

    changed = await client.patch(
        f"/api/v1/sources/{source['id']}",
        headers=admin,
        json={"name": "DOPA", "trusted": True, "poll_interval_minutes": 60, "language": "en"},
    )
    assert changed.status_code == 200, changed.text
    assert changed.json()["trusted"] is True and changed.json()["name"] == "DOPA"

    entries = await AuditEntry.find({"target_type": "source"}).sort("_id").to_list()
    assert [e.action for e in entries] == ["source.create", "source.update"]
    assert entries[0].after["slug"] == "dopa-news" and entries[0].actor["role"] == "editor"
    assert entries[1].before == {
        "name": BODY["name"],
        "trusted": False,
        "poll_interval_minutes": 15,
        "language": "th",
    }
    assert entries[1].after == {
        "name": "DOPA",
        "trusted": True,
        "poll_interval_minutes": 60,
        "language": "en",
    }
    # Sending what is already there changes nothing and records nothing.
    same = await client.patch(
        f"/api/v1/sources/{source['id']}", headers=admin, json={"name": "DOPA"}
    )
    assert same.status_code == 200
    assert await AuditEntry.find({"target_type": "source"}).count() == 2


async def test_duplicate_slug_is_a_conflict(client, auth_headers):
    await make_agency("dopa")
    admin = await auth_headers("admin")
    assert (await client.post("/api/v1/sources", headers=admin, json=BODY)).status_code == 201
    assert_error(await client.post("/api/v1/sources", headers=admin, json=BODY), 409)
    # A plugin's source with the same slug does not clash with an API source.
    await plugin_source(slug="other-slug")
    response = await client.post(
        "/api/v1/sources", headers=admin, json={**BODY, "slug": "dopa-press"}
    )
    assert response.status_code == 201


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "Bad Slug"),
        ("slug", "x"),
        ("agency", "Nope!"),
        ("agency", "unknown"),
        ("name", ""),
        ("feed_url", "ftp://example.org/feed"),
        ("feed_url", "not a url"),
        ("language", "fr"),
        ("provinces", ["TH-10", "TH-99"]),
        ("categories", [f"c{i}" for i in range(21)]),
        ("categories", ["ok", "x" * 51]),
        ("poll_interval_minutes", 4),
        ("poll_interval_minutes", 1441),
        ("extra", 1),
    ],
)
async def test_source_validation_names_the_field(client, auth_headers, field, value):
    await make_agency("dopa")
    admin = await auth_headers("admin")
    response = await client.post("/api/v1/sources", headers=admin, json={**BODY, field: value})
    # A bad list element is named with its index, e.g. "provinces.1".
    expected = f"{field}.1" if field in ("provinces", "categories") and len(value) == 2 else field
    assert_error(response, 422, field=expected)
    assert await Source.find_all().count() == 0


async def test_patch_validation_names_the_field(client, auth_headers):
    await make_agency("dopa")
    admin = await auth_headers("admin")
    source_id = (await client.post("/api/v1/sources", headers=admin, json=BODY)).json()["id"]
    for field, value in (
        ("slug", "new-slug"),
        ("agency", "moph"),
        ("feed_url", "file:///etc/passwd"),
        ("provinces.0", ["XX"]),
        ("poll_interval_minutes", 0),
        ("name", None),
        ("enabled", None),
    ):
        body = {field.split(".")[0]: value}
        response = await client.patch(f"/api/v1/sources/{source_id}", headers=admin, json=body)
        assert_error(response, 422, field=field)


async def test_agency_principals_manage_only_their_own_sources(client, auth_headers, make_user):
    await make_agency("moph")
    admin = await auth_headers("admin")
    dopa = await auth_headers("agency", agency="dopa")
    moph_source = (
        await client.post(
            "/api/v1/sources", headers=admin, json={**BODY, "slug": "moph-news", "agency": "moph"}
        )
    ).json()

    own = await client.post("/api/v1/sources", headers=dopa, json=BODY)
    assert own.status_code == 201, own.text
    refused = await client.post(
        "/api/v1/sources", headers=dopa, json={**BODY, "slug": "x-news", "agency": "moph"}
    )
    assert "not your agency" in assert_error(refused, 422, field="agency")["message"]
    assert_error(
        await client.post(
            "/api/v1/sources", headers=dopa, json={**BODY, "slug": "trusted-one", "trusted": True}
        ),
        403,
    )

    listed = await client.get("/api/v1/sources", headers=dopa)
    assert [s["slug"] for s in listed.json()["items"]] == ["dopa-news"]
    other = await client.get("/api/v1/sources", headers=dopa, params={"agency": "moph"})
    assert other.json()["items"] == []
    moph_id = moph_source["id"]
    assert_error(await client.get(f"/api/v1/sources/{moph_id}", headers=dopa), 404)
    assert_error(
        await client.patch(f"/api/v1/sources/{moph_id}", headers=dopa, json={"name": "mine"}), 404
    )
    assert_error(await client.post(f"/api/v1/sources/{moph_id}/poll", headers=dopa), 404)

    own_id = own.json()["id"]
    assert_error(
        await client.patch(f"/api/v1/sources/{own_id}", headers=dopa, json={"trusted": True}), 403
    )
    same = await client.patch(f"/api/v1/sources/{own_id}", headers=dopa, json={"trusted": False})
    assert same.status_code == 200
    renamed = await client.patch(f"/api/v1/sources/{own_id}", headers=dopa, json={"name": "ใหม่"})
    assert renamed.status_code == 200 and renamed.json()["name"] == "ใหม่"

    # The agency's API key acts for it too.
    key = (
        await client.post("/api/v1/agencies/dopa/api-keys", headers=dopa, json={"name": "cms"})
    ).json()["key"]
    api = {"X-API-Key": key}
    assert [
        s["slug"] for s in (await client.get("/api/v1/sources", headers=api)).json()["items"]
    ] == ["dopa-news"]
    created = await client.post("/api/v1/sources", headers=api, json={**BODY, "slug": "dopa-2"})
    assert created.status_code == 201
    assert_error(await client.get(f"/api/v1/sources/{moph_id}", headers=api), 404)


async def test_who_may_use_sources(client, auth_headers):
    assert_error(await client.get("/api/v1/sources"), 401)
    assert_error(await client.post("/api/v1/sources", json=BODY), 401)
    developer = await auth_headers("developer")
    assert_error(await client.get("/api/v1/sources", headers=developer), 403)
    assert_error(await client.post("/api/v1/sources", headers=developer, json=BODY), 403)


async def test_unknown_or_malformed_source_ids_are_not_found(client, auth_headers):
    admin = await auth_headers("admin")
    for source_id in ("nope", "0123456789abcdef01234567"):
        assert_error(await client.get(f"/api/v1/sources/{source_id}", headers=admin), 404)
        assert_error(
            await client.patch(f"/api/v1/sources/{source_id}", headers=admin, json={}), 404
        )
        assert_error(await client.post(f"/api/v1/sources/{source_id}/poll", headers=admin), 404)


async def test_plugin_sources_only_take_enabled_and_trusted(client, auth_headers):
    await make_agency("dopa")
    admin = await auth_headers("admin")
    source = await plugin_source()
    path = f"/api/v1/sources/{source.id}"
    for field, value in (
        ("name", "renamed"),
        ("feed_url", "https://example.org/feed"),
        ("provinces", ["TH-10"]),
        ("categories", []),
        ("language", "en"),
        ("poll_interval_minutes", 60),
    ):
        error = assert_error(
            await client.patch(path, headers=admin, json={field: value}), 422, field=field
        )
        assert "declared by plugin dopa-plugin; change it in the plugin" in error["message"]
    mixed = await client.patch(
        path, headers=admin, json={"enabled": False, "name": "x", "feed_url": "https://a.org/"}
    )
    error = assert_error(mixed, 422, field="name")
    assert {f["field"] for f in error["fields"]} == {"name", "feed_url"}
    assert (await Source.get(source.id)).enabled is True

    changed = await client.patch(path, headers=admin, json={"enabled": False, "trusted": True})
    assert changed.status_code == 200, changed.text
    assert changed.json()["enabled"] is False and changed.json()["trusted"] is True
    stored = await Source.get(source.id)
    assert stored.name == "DOPA press" and stored.enabled is False

    # A source its plugin no longer declares cannot come back on through the API.
    gone = await plugin_source(slug="gone", declared=False, enabled=False)
    assert_error(
        await client.patch(f"/api/v1/sources/{gone.id}", headers=admin, json={"enabled": True}),
        409,
    )


async def test_enabling_or_moving_a_source_brings_its_poll_forward(client, auth_headers):
    await make_agency("dopa")
    admin = await auth_headers("admin")
    later = datetime.now(UTC) + timedelta(hours=6)
    source = await Source(
        slug="s1",
        agency="dopa",
        name="S",
        feed_url="https://a.example/feed",
        enabled=False,
        next_poll_at=later,
        etag='"abc"',
        last_modified="Mon, 01 Jan 2024 00:00:00 GMT",
        body_hash="h",
    ).insert()
    path = f"/api/v1/sources/{source.id}"
    before = datetime.now(UTC)
    response = await client.patch(
        path, headers=admin, json={"enabled": True, "feed_url": "https://b.example/feed"}
    )
    assert response.status_code == 200, response.text
    stored = await Source.get(source.id)
    assert stored.next_poll_at <= datetime.now(UTC) and stored.next_poll_at >= before - timedelta(
        seconds=1
    )
    assert stored.etag is None and stored.last_modified is None and stored.body_hash is None
    assert stored.feed_url == "https://b.example/feed"


async def test_list_filters_and_keyset_pagination(client, auth_headers):
    admin = await auth_headers("admin")
    for index in range(5):
        await Source(
            slug=f"s{index}",
            agency="dopa" if index % 2 else "moph",
            name=f"S{index}",
            feed_url="https://a.example/feed",
            enabled=index != 3,
        ).insert()
    seen, cursor = [], None
    while True:
        params = {"limit": 2} | ({"cursor": cursor} if cursor else {})
        page = (await client.get("/api/v1/sources", headers=admin, params=params)).json()
        seen += [s["slug"] for s in page["items"]]
        cursor = page["next_cursor"]
        if cursor is None:
            break
    assert seen == ["s0", "s1", "s2", "s3", "s4"]
    by_agency = await client.get("/api/v1/sources", headers=admin, params={"agency": "dopa"})
    assert [s["slug"] for s in by_agency.json()["items"]] == ["s1", "s3"]
    disabled = await client.get("/api/v1/sources", headers=admin, params={"enabled": "false"})
    assert [s["slug"] for s in disabled.json()["items"]] == ["s3"]
    assert_error(
        await client.get("/api/v1/sources", headers=admin, params={"limit": 0}), 422, field="limit"
    )
    assert_error(
        await client.get("/api/v1/sources", headers=admin, params={"cursor": "???"}),
        422,
        field="cursor",
    )


async def test_poll_now_enqueues_one_job(client, auth_headers, settings):
    await make_agency("dopa")
    staff = await auth_headers("agency", agency="dopa")
    source_id = (await client.post("/api/v1/sources", headers=staff, json=BODY)).json()["id"]
    redis = Redis.from_url(settings.redis_url)
    try:
        first = await client.post(f"/api/v1/sources/{source_id}/poll", headers=staff)
        assert first.status_code == 202, first.text
        assert first.json() == {"queued": True}
        assert await redis.zcard(FEEDS_QUEUE) == 1
        assert await redis.zscore(FEEDS_QUEUE, poll_job_id(source_id)) is not None
        assert await redis.zcard(PUSH_QUEUE) == 0  # polls never take a push job slot
        again = await client.post(f"/api/v1/sources/{source_id}/poll", headers=staff)
        assert again.status_code == 202
        assert again.json() == {"queued": False, "reason": "already queued or running"}
        assert await redis.zcard(FEEDS_QUEUE) == 1
    finally:
        await redis.aclose()

    await client.patch(f"/api/v1/sources/{source_id}", headers=staff, json={"enabled": False})
    assert_error(await client.post(f"/api/v1/sources/{source_id}/poll", headers=staff), 409)

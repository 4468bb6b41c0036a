"""GAC listings declared by plugins: upserted at start-up, delisted (never deleted) when dropped."""

from __future__ import annotations

import asyncio
import sys

import pytest
from redis.asyncio import Redis

from appcenter.models import AppListing, ListingStatus, OwnerKind
from appcenter.sync import sync_plugin_listings
from gnews.app import create_app, sync_plugin_data
from gnews.audit.models import AuditEntry
from gnews.hookspecs import AppListingSpec
from gnews.notifications.models import Notification, NotificationStatus
from gnews.plugins import build_plugin_manager
from tests.plugins.samples import gac_listings
from tests.support.api import assert_error, login, serve_app
from tests.support.gac import LISTINGS, create, make_agency

SAMPLES = "tests.plugins.samples"
PLUGIN = f"{SAMPLES}.gac_listings"

TRUSTED_APP = {
    "slug": "trusted-app",
    "agency": "trusted-agency",
    "name_th": "แอปหน่วยงานที่เชื่อถือ",
    "description_th": "บริการยื่นภาษีออนไลน์",
    "categories": ["finance"],
    "android_package": "th.go.example.trusted",
    "web_url": "https://trusted.example.go.th/",
    "version": "1.0",
}
PLAIN_APP = {
    "slug": "plain-app",
    "agency": "plain-agency",
    "name_th": "แอปหน่วยงานทั่วไป",
    "description_th": "ข้อมูลการท่องเที่ยวจังหวัด",
    "categories": ["tourism"],
    "web_url": "https://plain.example.go.th/",
    "provinces": ["TH-60"],
}


@pytest.fixture
async def redis(settings):
    client = Redis.from_url(settings.redis_url)
    yield client
    await client.aclose()


@pytest.fixture
def declare():
    """Set what the sample plugin declares; reset afterwards."""

    def set_listings(*listings: dict, raising: bool = False) -> None:
        gac_listings.LISTINGS[:] = [AppListingSpec(**values) for values in listings]
        gac_listings.RAISE = raising

    yield set_listings
    gac_listings.LISTINGS.clear()
    gac_listings.RAISE = False


async def public_slugs(client) -> list[str]:
    return [app["slug"] for app in (await client.get("/api/v1/apps")).json()["items"]]


async def actions_of(listing: AppListing) -> list[str]:
    entries = await AuditEntry.find({"target_id": str(listing.id)}).sort("_id").to_list()
    return [entry.action for entry in entries]


async def test_added_published_when_trusted_else_queued(client, declare, redis, auth_headers):
    await make_agency("trusted-agency", trusted=True)
    plugins = build_plugin_manager([PLUGIN], entry_points=False)
    declare(TRUSTED_APP, PLAIN_APP)
    assert await public_slugs(client) == []  # cached empty answer
    await sync_plugin_data(plugins, redis=redis)

    trusted = await AppListing.find_one({"slug": "trusted-app"})
    assert trusted.status is ListingStatus.PUBLISHED and trusted.published_at
    assert trusted.origin == PLUGIN and trusted.declared
    assert (trusted.owner_kind, trusted.owner_id) == (OwnerKind.AGENCY, "trusted-agency")
    assert trusted.google_play_url.endswith("?id=th.go.example.trusted")
    assert trusted.platforms == ["android", "web"]
    assert await actions_of(trusted) == ["app.sync_create", "app.sync_submit", "app.published_new"]
    # The new official app waits for editors as a draft notification; the queued one has none.
    [draft] = await Notification.find({"origin": "gac.new_app"}).to_list()
    assert draft.status is NotificationStatus.DRAFT and draft.data == {"app_slug": "trusted-app"}
    assert draft.audience.everyone and draft.audience.platforms == ["android"]
    plain = await AppListing.find_one({"slug": "plain-app"})
    assert plain.status is ListingStatus.IN_REVIEW and plain.published_at is None
    entry = await AuditEntry.find_one({"target_id": str(plain.id), "action": "app.sync_create"})
    assert entry.actor["kind"] == "plugin" and entry.actor["id"] == PLUGIN

    assert await public_slugs(client) == ["trusted-app"]  # the sync invalidated the cache
    editor = await auth_headers("editor")
    queue = (await client.get("/api/v1/gac/queue", headers=editor)).json()["items"]
    assert [x["slug"] for x in queue] == ["plain-app"]
    # Searchable like any listing.
    found = await client.get("/api/v1/apps", params={"q": "ยื่นภาษี"})
    assert [a["slug"] for a in found.json()["items"]] == ["trusted-app"]

    # Syncing again without changes writes nothing.
    report = await sync_plugin_listings(plugins, redis=redis)
    assert not report.changed
    assert await AuditEntry.find({"target_type": "app_listing"}).count() == 5


async def test_changes_and_drops(client, declare, redis, auth_headers, make_user):
    await make_agency("trusted-agency", trusted=True)
    plugins = build_plugin_manager([PLUGIN], entry_points=False)
    declare(TRUSTED_APP, PLAIN_APP)
    await sync_plugin_data(plugins, redis=redis)
    editor = await auth_headers("editor")
    plain = await AppListing.find_one({"slug": "plain-app"})
    assert (await client.post(f"{LISTINGS}/{plain.id}/approve", headers=editor)).status_code == 200
    assert await public_slugs(client) == ["plain-app", "trusted-app"]

    # Release fields change in place; a trusted agency's listing stays published whatever changes.
    declare({**TRUSTED_APP, "name_th": "ชื่อใหม่", "version": "1.1"}, {**PLAIN_APP, "version": "2.0"})
    report = await sync_plugin_listings(plugins, redis=redis)
    assert sorted(report.updated) == [f"{PLUGIN}/plain-app", f"{PLUGIN}/trusted-app"]
    trusted = await AppListing.find_one({"slug": "trusted-app"})
    assert trusted.status is ListingStatus.PUBLISHED and trusted.name_th == "ชื่อใหม่"
    plain = await AppListing.get(plain.id)
    assert plain.status is ListingStatus.PUBLISHED and plain.version == "2.0"
    app = (await client.get("/api/v1/apps/trusted-app")).json()
    assert app["name_th"] == "ชื่อใหม่" and app["version"] == "1.1"

    # An untrusted agency's published listing whose reviewed fields change is reviewed again.
    declare(TRUSTED_APP, {**PLAIN_APP, "web_url": "https://moved.example.go.th/"})
    await sync_plugin_listings(plugins, redis=redis)
    plain = await AppListing.get(plain.id)
    assert plain.status is ListingStatus.IN_REVIEW and plain.web_url.startswith("https://moved")
    assert await public_slugs(client) == ["trusted-app"]
    # Rejected, then changed by the plugin: reviewed again.
    await client.post(f"{LISTINGS}/{plain.id}/reject", headers=editor, json={"reason": "ลิงก์ผิด"})
    declare(TRUSTED_APP, {**PLAIN_APP, "web_url": "https://fixed.example.go.th/"})
    await sync_plugin_listings(plugins, redis=redis)
    assert (await AppListing.get(plain.id)).status is ListingStatus.IN_REVIEW

    # The plugin's content is not edited through the API, even by its agency.
    agency = await login(client, await make_user("agency", agency="trusted-agency"))
    edit = await client.patch(f"{LISTINGS}/{trusted.id}", headers=agency, json={"version": "9"})
    assert "declared by plugin" in assert_error(edit, 422, field="version")["message"]

    # Dropped: delisted, not deleted, off the catalogue at once.
    declare(PLAIN_APP | {"web_url": "https://fixed.example.go.th/"})
    report = await sync_plugin_listings(plugins, redis=redis)
    assert report.delisted == [f"{PLUGIN}/trusted-app"] and not report.updated
    dropped = await AppListing.get(trusted.id)
    assert dropped.status is ListingStatus.DELISTED and not dropped.declared
    assert dropped.status_reason == f"no longer declared by plugin {PLUGIN}"
    assert await public_slugs(client) == []
    assert_error(await client.get("/api/v1/apps/trusted-app"), 404)
    assert_error(await client.post(f"{LISTINGS}/{trusted.id}/relist", headers=editor), 409)
    assert_error(await client.post(f"{LISTINGS}/{trusted.id}/submit", headers=agency), 409)
    assert "app.sync_delist" in await actions_of(dropped)

    # A plugin whose hook raised keeps its listings as they are.
    declare(raising=True)
    report = await sync_plugin_listings(plugins, redis=redis)
    assert not report.changed and (await AppListing.get(plain.id)).declared
    assert any(f.plugin == PLUGIN and f.hook == "gnews_app_listings" for f in plugins.failures)

    # Declared again: back as a new one would be (published at once: its agency is trusted).
    declare(TRUSTED_APP, PLAIN_APP | {"web_url": "https://fixed.example.go.th/"})
    report = await sync_plugin_listings(plugins, redis=redis)
    assert report.updated == [f"{PLUGIN}/trusted-app"]
    back = await AppListing.get(trusted.id)
    assert back.status is ListingStatus.PUBLISHED and back.declared and back.status_reason is None
    assert await public_slugs(client) == ["trusted-app"]
    assert (await actions_of(back)).count("app.published_new") == 1
    drafts = await Notification.find({"origin": "gac.new_app"}).to_list()
    assert sorted(d.data["app_slug"] for d in drafts) == ["plain-app", "trusted-app"]  # one each
    assert await AppListing.find_all().count() == 2


async def test_a_plugin_that_fails_to_import_keeps_its_listings(
    client, declare, redis, monkeypatch
):
    await make_agency("trusted-agency", trusted=True)
    declare(TRUSTED_APP)
    await sync_plugin_data(build_plugin_manager([PLUGIN], entry_points=False), redis=redis)
    # Next start-up its module cannot be imported (a broken release, a missing dependency).
    monkeypatch.setitem(sys.modules, PLUGIN, None)  # importing it now raises ImportError
    broken = build_plugin_manager([PLUGIN], entry_points=False)
    assert [(f.plugin, f.hook) for f in broken.failures] == [(PLUGIN, None)]
    report = await sync_plugin_listings(broken, redis=redis)
    assert not report.changed
    assert await public_slugs(client) == ["trusted-app"]
    # Switched off on purpose (GNEWS_DISABLED_PLUGINS), it does withdraw them.
    off = build_plugin_manager([PLUGIN], entry_points=False, disabled=[PLUGIN])
    assert (await sync_plugin_listings(off, redis=redis)).delisted == [f"{PLUGIN}/trusted-app"]


async def test_a_queued_listing_is_published_once_its_agency_is_trusted(client, declare, redis):
    plugins = build_plugin_manager([PLUGIN], entry_points=False)
    declare(PLAIN_APP)
    await sync_plugin_data(plugins, redis=redis)
    assert (await AppListing.find_one({"slug": "plain-app"})).status is ListingStatus.IN_REVIEW
    agency = await make_agency("plain-agency")
    agency.trusted = True
    await agency.replace()
    await sync_plugin_listings(plugins, redis=redis)
    assert (await AppListing.find_one({"slug": "plain-app"})).status is ListingStatus.PUBLISHED
    assert await public_slugs(client) == ["plain-app"]


async def test_bad_declarations_are_reported_with_the_plugin_and_skipped(
    client, declare, auth_headers
):
    await make_agency("plain-agency")
    await create(client, await auth_headers("admin"), slug="taken-slug", agency="plain-agency")
    plugins = build_plugin_manager([PLUGIN, f"{SAMPLES}.gac_other"], entry_points=False)
    declare()
    report = await sync_plugin_listings(plugins)
    assert report.created == [f"{SAMPLES}.gac_other/other-valid"]
    failures = [f for f in plugins.failures if f.hook == "gnews_app_listings"]
    assert {f.plugin for f in failures} == {f"{SAMPLES}.gac_other"}
    messages = "\n".join(f.error for f in failures)
    for expected in (
        "not an Android package name",
        "must be an https URL",
        "unknown agency 'nowhere'",
        "at least one of google_play_url",
        "unknown category 'games'",
        "must be a Google Play app link",
        "price",
        "'taken-slug': slug taken",
    ):
        assert expected in messages, expected
    assert len(failures) == 8
    taken = await AppListing.find_one({"slug": "taken-slug"})
    assert taken.origin == "api"


async def test_plugin_listings_sync_at_start_up(settings, declare):
    declare(dict(PLAIN_APP, agency="trusted-agency"))
    plugins = build_plugin_manager([PLUGIN], entry_points=False)
    async with serve_app(create_app(settings, plugins=plugins, setup_logging=False)) as http:
        listings = (await http.get("/api/v1/agencies/trusted-agency/apps")).json()["items"]
        assert listings == []  # agencies a plugin creates are not trusted: queued for review
        stored = await AppListing.find_one({"slug": "plain-app"})
        assert stored.status is ListingStatus.IN_REVIEW and stored.origin == PLUGIN


async def test_the_bundled_plugins_listings_validate_and_sync(client, redis):
    plugins = build_plugin_manager()  # installed entry points: the EGA plugin among them
    failures_before = len(plugins.failures)
    await sync_plugin_data(plugins, redis=redis)
    assert plugins.failures[failures_before:] == []
    ega = await AppListing.find({"origin": "ega"}).to_list()
    assert ega and all(listing.agency == "ega" and listing.declared for listing in ega)
    assert "g-news" in {listing.slug for listing in ega}
    # The EGA plugin declares its agency trusted (it runs GAC): its listings are public at once.
    assert all(listing.status is ListingStatus.PUBLISHED for listing in ega)


async def test_two_replicas_syncing_at_once_make_one_listing_and_one_draft(client, declare):
    await make_agency("trusted-agency", trusted=True)
    await make_agency("plain-agency")
    declare(TRUSTED_APP, PLAIN_APP)
    replicas = [build_plugin_manager([PLUGIN], entry_points=False) for _ in range(2)]
    await asyncio.gather(*(sync_plugin_listings(plugins) for plugins in replicas))
    listings = await AppListing.find_all().to_list()
    assert sorted(listing.slug for listing in listings) == ["plain-app", "trusted-app"]
    trusted = next(listing for listing in listings if listing.slug == "trusted-app")
    assert trusted.status is ListingStatus.PUBLISHED
    assert await Notification.find({"origin": "gac.new_app"}).count() == 1
    assert await AuditEntry.find({"action": "app.published_new"}).count() == 1

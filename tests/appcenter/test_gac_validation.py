"""Validation of GAC listings: every field gives a clear 422 naming it (409 for a taken slug)."""

from __future__ import annotations

import pytest

from appcenter.validation import app_store_id, package_in_google_play_url
from tests.support.api import assert_error
from tests.support.gac import BODY, LISTINGS, create, make_agency

PLAY = "https://play.google.com/store/apps/details?id="


@pytest.fixture
async def developer(client, auth_headers):
    await make_agency("dopa")
    return await auth_headers("developer")


@pytest.mark.parametrize(
    ("field", "value"),
    [
        ("slug", "Phuket_Pass"),
        ("slug", "a"),
        ("slug", "-phuket"),
        ("slug", "categories"),  # reserved: GET /api/v1/apps/categories
        ("agency", "DOPA!"),
        ("name_th", ""),
        ("name_th", "ก" * 201),
        ("name_en", "   "),
        ("description_th", "ก" * 10_001),
        ("categories", ["games"]),
        ("categories", ["health"] * 11),
        ("android_package", "phuketpass"),
        ("android_package", "th.go.1example.app"),
        ("android_package", "th.go.exa mple"),
        ("android_package", "th..go"),
        ("android_package", "a." + "b" * 150),
        ("ios_bundle_id", "phuketpass"),
        ("ios_bundle_id", "th.go.example_app"),
        ("ios_bundle_id", ".th.go"),
        (
            "google_play_url",
            "http://play.google.com/store/apps/details?id=th.go.example.phuketpass",
        ),
        ("app_store_url", "http://apps.apple.com/th/app/phuket-pass/id1234567890"),
        ("web_url", "http://phuketpass.example.go.th/"),
        ("web_url", "ftp://phuketpass.example.go.th/"),
        ("web_url", "not a url"),
        ("icon_url", "http://cdn.example.go.th/icon.png"),
        ("screenshot_urls", ["http://cdn.example.go.th/1.png"]),
        ("screenshot_urls", ["https://cdn.example.go.th/1.png"] * 21),
        ("privacy_policy_url", "http://phuketpass.example.go.th/privacy"),
        ("support_contact", "call us"),
        ("support_contact", "http://support.example.go.th"),
        ("version", ""),
        ("version", "1" * 51),
        ("release_notes", "ก" * 5001),
        ("tags", [""]),
        ("tags", ["x" * 51]),
        ("tags", ["t"] * 31),
        ("provinces", ["TH-99"]),
        ("provinces", "TH-10"),
    ],
)
async def test_each_field_is_checked(client, developer, field, value):
    response = await client.post(LISTINGS, headers=developer, json={**BODY, field: value})
    error = assert_error(response, 422)
    assert any(f["field"].split(".")[0] == field for f in error["fields"]), error


async def test_unknown_fields_and_inactive_agencies_are_refused(client, developer):
    assert_error(
        await client.post(LISTINGS, headers=developer, json={**BODY, "status": "published"}),
        422,
        field="status",
    )
    unknown = await client.post(LISTINGS, headers=developer, json={**BODY, "agency": "nowhere"})
    assert "no active agency" in assert_error(unknown, 422, field="agency")["message"]
    for field in ("slug", "agency", "name_th"):
        missing = {k: v for k, v in BODY.items() if k != field}
        assert_error(await client.post(LISTINGS, headers=developer, json=missing), 422, field=field)


@pytest.mark.parametrize(
    ("url", "reason"),
    [
        ("https://play.google.com.evil.example/store/apps/details?id=th.go.example.phuketpass", ""),
        ("https://evil.example/store/apps/details?id=th.go.example.phuketpass", ""),
        ("https://play.google.com/store/apps/dev?id=th.go.example.phuketpass", ""),
        ("https://play.google.com/store/apps/details", ""),
        ("https://play.google.com/store/apps/details?id=a&id=b", ""),
        (PLAY + "not-a-package", "not an Android package name"),
        (PLAY + "th.go.other.app", "but android_package is"),
    ],
)
async def test_google_play_links_must_name_the_package(client, developer, url, reason):
    response = await client.post(LISTINGS, headers=developer, json={**BODY, "google_play_url": url})
    error = assert_error(response, 422, field="google_play_url")
    assert reason in error["message"]


async def test_either_android_field_gives_the_other(client, developer):
    from_url = await create(
        client,
        developer,
        slug="from-url",
        android_package=None,
        google_play_url=PLAY + "th.go.example.fromurl&hl=th",
    )
    assert from_url["android_package"] == "th.go.example.fromurl"
    assert from_url["google_play_url"] == PLAY + "th.go.example.fromurl&hl=th"
    from_package = await create(client, developer, slug="from-package")
    assert from_package["google_play_url"] == PLAY + BODY["android_package"]
    # Changing one re-derives the other; clearing one clears both.
    path = f"{LISTINGS}/{from_package['id']}"
    changed = await client.patch(path, headers=developer, json={"android_package": "th.go.x.y"})
    assert changed.json()["google_play_url"] == PLAY + "th.go.x.y"
    cleared = await client.patch(path, headers=developer, json={"google_play_url": None})
    assert cleared.json()["android_package"] is None and cleared.json()["google_play_url"] is None
    assert cleared.json()["platforms"] == ["ios", "web"]
    mismatch = await client.patch(
        path,
        headers=developer,
        json={"android_package": "th.go.a.b", "google_play_url": PLAY + "th.go.c.d"},
    )
    assert_error(mismatch, 422, field="google_play_url")


@pytest.mark.parametrize(
    "url",
    [
        "https://itunes.apple.com/th/app/phuket-pass/id1234567890",
        "https://apps.apple.com/th/app/phuket-pass",
        "https://apps.apple.com/th/app/phuket-pass/idabc",
        "https://apps.apple.com/th/developer/dga/id1234567890",
        "https://apps.apple.com.evil.example/th/app/x/id1",
    ],
)
async def test_app_store_links_must_be_app_store_app_links(client, developer, url):
    response = await client.post(LISTINGS, headers=developer, json={**BODY, "app_store_url": url})
    assert_error(response, 422, field="app_store_url")


async def test_a_bundle_id_needs_its_app_store_link(client, developer):
    response = await client.post(LISTINGS, headers=developer, json={**BODY, "app_store_url": None})
    assert (
        "required with ios_bundle_id"
        in assert_error(response, 422, field="app_store_url")["message"]
    )
    # Without a bundle id, the link alone is fine (Apple's links do not carry the bundle id).
    listing = await create(client, developer, ios_bundle_id=None)
    assert listing["platforms"] == ["android", "ios", "web"]
    # Clearing the link clears the bundle id with it.
    with_both = await create(client, developer, slug="with-both")
    cleared = await client.patch(
        f"{LISTINGS}/{with_both['id']}", headers=developer, json={"app_store_url": None}
    )
    assert cleared.json()["ios_bundle_id"] is None and "ios" not in cleared.json()["platforms"]


def test_store_link_parsing():
    assert package_in_google_play_url(PLAY + "th.or.dga.citizenportal&hl=th") == (
        "th.or.dga.citizenportal"
    )
    assert package_in_google_play_url("https://play.google.com/store/apps/details/?id=a.b") == "a.b"
    assert package_in_google_play_url("https://play.google.com/store/search?q=a.b") is None
    assert app_store_id("https://apps.apple.com/th/app/thaid/id1533612248") == "1533612248"
    assert app_store_id("https://apps.apple.com/app/id1533612248?l=th") == "1533612248"
    assert app_store_id("https://apps.apple.com/th/app/id1514331336") == "1514331336"
    assert app_store_id("https://apps.apple.com/th/app/thaid") is None


async def test_values_are_normalised(client, developer):
    listing = await create(
        client,
        developer,
        name_th="  ภูเก็ตพาส  ",
        provinces=["th-83", "TH-83", "th-10"],
        tags=["covid", " covid "],
        categories=["tourism", "tourism"],
        support_contact="+66 2 612 6000",
        web_url="https://ภูเก็ต.example.go.th",
    )
    assert listing["name_th"] == "ภูเก็ตพาส"
    assert listing["provinces"] == ["TH-83", "TH-10"]
    assert listing["tags"] == ["covid"] and listing["categories"] == ["tourism"]
    assert listing["support_contact"] == "+66 2 612 6000"
    assert listing["web_url"].startswith("https://xn--")
    for contact in ("1111", "support@dga.or.th", "https://dga.or.th/contact"):
        assert (await create(client, developer, slug=f"c-{len(contact)}", support_contact=contact))[
            "support_contact"
        ] == contact


async def test_slugs_are_unique(client, developer, auth_headers):
    await create(client, developer)
    other = await auth_headers("developer")
    taken = await client.post(LISTINGS, headers=other, json=BODY)
    assert_error(taken, 409, field="slug")
    second = await create(client, other, slug="second")
    renamed = await client.patch(
        f"{LISTINGS}/{second['id']}", headers=other, json={"slug": BODY["slug"]}
    )
    assert_error(renamed, 409, field="slug")
    # Keeping one's own slug is not a conflict.
    same = await client.patch(f"{LISTINGS}/{second['id']}", headers=other, json={"slug": "second"})
    assert same.status_code == 200


async def test_patches_are_validated_like_creation(client, developer):
    listing = await create(client, developer)
    path = f"{LISTINGS}/{listing['id']}"
    for field, value in (
        ("web_url", "http://a.go.th"),
        ("android_package", "nope"),
        ("categories", ["games"]),
        ("slug", "categories"),
        ("name_th", None),
        ("description_th", None),
        ("tags", None),
        ("agency", None),
        ("agency", "nowhere"),
        ("owner_id", "someone"),
    ):
        error = assert_error(await client.patch(path, headers=developer, json={field: value}), 422)
        assert field in {f["field"].split(".")[0] for f in error["fields"]}, error
    # null clears optional fields.
    cleared = await client.patch(path, headers=developer, json={"web_url": None, "version": None})
    assert cleared.status_code == 200
    assert cleared.json()["web_url"] is None and cleared.json()["version"] is None
    assert cleared.json()["platforms"] == ["android", "ios"]

"""The public pages over httpx: Thai text of seeded items, the province filter, paging, 404s, the
English switch, OpenGraph tags, the apps catalogue, kiosk mode and the response cache."""

from __future__ import annotations

import re
from html import unescape

from gnews.app import create_app
from gnews.plugins import build_plugin_manager
from tests.site.seed import seed_site
from tests.support.api import serve_app


def meta(html: str, prop: str) -> str | None:
    """The content of ``<meta property|name=prop>``."""
    found = re.search(rf'<meta (?:property|name)="{re.escape(prop)}" content="([^"]*)"', html)
    return unescape(found.group(1)) if found else None


async def test_home_shows_national_news_in_thai_and_the_province_chooser(client):
    seeded = await seed_site()
    response = await client.get("/")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/html; charset=utf-8"
    html = response.text
    assert '<html lang="th">' in html
    assert seeded.national.title in html  # national news…
    assert seeded.nakhon_sawan.title not in html  # …only
    assert seeded.pending.title not in html
    assert 'href="/provinces/TH-60"' in html and "นครสวรรค์" in html  # the chooser
    assert html.count('data-province="TH-') == 77
    assert "<main" in html and "<nav" in html and "ข้ามไปยังเนื้อหา" in html  # landmarks, skip


async def test_a_province_shows_its_own_and_national_news_newest_first(client):
    seeded = await seed_site()
    html = (await client.get("/provinces/TH-60")).text
    assert "ข่าวจังหวัด นครสวรรค์" in html
    assert seeded.nakhon_sawan.title in html and seeded.national.title in html
    assert seeded.chiang_mai.title not in html  # another province's
    assert seeded.pending.title not in html  # not published
    assert html.index(seeded.nakhon_sawan.title) < html.index(seeded.national.title)
    # feeds are announced; the lower-case code names the same province
    assert 'rel="alternate" type="application/atom+xml"' in html
    assert (await client.get("/provinces/th-60")).status_code == 200


async def test_province_pages_are_keyset_paged(client):
    seeded = await seed_site(older=25)
    first = (await client.get("/provinces/TH-60")).text
    assert seeded.older[0].title in first and seeded.older[-1].title not in first
    older = re.search(r'href="([^"]*cursor=[^"]*)" rel="next"', first)
    assert older is not None
    second = (await client.get(unescape(older.group(1)))).text
    assert seeded.older[-1].title in second
    assert seeded.nakhon_sawan.title not in second  # nothing repeated
    assert 'rel="first"' in second
    bad = await client.get("/provinces/TH-60", params={"cursor": "not-a-cursor"})
    assert bad.status_code == 400 and "ลิงก์นี้ไม่ถูกต้อง" in bad.text


async def test_unknown_and_unpublished_things_are_404_pages(client):
    seeded = await seed_site()
    for path in (
        "/provinces/TH-99",
        "/agencies/nobody",
        f"/news/{seeded.pending.id}",
        "/news/not-an-id",
        "/apps/secret-draft",
        "/apps/no-such-app",
        "/categories/nothing/feed.atom",
    ):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["content-type"].startswith("text/html"), path
        assert "ไม่พบหน้าที่คุณต้องการ" in response.text, path


async def test_the_english_switch_sets_the_cookie_and_links_keep_the_language(client):
    await seed_site()
    html = (await client.get("/provinces/TH-60")).text
    switch = re.search(r'href="([^"]+)" lang="en"', html)
    assert switch is not None and "lang=en" in switch.group(1)
    response = await client.get(unescape(switch.group(1)))
    assert response.status_code == 200
    assert response.cookies.get("lang") == "en"
    english = response.text
    assert '<html lang="en">' in english and "News of Nakhon Sawan" in english
    assert 'href="/apps?lang=en"' in english  # links keep the language
    assert "Nov" in english or re.search(r"\d{4} \d\d:\d\d", english)  # an English date
    # the cookie alone keeps it; ?lang=th switches back
    client.cookies.set("lang", "en")
    assert '<html lang="en">' in (await client.get("/")).text
    assert '<html lang="th">' in (await client.get("/", params={"lang": "th"})).text
    client.cookies.clear()


async def test_an_item_page_has_its_details_clean_html_and_share_tags(client, settings):
    seeded = await seed_site()
    item = seeded.national
    response = await client.get(f"/news/{item.id}")
    assert response.status_code == 200
    html = response.text
    assert item.title in html and "สำนักงานพัฒนารัฐบาลดิจิทัล" in html  # the agency
    assert "ทั่วประเทศ" in html and "รัฐบาลดิจิทัล" in html  # national, its category
    year = item.published_at.year + 543  # Bangkok time, Buddhist Era
    assert str(year) in html
    assert "<b>ใช้ได้แล้ว</b>" in html and "<script>alert" not in html  # sanitised
    origin = str(client.base_url).rstrip("/")
    assert meta(html, "og:title") == item.title
    assert meta(html, "og:description") == item.summary
    assert meta(html, "og:image") is None  # its image is not cached: never the agency's URL
    assert meta(html, "og:url") == f"{origin}/news/{item.id}"
    assert meta(html, "og:type") == "article" and meta(html, "og:locale") == "th_TH"
    assert meta(html, "twitter:card") == "summary"
    assert meta(html, "twitter:title") == item.title
    province_item = (await client.get(f"/news/{seeded.nakhon_sawan.id}")).text
    assert "นครสวรรค์" in province_item and meta(province_item, "twitter:card") == "summary"


async def test_og_url_uses_the_configured_public_base_url(settings):
    configured = settings.model_copy(update={"public_base_url": "https://news.example.go.th"})
    app = create_app(
        configured, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    async with serve_app(app) as http:
        seeded = await seed_site()
        html = (await http.get(f"/news/{seeded.national.id}")).text
        assert meta(html, "og:url") == f"https://news.example.go.th/news/{seeded.national.id}"


async def test_an_agency_page_lists_its_news(client):
    seeded = await seed_site()
    html = (await client.get("/agencies/dopa")).text
    assert "กรมการปกครอง" in html
    assert seeded.nakhon_sawan.title in html and seeded.chiang_mai.title in html
    assert seeded.national.title not in html  # another agency's
    assert 'href="/agencies/dopa/feed.rss"' in html


async def test_the_apps_catalogue_with_thai_search_badges_and_official_agency(client):
    seeded = await seed_site()
    html = (await client.get("/apps")).text
    assert "ทางรัฐ" in html and "แอปร่าง" not in html
    assert "แอปทางการของ กรมการปกครอง" in html
    found = (await client.get("/apps", params={"q": "ยื่นภาษี"})).text
    assert "ทางรัฐ" in found
    missing = (await client.get("/apps", params={"q": "พยากรณ์อากาศ"})).text
    assert "ทางรัฐ" not in missing and "ไม่พบแอป" in missing
    too_long = await client.get("/apps", params={"q": "ก" * 201})
    assert too_long.status_code == 200 and 'id="q-error"' in too_long.text  # next to the field
    page = (await client.get(f"/apps/{seeded.app.slug}", params={"lang": "en"})).text
    assert "Tang Rat" in page and "Official app of" in page
    assert f'href="{seeded.app.google_play_url}"' in page.replace("&amp;", "&")
    assert f'href="{seeded.app.app_store_url}"' in page
    assert "android" in page and "ios" in page


async def test_kiosk_mode_is_large_rotating_self_refreshing_and_without_links(client):
    seeded = await seed_site()
    html = (await client.get("/provinces/TH-60", params={"kiosk": "1"})).text
    assert 'class="kiosk"' in html and 'http-equiv="refresh"' in html and "kiosk.js" in html
    assert seeded.nakhon_sawan.title in html and seeded.national.title in html
    assert "<a " not in html  # nothing to navigate away with


async def test_pages_are_cached_answer_304_and_are_invalidated_by_editorial_actions(
    client, auth_headers
):
    seeded = await seed_site()
    first = await client.get("/provinces/TH-60")
    etag = first.headers["etag"]
    assert "Cookie" in first.headers["vary"]
    again = await client.get("/provinces/TH-60", headers={"If-None-Match": etag})
    assert again.status_code == 304
    # An editor's change invalidates the news cache: the page shows it at once.
    editor = await auth_headers("editor")
    edited = await client.patch(
        f"/api/v1/editorial/items/{seeded.nakhon_sawan.id}",
        headers=editor,
        json={"title": "นครสวรรค์ประกาศแจ้งเตือนน้ำท่วม"},
    )
    assert edited.status_code == 200, edited.text
    fresh = await client.get("/provinces/TH-60", headers={"If-None-Match": etag})
    assert fresh.status_code == 200 and "นครสวรรค์ประกาศแจ้งเตือนน้ำท่วม" in fresh.text

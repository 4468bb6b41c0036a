"""One walk through the public site in real Chromium: home → Nakhon Sawan (TH-60) → an item →
English → kiosk, and the apps catalogue, with nothing loaded from another host (an item's image
included: it is our cached copy)."""

from __future__ import annotations

from gnews.core.persistence import update_one
from gnews.media.service import CachedImage, store_image
from gnews.news.models import NewsItem
from tests.media.images import image_bytes
from tests.site.seed import seed_site
from tests.support.browser import screenshot

LEAD = image_bytes("JPEG", size=(16, 9), color="navy")


async def test_a_citizen_reads_nakhon_sawan_news_shares_an_item_and_opens_the_kiosk(live_app, page):
    seeded = await seed_site()
    # The national item's image is cached (as the cache_media job leaves it); every request,
    # images included, must go to the site itself.
    media = await store_image(LEAD, seeded.national.image_url or "")
    await update_one(
        NewsItem,
        {"_id": seeded.national.id},
        set={"cached_images": [CachedImage(url=seeded.national.image_url, media_id=media.id)]},
    )
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    await page.goto(f"{live_app}/")
    await page.get_by_role("heading", name="ข่าวทั่วประเทศ").wait_for()
    await page.get_by_text(seeded.national.title).wait_for()
    # the map is inlined and its provinces are links (the list beside it works without it)
    await page.locator("#map path[data-province='TH-60']").wait_for()
    await screenshot(page, "site-home")

    await page.locator("#map path[data-province='TH-60']").click()
    await page.wait_for_url(f"{live_app}/provinces/TH-60")
    await page.get_by_role("heading", name="ข่าวจังหวัด นครสวรรค์").wait_for()
    assert await page.get_by_text(seeded.chiang_mai.title).count() == 0
    await screenshot(page, "site-province")

    await page.get_by_role("link", name=seeded.nakhon_sawan.title).click()
    await page.wait_for_url(f"{live_app}/news/{seeded.nakhon_sawan.id}")
    await page.get_by_role("heading", name=seeded.nakhon_sawan.title).wait_for()
    og_url = await page.locator('meta[property="og:url"]').get_attribute("content")
    assert og_url == f"{live_app}/news/{seeded.nakhon_sawan.id}"
    await screenshot(page, "site-item")

    await page.goto(f"{live_app}/news/{seeded.national.id}")  # an item with its image
    lead = page.locator("img.lead")
    await lead.wait_for()
    assert await lead.get_attribute("src") == f"/media/{media.id}"
    assert await lead.evaluate("img => img.complete && img.naturalWidth") == 16
    await page.goto(f"{live_app}/news/{seeded.nakhon_sawan.id}")

    await page.get_by_role("link", name="English").click()
    await page.get_by_role("link", name="Department of Provincial Administration").wait_for()
    assert await page.locator("html").get_attribute("lang") == "en"
    # the language is remembered: the province page is English now, without ?lang
    await page.goto(f"{live_app}/provinces/TH-60")
    await page.get_by_role("heading", name="News of Nakhon Sawan").wait_for()

    await page.goto(f"{live_app}/apps?lang=th")
    await page.get_by_label("ค้นหาแอป").fill("ภาษี")
    await page.get_by_role("button", name="ค้นหา").click()
    await page.get_by_role("link", name="ทางรัฐ").wait_for()
    await screenshot(page, "site-apps")

    await page.goto(f"{live_app}/provinces/TH-60?kiosk=1&rotate=1")
    current = page.locator(".kiosk-item.current h2")
    first = await current.inner_text()
    await page.wait_for_function(
        "first => document.querySelector('.kiosk-item.current h2').innerText !== first", arg=first
    )  # it rotates
    assert await page.locator("a").count() == 0
    font_size = await page.evaluate("parseFloat(getComputedStyle(document.body).fontSize)")
    assert font_size >= 22  # large type
    await screenshot(page, "site-kiosk")

    assert requested and all(url.startswith(live_app) for url in requested), [
        url for url in requested if not url.startswith(live_app)
    ]

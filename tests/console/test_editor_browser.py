"""The editor's journey in a real browser: home, queue (a reject refused without a reason, an
approval that reaches the public feed), sources, and publishing a developer's GAC listing."""

from __future__ import annotations

import httpx

from appcenter.models import ListingStatus
from tests.support.browser import screenshot
from tests.support.console import browser_sign_in
from tests.support.editorial import listing_in_review, pending_item, reload_listing
from tests.support.news import make_source


async def test_editor_reviews_news_and_publishes_a_gac_listing(live_app, page, make_user):
    editor = await make_user("editor")
    developer = await make_user("developer")
    source = await make_source()
    doubtful = await pending_item(source, "ข่าวที่ต้องปฏิเสธ", minutes_ago=30)
    good = await pending_item(source, "น้ำท่วมนครสวรรค์ ขนของขึ้นที่สูง", minutes_ago=20)
    listing = await listing_in_review(developer)

    await browser_sign_in(page, live_app, editor)
    pending_panel = page.locator("#panel-pending")
    await pending_panel.get_by_text("น้ำท่วมนครสวรรค์ ขนของขึ้นที่สูง").wait_for()
    assert await pending_panel.locator(".count").inner_text() == "2"
    await screenshot(page, "console-home-editor")

    await pending_panel.get_by_role("link", name="ข่าวรอตรวจ").click()
    await page.wait_for_url(f"{live_app}/console/queue")
    review = page.locator(f'[data-item="{doubtful.id}"]')
    await review.wait_for()
    await page.locator("#reject").click()  # no reason given
    error = page.locator("#e-reason")
    await error.wait_for()
    assert await error.inner_text() == "required"
    assert await page.locator("#f-reason").get_attribute("aria-invalid") == "true"
    await page.fill("#f-reason", "ข่าวซ้ำกับฉบับก่อน")
    await page.locator("#reject").click()
    await page.locator(f'[data-item="{good.id}"]').wait_for()  # the next item
    await page.locator('[data-province="TH-60"]').get_by_text("พบชื่อจังหวัดในเนื้อข่าว").wait_for()
    await screenshot(page, "console-queue")
    await page.locator("#approve").click()
    await page.locator("#queue-empty").wait_for()

    async with httpx.AsyncClient(base_url=live_app) as public:
        feed = (await public.get("/api/v1/news")).json()
    assert [entry["title"] for entry in feed["items"]] == [good.title]

    await page.get_by_role("link", name="แหล่งข่าว").first.click()
    await page.locator(f"#source-{source.id}").wait_for()
    await screenshot(page, "console-sources")

    await page.get_by_role("link", name="ตรวจแอป GAC").click()
    await page.locator(f'[data-listing="{listing.id}"]').wait_for()
    assert await page.locator('.links-checked li.ok[data-store="App Store"]').count() == 1
    await screenshot(page, "console-gac-review")
    await page.locator("#gac-approve").click()
    await page.get_by_text("เผยแพร่แล้ว").wait_for()
    assert (await reload_listing(listing)).status is ListingStatus.PUBLISHED
    async with httpx.AsyncClient(base_url=live_app) as public:
        assert (await public.get(f"/api/v1/apps/{listing.slug}")).status_code == 200

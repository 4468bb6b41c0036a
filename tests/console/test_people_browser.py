"""The agency, developer and admin consoles in a real browser: an agency user reads why an item
was rejected and cannot open another agency's source, creates an API key shown once; a developer
signs up, creates a listing and submits it; an admin looks at users and the audit log."""

from __future__ import annotations

from appcenter.models import AppListing, ListingStatus
from gnews.accounts.guards import principal_of
from gnews.news import service as news
from tests.support.api import PASSWORD
from tests.support.browser import screenshot
from tests.support.console import browser_sign_in
from tests.support.gac import make_agency
from tests.support.news import make_source, publish


async def _menu(page, name: str) -> None:
    await page.get_by_role("navigation").get_by_role("link", name=name, exact=True).click()
    await page.wait_for_load_state()


async def _sign_out(page) -> None:
    await page.locator("form[action='/console/sign-out'] button").click()
    await page.wait_for_url("**/console/sign-in**")


async def test_agency_developer_and_admin_journeys(live_app, page, make_user):
    staff = await make_user("agency", agency="dopa")
    await make_agency("moph")
    editor = await make_user("editor")
    admin = await make_user("admin")
    ours = await make_source("dopa-news", "dopa")
    theirs = await make_source("moph-news", "moph")
    item = await publish(ours, "ประกาศรับสมัครอาสาสมัคร", status="pending")
    await news.transition(item, "reject", principal_of(editor), "ภาพประกอบไม่มีสิทธิ์ใช้งาน")

    # -- agency: the rejection reason, and another agency's source is not found ---------------
    await browser_sign_in(page, live_app, staff)
    await _menu(page, "ข่าวของเรา")
    row = page.locator(f"tr[data-item='{item.id}']")
    await row.get_by_text("ภาพประกอบไม่มีสิทธิ์ใช้งาน").wait_for()
    assert "ไม่อนุมัติ" in await row.inner_text()
    await screenshot(page, "console-agency-items")
    await _menu(page, "แหล่งข่าวของเรา")
    await page.get_by_role("link", name="dopa-news").wait_for()
    assert await page.get_by_role("link", name="moph-news").count() == 0
    answer = await page.goto(f"{live_app}/console/agency/sources/{theirs.id}")
    assert answer.status == 404
    await page.get_by_role("heading", name="ไม่พบหน้านี้").wait_for()
    assert theirs.feed_url not in await page.content()
    # an API key, its secret shown once
    await page.goto(f"{live_app}/console/agency/keys")
    await page.fill("#f-name", "ระบบข่าวของกรม")
    await page.get_by_role("button", name="สร้างคีย์").click()
    secret = await page.locator("#secret").inner_text()
    assert secret.startswith("gnk_")
    await page.get_by_role("link", name="กลับไปที่รายการคีย์").click()
    await page.get_by_text("ระบบข่าวของกรม").wait_for()
    assert secret not in await page.content()
    await screenshot(page, "console-agency-keys")
    await _sign_out(page)

    # -- developer: sign up, a listing with a field error first, submit ----------------------
    await page.goto(f"{live_app}/console/register")
    await page.fill("#f-name", "นักพัฒนา")
    await page.fill("#f-email", "dev@example.org")
    await page.fill("#f-password", PASSWORD)
    await page.get_by_role("button", name="สมัคร").click()
    await page.wait_for_url("**/console/developer/listings**")
    await page.get_by_text("สมัครเรียบร้อย").wait_for()
    await page.get_by_role("link", name="+ เพิ่มแอป").click()
    await page.fill("#f-slug", "Bad Slug")
    await page.select_option("#f-agency", "dopa")
    await page.fill("#f-name_th", "ทะเบียนราษฎร์ออนไลน์")
    await page.fill("#f-description_th", "ตรวจสอบข้อมูลทะเบียนราษฎร์ของตนเอง")
    await page.fill("#f-web_url", "https://online.dopa.example.go.th/")
    await page.get_by_role("button", name="บันทึกฉบับร่าง").click()
    assert await page.locator("#f-slug").get_attribute("aria-invalid") == "true"
    await page.locator("#e-slug").wait_for()
    await page.fill("#f-slug", "dopa-online")
    await page.get_by_role("button", name="บันทึกฉบับร่าง").click()
    await page.get_by_text("บันทึกฉบับร่างแล้ว").wait_for()
    await page.locator("#submit-review").click()
    await page.get_by_text("ส่งตรวจแล้ว").wait_for()
    listing = await AppListing.find_one({"slug": "dopa-online"})
    assert listing.status is ListingStatus.IN_REVIEW
    await _menu(page, "แอปของฉัน")
    await page.locator(f"tr[data-listing='{listing.id}']").get_by_text("รอตรวจ").wait_for()
    await screenshot(page, "console-developer-listings")
    await _sign_out(page)

    # -- admin: users and the audit log (what the developer and the editor did) ---------------
    await browser_sign_in(page, live_app, admin)
    await _menu(page, "ผู้ใช้")
    await page.get_by_role("link", name="dev@example.org").wait_for()
    await screenshot(page, "console-admin-users")
    await _menu(page, "บันทึกการตรวจสอบ")
    await page.fill("#f-action", "news.reject")
    await page.get_by_role("button", name="กรอง").click()
    await page.locator("table.audit ins", has_text="ภาพประกอบไม่มีสิทธิ์ใช้งาน").wait_for()
    assert await page.locator("table.audit > tbody > tr").count() == 1
    await page.fill("#f-action", "")
    await page.get_by_role("button", name="กรอง").click()
    await page.locator("table.audit code", has_text="app.submit").wait_for()
    await screenshot(page, "console-admin-audit")

"""The console in a real browser: signing in, a field's error next to it, signing out."""

from __future__ import annotations

from tests.support.api import PASSWORD
from tests.support.browser import screenshot


async def test_sign_in_errors_next_to_fields_then_home_and_sign_out(live_app, page, make_user):
    editor = await make_user("editor")
    await page.goto(f"{live_app}/console/")
    assert "/console/sign-in" in page.url
    await page.fill("#f-email", editor.email)
    await page.click("button[type=submit]")
    error = page.locator("#e-password")
    assert await error.inner_text() == "required"
    # the message sits right after its field, and the field is marked invalid
    assert await page.locator("#f-password").get_attribute("aria-invalid") == "true"
    await screenshot(page, "console-sign-in-error")
    await page.fill("#f-password", PASSWORD)
    await page.click("button[type=submit]")
    await page.get_by_role("heading", name=editor.email).wait_for()
    await screenshot(page, "console-home")
    await page.click("text=English")
    await page.get_by_role("button", name="Sign out").click()
    await page.get_by_text("You are signed out.").wait_for()

"""The API docs work with no internet: Swagger UI's files are served by the application."""

from __future__ import annotations

from tests.support.browser import screenshot


async def test_swagger_ui_renders_the_api_from_local_files_only(live_app, page):
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))
    await page.goto(f"{live_app}/schema/swagger")
    await page.get_by_text("G-News / GAC API").first.wait_for()
    await page.locator(".opblock").first.wait_for()  # the operations are listed
    assert requested and all(url.startswith(live_app) for url in requested), requested
    await screenshot(page, "api-docs")

"""The issue's push journey in a real browser: an editor composes a push by clicking Nakhon
Sawan on the map, sees the audience count the preview API gives, sends it, and watches its page
reach ``done`` while the FCM and APNs emulators record exactly the Nakhon Sawan devices."""

from __future__ import annotations

import httpx

from tests.support.api import login
from tests.support.browser import screenshot
from tests.support.console import browser_sign_in
from tests.support.devices import register
from tests.support.push import apns_token, fcm_token
from tests.workers.fanout.conftest import (  # noqa: F401 (push_settings is a fixture)
    fast_transports,
    push_settings,
    received,
    running_worker,
)

DEVICES = [  # (platform, provinces)
    ("android", ["TH-60"]),
    ("ios", ["TH-60"]),
    ("android", ["TH-60", "TH-10"]),
    ("ios", ["TH-60"]),
    ("android", ["TH-10"]),
    ("ios", ["TH-73"]),
    ("android", []),
]


async def test_editor_sends_a_push_to_nakhon_sawan_from_the_map(
    live_app,
    page,
    client,
    make_user,
    emulators,
    push_settings,  # noqa: F811
):
    nakhon_sawan: set[str] = set()
    async with httpx.AsyncClient(base_url=live_app) as api:
        for n, (platform, provinces) in enumerate(DEVICES):
            token = fcm_token(n) if platform == "android" else apns_token(n)
            await register(api, platform=platform, push_token=token, provinces=provinces)
            if "TH-60" in provinces:
                nakhon_sawan.add(token)
        editor = await make_user("editor")
        preview = await api.post(
            "/api/v1/notifications/preview",
            json={"audience": {"provinces": ["TH-60"]}},
            headers=await login(api, editor),
        )
    expected_count = preview.json()["total"]
    assert expected_count == len(nakhon_sawan) == 4

    async with running_worker(push_settings, startup=fast_transports):
        await browser_sign_in(page, live_app, editor)
        await page.get_by_role("navigation").get_by_role("link", name="การแจ้งเตือน").click()
        await page.get_by_role("link", name="ส่งการแจ้งเตือนใหม่").click()
        await page.fill("#f-title_th", "น้ำท่วมนครสวรรค์")
        await page.fill("#f-body_th", "โปรดหลีกเลี่ยงถนนสายหลักริมแม่น้ำเจ้าพระยา")
        # the lock-screen previews follow the typing, with the characters left
        assert await page.locator(".phone.android [data-mock=title]").inner_text() == (
            "น้ำท่วมนครสวรรค์"
        )
        assert await page.locator(".phone.iphone [data-mock=body]").inner_text() == (
            "โปรดหลีกเลี่ยงถนนสายหลักริมแม่น้ำเจ้าพระยา"
        )
        assert "184" in await page.locator('[data-remaining="title_th"]').inner_text()
        nakhon = page.locator('[data-map-picker] path[data-province="TH-60"]')
        await nakhon.click()
        assert await nakhon.get_attribute("aria-checked") == "true"
        assert await page.locator('[data-province-box="TH-60"]').is_checked()
        total = page.locator(f'#audience-count [data-audience-total="{expected_count}"]')
        await total.wait_for()
        # the keyboard works too: Enter on Nakhon Pathom adds its one device, again removes it
        pathom = page.locator('[data-map-picker] path[data-province="TH-73"]')
        await pathom.focus()
        await page.keyboard.press("Enter")
        await page.locator('#audience-count [data-audience-total="5"]').wait_for()
        await page.keyboard.press("Enter")
        await total.wait_for()
        assert not await page.locator('[data-province-box="TH-73"]').is_checked()
        assert await page.locator("[data-chosen-provinces]").inner_text() == "นครสวรรค์"
        await screenshot(page, "console-push-compose")

        await page.get_by_role("button", name="ดำเนินการ").click()
        await page.wait_for_url(f"{live_app}/console/notifications/*")
        await page.locator('[data-status="done"]').wait_for(timeout=30_000)
        assert await page.locator('[data-figure="sent"]').inner_text() == str(expected_count)
        assert await page.locator('[data-figure="targeted"]').inner_text() == str(expected_count)
        # the map is coloured by devices sent to: Nakhon Sawan and (one device) Bangkok
        assert await page.locator('[data-province-row="TH-60"] td').nth(1).inner_text() == "4"
        fill = await page.locator('#delivery-map path[data-province="TH-60"]').evaluate(
            "p => getComputedStyle(p).fill"
        )
        assert fill != await page.locator('#delivery-map path[data-province="TH-50"]').evaluate(
            "p => getComputedStyle(p).fill"
        )
        await page.locator(".chart polyline.series").wait_for()
        await screenshot(page, "console-push-delivery")
        await page.get_by_role("link", name="English").click()
        await page.get_by_role("heading", name="Sent by province").wait_for()
        await page.get_by_role("link", name="All notifications").click()
        await page.locator("tr[data-notification] .status-done").wait_for()
        await screenshot(page, "console-push-list")

    got = received(emulators)
    assert set(got) == nakhon_sawan and set(got.values()) == {1}

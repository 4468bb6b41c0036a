"""Web Push in real Chromium: "notify me" on Nakhon Sawan's page subscribes the browser, and a
notification to the province reaches the push service, which decrypts it to the right text.

What is real: Chromium (Debian's, headless), the page, ``notify.js``, the service worker
``/sw.js``, the notification permission (granted the way a user's click grants it), the device
API, the notifications API, the arq worker, the ``web`` transport (pywebpush encryption, VAPID
JWT) and the Web Push service emulator, which checks the JWT and decrypts with the
subscription's private key.

What is replaced, and only this: ``PushManager.prototype.subscribe``. A real Chromium subscribes
at Google's push service (FCM), which cannot be reached offline; an init script makes
``subscribe`` fetch a subscription from the emulator's ``POST /subscriptions`` control route
(bound to the ``applicationServerKey`` the page passed, as a browser binds it) and return an
object with ``endpoint``, ``toJSON()`` and ``getKey()``. The emulator keeps the subscription's
private key and auth secret, the part a browser keeps.

The decrypted payload is then handed to the service worker through the DevTools protocol
(``ServiceWorker.deliverPushMessage``, what Chromium's push service would do), and the
notification the worker shows is read back with ``registration.getNotifications()``.
"""

from __future__ import annotations

import asyncio
import json
import time
from pathlib import Path
from typing import Any

import httpx
import pytest

from gnews.config import Settings
from gnews.jobs import PUSH_QUEUE
from tests.support.browser import screenshot
from tests.support.news import news_item
from tests.support.notifications import note
from tests.support.worker import running_worker

NOTIFY_ME = "แจ้งเตือนข่าวจังหวัดนี้"
# Replaces only PushManager.prototype.subscribe (see the module docstring).
SUBSCRIBE_AT_THE_EMULATOR = """
(() => {
  const control = %s;
  const toBase64url = (bytes) => btoa(String.fromCharCode(...new Uint8Array(bytes)))
    .replace(/\\+/g, "-").replace(/\\//g, "_").replace(/=+$/, "");
  const fromBase64url = (text) => {
    const base64 = text.replace(/-/g, "+").replace(/_/g, "/");
    const raw = atob(base64 + "=".repeat((4 - (base64.length %% 4)) %% 4));
    return Uint8Array.from(raw, (c) => c.charCodeAt(0)).buffer;
  };
  PushManager.prototype.subscribe = async function (options) {
    const key = options && options.applicationServerKey;
    const response = await fetch(control, {
      method: "POST",
      headers: { "Content-Type": "application/json" },
      body: JSON.stringify({ applicationServerKey: key ? toBase64url(key) : null }),
    });
    if (!response.ok) throw new DOMException("push service: " + response.status, "AbortError");
    const json = await response.json();
    return {
      endpoint: json.endpoint,
      expirationTime: null,
      options,
      toJSON: () => json,
      getKey: (name) => fromBase64url(json.keys[name]),
      unsubscribe: async () => true,
    };
  };
})();
"""


@pytest.fixture
def settings(settings: Settings, emulators) -> Settings:
    """The test's settings with the development VAPID key (the API serves its public half, the
    worker's ``web`` transport signs with it)."""
    env = emulators.webpush_env()
    return settings.model_copy(
        update={
            "webpush_vapid_key_file": Path(env["GNEWS_WEBPUSH_VAPID_KEY_FILE"]),
            "webpush_vapid_subject": env["GNEWS_WEBPUSH_VAPID_SUBJECT"],
        }
    )


async def eventually(check, timeout: float = 30.0) -> Any:
    """Poll ``check`` (async) until it returns something truthy."""
    deadline = time.monotonic() + timeout
    while not (result := await check()):
        if time.monotonic() > deadline:
            pytest.fail(f"not within {timeout} s")
        await asyncio.sleep(0.1)
    return result


async def test_a_browser_subscribes_on_the_province_page_and_gets_the_province_push(
    live_app, page, settings, emulators, auth_headers
):
    push = emulators.webpush
    context = page.context
    await context.grant_permissions(["notifications"], origin=live_app)
    await page.add_init_script(SUBSCRIBE_AT_THE_EMULATOR % json.dumps(f"{push.url}/subscriptions"))
    requested: list[str] = []
    page.on("request", lambda request: requested.append(request.url))

    await page.goto(f"{live_app}/provinces/TH-60")
    await page.get_by_role("button", name=NOTIFY_ME).click()
    notify = page.locator("[data-gnews-notify]")
    await page.wait_for_function(
        "document.querySelector('[data-gnews-notify]').dataset.state !== 'working' && "
        "document.querySelector('[data-gnews-notify]').dataset.state !== 'off'"
    )
    assert await notify.get_attribute("data-state") == "subscribed", await notify.get_attribute(
        "data-error"
    )
    await page.get_by_text("เบราว์เซอร์นี้จะแจ้งเตือนข่าวของจังหวัดนี้").wait_for()
    await screenshot(page, "web-push-subscribed")

    # The service worker is registered for the whole site.
    worker = await page.evaluate(
        "navigator.serviceWorker.getRegistration('/').then(r => r && r.active && "
        "{script: r.active.scriptURL, scope: r.scope})"
    )
    assert worker == {"script": f"{live_app}/sw.js", "scope": f"{live_app}/"}

    # The subscription is a device of platform web following Nakhon Sawan (read through the
    # device API with the secret the page kept).
    stored = json.loads(await page.evaluate("localStorage.getItem('gnews.webpush.device')"))
    async with httpx.AsyncClient(base_url=live_app) as http:
        device = await http.get(
            f"/api/v1/devices/{stored['id']}",
            headers={"Authorization": f"Device {stored['secret']}"},
        )
        assert device.status_code == 200, device.text
        assert (device.json()["platform"], device.json()["provinces"]) == ("web", ["TH-60"])
        endpoint = json.loads(device.json()["push_token"])["endpoint"]
        assert endpoint.startswith(f"{push.url}/push/")

        # A notification to the province, about a news item, through the API and the worker.
        item = await news_item()
        headers = await auth_headers("editor")
        created = await http.post(
            "/api/v1/notifications",
            json=note(
                title_th="นครสวรรค์: ระดับน้ำเจ้าพระยาสูงขึ้น",
                body_th="โปรดขนของขึ้นที่สูง ติดตามประกาศของจังหวัด",
                news_item_id=str(item.id),
            ),
            headers=headers,
        )
        assert created.status_code == 201, created.text
        notification_id = created.json()["id"]

        async def finished() -> dict | None:
            found = await http.get(f"/api/v1/notifications/{notification_id}", headers=headers)
            body = found.json()
            return body if body["status"] == "done" and body["stats"]["sent"] == 1 else None

        async with running_worker(settings, PUSH_QUEUE, poll_delay=0.05):
            await eventually(finished)

    # The push service received it and decrypted it to the Thai text.
    [received] = push.recorder.for_token(endpoint)
    assert received.payload["title"] == "นครสวรรค์: ระดับน้ำเจ้าพระยาสูงขึ้น"
    assert received.payload["body"] == "โปรดขนของขึ้นที่สูง ติดตามประกาศของจังหวัด"
    assert received.payload["notification_id"] == notification_id
    assert received.payload["data"]["news_item_id"] == str(item.id)
    assert received.headers["content-encoding"] == "aes128gcm"

    # Chromium's push service would now hand the payload to the service worker: do it through
    # DevTools, and read back the notification the worker shows.
    cdp = await context.new_cdp_session(page)
    registrations: list[dict] = []
    cdp.on(
        "ServiceWorker.workerRegistrationUpdated",
        lambda e: registrations.extend(e["registrations"]),
    )
    await cdp.send("ServiceWorker.enable")

    async def site_registration() -> list[dict]:
        return [r for r in registrations if r["scopeURL"] == f"{live_app}/" and not r["isDeleted"]]

    registration = await eventually(site_registration)

    async def delivered_and_shown() -> list[dict] | None:
        # A push handed over while the worker is still starting can be dropped, so it is handed
        # over again until shown (the notification id is its tag: a second one replaces it).
        await cdp.send(
            "ServiceWorker.deliverPushMessage",
            {
                "origin": live_app,
                "registrationId": registration[0]["registrationId"],
                "data": json.dumps(received.payload, ensure_ascii=False),
            },
        )
        deadline = time.monotonic() + 3
        while time.monotonic() < deadline:
            shown = await page.evaluate(
                "navigator.serviceWorker.ready.then(r => r.getNotifications()).then(list => "
                "list.map(n => ({title: n.title, body: n.body, tag: n.tag, url: n.data.url})))"
            )
            if shown:
                return shown
            await asyncio.sleep(0.1)
        return None

    shown = await eventually(delivered_and_shown, timeout=60)
    assert shown == [
        {
            "title": "นครสวรรค์: ระดับน้ำเจ้าพระยาสูงขึ้น",
            "body": "โปรดขนของขึ้นที่สูง ติดตามประกาศของจังหวัด",
            "tag": notification_id,
            "url": f"{live_app}/news/{item.id}",
        }
    ]
    # "Stop" on the same page: the province was the device's only one, so the device is
    # deactivated (its secret no longer works) and the page forgets it.
    await page.get_by_role("button", name="หยุดแจ้งเตือนจังหวัดนี้").click()
    await page.get_by_text("หยุดแจ้งเตือนข่าวของจังหวัดนี้แล้ว").wait_for()
    assert await notify.get_attribute("data-state") == "off"
    assert await page.evaluate("localStorage.getItem('gnews.webpush.device')") is None
    async with httpx.AsyncClient(base_url=live_app) as http:
        gone = await http.get(
            f"/api/v1/devices/{stored['id']}",
            headers={"Authorization": f"Device {stored['secret']}"},
        )
    assert gone.status_code == 404
    # Offline: the page loaded nothing from another host but the push service stand-in.
    assert all(url.startswith((live_app, push.url)) for url in requested), requested

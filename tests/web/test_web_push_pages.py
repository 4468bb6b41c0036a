"""What a browser fetches to subscribe to Web Push, over HTTP: the service worker at the site's
root, the VAPID public key (or 404 when Web Push is not configured), and the "notify me"
partial in Thai and English."""

from __future__ import annotations

import base64

import httpx
from cryptography.hazmat.primitives.asymmetric import ec
from py_vapid import Vapid02

from gnews.app import create_app
from gnews.config import Settings
from gnews.core.persistence import mongo_client
from gnews.geo.provinces import get_province
from gnews.plugins import build_plugin_manager
from gnews.web import template_config
from tests.support.api import serve_app


async def test_the_service_worker_is_served_from_the_root(client):
    response = await client.get("/sw.js")
    assert response.status_code == 200
    assert response.headers["content-type"] == "text/javascript; charset=utf-8"
    assert "no-cache" in response.headers["cache-control"]
    assert 'addEventListener("push"' in response.text
    assert 'addEventListener("notificationclick"' in response.text


async def test_without_a_vapid_key_the_key_endpoint_says_web_push_is_off(client):
    response = await client.get("/api/v1/push/web/key")
    assert response.status_code == 404
    assert "GNEWS_WEBPUSH_VAPID_KEY_FILE" in response.text


async def test_the_key_endpoint_serves_the_public_half_of_the_vapid_key(
    settings: Settings, tmp_path
):
    vapid = Vapid02()
    vapid.generate_keys()
    key_file = tmp_path / "vapid.pem"
    vapid.save_key(str(key_file))
    configured = settings.model_copy(update={"webpush_vapid_key_file": key_file})
    app = create_app(
        configured, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    async with serve_app(app) as http:
        response = await http.get("/api/v1/push/web/key")
    cleanup = mongo_client(settings.mongodb_uri or "")
    await cleanup.drop_database(settings.mongodb_db)
    await cleanup.close()
    assert response.status_code == 200
    body = response.json()
    assert body["platform"] == "web"
    raw = base64.urlsafe_b64decode(body["public_key"] + "==")
    public = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), raw)
    assert public == vapid.public_key
    assert "=" not in body["public_key"]


def test_the_notify_partial_speaks_thai_and_english():
    template = template_config().engine_instance.get_template("site/_notify.html")
    province = get_province("TH-60")
    thai = template.render(province=province, lang="th")
    english = template.render(province=province, lang="en")
    assert "แจ้งเตือนข่าวจังหวัดนี้" in thai and 'data-province="TH-60"' in thai
    assert "Notify me" in english and "แจ้งเตือน" not in english
    assert "/static/site/notify.js" in thai


async def test_a_web_device_registers_through_the_device_api(client: httpx.AsyncClient):
    refused = await client.post(
        "/api/v1/devices",
        json={"platform": "web", "push_token": '{"endpoint": "https://x.example/1"}'},
    )
    assert refused.status_code == 422
    assert "push_token" in refused.text and "keys" in refused.text

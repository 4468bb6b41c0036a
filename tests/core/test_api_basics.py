"""Provinces/regions endpoints, the one error shape, request ids, body limit, OpenAPI, health."""

from __future__ import annotations

import re

import pytest
from pydantic import ValidationError

from gnews.specs import NewsSourceSpec
from tests.support.api import assert_error


async def test_provinces_lists_all_77_with_nakhon_sawan(client):
    response = await client.get("/api/v1/provinces")
    assert response.status_code == 200
    provinces = response.json()
    assert len(provinces) == 77 and len({p["code"] for p in provinces}) == 77
    nakhon_sawan = next(p for p in provinces if p["code"] == "TH-60")
    assert nakhon_sawan["name_th"] == "นครสวรรค์" and nakhon_sawan["name_en"] == "Nakhon Sawan"
    assert "max-age" in response.headers["cache-control"]


async def test_regions_and_region_filter(client):
    regions = (await client.get("/api/v1/regions")).json()
    assert [r["code"] for r in regions] == [
        "north",
        "northeast",
        "central",
        "east",
        "west",
        "south",
    ]
    assert sum(len(r["provinces"]) for r in regions) == 77
    north = (await client.get("/api/v1/provinces", params={"region": "north"})).json()
    assert len(north) == 9 and all(p["region"] == "north" for p in north)
    assert_error(
        await client.get("/api/v1/provinces", params={"region": "moon"}), 422, field="region"
    )


async def test_one_province_and_unknown_code(client):
    assert (await client.get("/api/v1/provinces/th-60")).json()["code"] == "TH-60"
    error = assert_error(await client.get("/api/v1/provinces/TH-99"), 404)
    assert "TH-99" in error["message"]


def test_the_province_validator_names_the_unknown_code_and_field():
    good = {"slug": "news", "agency": "ega", "name": "n", "feed_url": "https://example.org/rss"}
    assert NewsSourceSpec(**good, provinces=["th-60"]).provinces == ["TH-60"]
    with pytest.raises(ValidationError) as caught:
        NewsSourceSpec(**good, provinces=["TH-60", "TH-99"])
    error = caught.value.errors()[0]
    assert error["loc"] == ("provinces", 1) and "TH-99" in error["msg"]


async def test_errors_share_one_shape_and_carry_the_request_id(client):
    not_found = await client.get("/api/v1/nothing-here")
    error = assert_error(not_found, 404)
    assert not_found.headers["x-request-id"] == error["request_id"]
    wrong_method = await client.put("/api/v1/provinces")
    assert_error(wrong_method, 405)
    malformed = await client.post(
        "/api/v1/auth/login", content=b"{not json", headers={"content-type": "application/json"}
    )
    assert malformed.status_code in (400, 422) and malformed.json()["error"]["request_id"]
    mine = await client.get("/api/v1/provinces/TH-99", headers={"X-Request-ID": "trace-123"})
    assert mine.headers["x-request-id"] == "trace-123"
    assert mine.json()["error"]["request_id"] == "trace-123"
    ok = await client.get("/health/live")
    assert len(ok.headers["x-request-id"]) == 32


async def test_oversized_bodies_are_refused_with_413(client, settings):
    body = b'{"email": "' + b"a" * (settings.max_request_body_bytes + 10) + b'"}'
    response = await client.post(
        "/api/v1/auth/login", content=body, headers={"content-type": "application/json"}
    )
    assert_error(response, 413)


async def test_openapi_document_and_ui(client):
    schema = (await client.get("/schema/openapi.json")).json()
    assert schema["info"]["title"] == "G-News / GAC API"
    assert "/api/v1/auth/login" in schema["paths"] and "/api/v1/provinces" in schema["paths"]
    assert "BearerToken" in schema["components"]["securitySchemes"]
    for path in ("/schema", "/schema/swagger"):
        ui = await client.get(path)
        assert ui.status_code == 200 and "<html" in ui.text.lower()
        # Offline: every script and stylesheet of the docs page is served by the application.
        assets = re.findall(r'(?:src|href)="([^"]+)"', ui.text)
        assert assets and all(url.startswith("/static/") for url in assets), assets
        for url in assets:
            assert (await client.get(url)).status_code == 200, url


async def test_health_endpoints(client):
    assert (await client.get("/health/live")).json()["status"] == "ok"
    ready = await client.get("/health/ready")
    assert ready.status_code == 200
    assert ready.json() == {"status": "ready", "checks": {"mongodb": "ok", "redis": "ok"}}

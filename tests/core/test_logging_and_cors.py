"""Structured logs (JSON lines with the request id in production) and configurable CORS."""

from __future__ import annotations

import json
import subprocess
import sys

from gnews.app import create_app
from gnews.plugins import build_plugin_manager
from tests.support.api import serve_app

LOG_SCRIPT = """
import asyncio, logging
from gnews.core.logs import configure_logging, request_context_middleware
configure_logging(json=True)

async def app(scope, receive, send):
    logging.getLogger("agency.plugin").warning("ข่าวจังหวัดนครสวรรค์")
    await send({"type": "http.response.start", "status": 204, "headers": []})
    await send({"type": "http.response.body", "body": b""})

async def main():
    sent = []
    async def send(message):
        sent.append(message)
    scope = {"type": "http", "method": "GET", "path": "/x",
             "headers": [(b"x-request-id", b"req-42")]}
    await request_context_middleware(app)(scope, None, send)
    print(dict(sent[0]["headers"])[b"x-request-id"].decode())

asyncio.run(main())
"""


def test_production_logs_are_json_lines_with_the_request_id():
    result = subprocess.run(
        [sys.executable, "-c", LOG_SCRIPT], capture_output=True, text=True, timeout=60
    )
    assert result.returncode == 0, result.stderr
    assert result.stdout.strip() == "req-42"
    lines = [json.loads(line) for line in result.stderr.strip().splitlines()]
    plugin_line = next(line for line in lines if line["logger"] == "agency.plugin")
    assert plugin_line["event"] == "ข่าวจังหวัดนครสวรรค์" and plugin_line["level"] == "warning"
    assert plugin_line["request_id"] == "req-42" and plugin_line["timestamp"].endswith("Z")
    access = next(line for line in lines if line["logger"] == "gnews.access")
    assert access["status"] == 204 and access["request_id"] == "req-42"


async def test_cors_allows_only_configured_origins(settings):
    settings = settings.model_copy(update={"cors_origins": ["https://gnews.go.th"]})
    app = create_app(
        settings, plugins=build_plugin_manager(entry_points=False), setup_logging=False
    )
    async with serve_app(app) as http:
        preflight = await http.options(
            "/api/v1/provinces",
            headers={"Origin": "https://gnews.go.th", "Access-Control-Request-Method": "GET"},
        )
        assert preflight.headers["access-control-allow-origin"] == "https://gnews.go.th"
        other = await http.get("/api/v1/provinces", headers={"Origin": "https://evil.example"})
        assert "access-control-allow-origin" not in other.headers


async def test_no_cors_headers_without_configuration(client):
    response = await client.get("/api/v1/provinces", headers={"Origin": "https://gnews.go.th"})
    assert "access-control-allow-origin" not in response.headers

"""Helpers of the tests that register devices through the API."""

from __future__ import annotations

from typing import Any

import httpx

from tests.support.push import fcm_token


def device_auth(secret: str) -> dict[str, str]:
    """Headers authenticating as the device whose secret this is."""
    return {"Authorization": f"Device {secret}"}


async def register(client: httpx.AsyncClient, **values: Any) -> dict[str, Any]:
    """Register a device (an android one with ``fcm_token()`` unless ``values`` say otherwise);
    its JSON, with ``id`` and ``secret``."""
    body = {"platform": "android", "push_token": fcm_token(), **values}
    response = await client.post("/api/v1/devices", json=body)
    assert response.status_code == 201, response.text
    return response.json()

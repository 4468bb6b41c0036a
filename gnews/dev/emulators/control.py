"""The emulators' control API (HTTP, on the FCM emulator's port): see what arrived, inject
failures, expire credentials. ``<name>`` is ``fcm`` or ``apns``.

- ``GET  /_emulator/<name>/received?limit=100&token=…``: counters and the last messages
- ``GET  /_emulator/<name>/faults``, ``POST /_emulator/<name>/faults`` (JSON, see
  :class:`gnews.dev.emulators.faults.Faults`): read or change the injected failures
- ``POST /_emulator/<name>/reset``: forget received messages and injected failures
- ``POST /_emulator/<name>/expire-credentials``: refuse the access tokens / JWTs issued so far
"""

from __future__ import annotations

import json
from typing import Any, Protocol

from aiohttp import web

from gnews.dev.emulators.faults import Faults, Recorder


class Emulator(Protocol):
    """What the control API needs of an emulator."""

    faults: Faults
    recorder: Recorder

    def reset(self) -> None:
        """Forget received messages and injected failures."""

    def expire_credentials(self) -> None:
        """Refuse every credential issued until now (clients must renew theirs)."""


def _json(value: Any, status: int = 200) -> web.Response:
    return web.json_response(value, status=status, dumps=lambda v: json.dumps(v, default=str))


def add_control_routes(app: web.Application, name: str, emulator: Emulator) -> None:
    """Serve the control API of ``emulator`` under ``/_emulator/<name>/`` on ``app``."""
    prefix = f"/_emulator/{name}"

    async def received(request: web.Request) -> web.Response:
        try:
            limit = int(request.query.get("limit", "100"))
        except ValueError:
            return _json({"error": "limit must be an integer"}, 400)
        body = emulator.recorder.as_json(limit)
        if token := request.query.get("token"):
            body["messages"] = [m for m in body["messages"] if m["token"] == token]
        return _json(body)

    async def get_faults(request: web.Request) -> web.Response:
        return _json(emulator.faults.as_json())

    async def set_faults(request: web.Request) -> web.Response:
        try:
            changes = await request.json()
            if not isinstance(changes, dict):
                raise ValueError("send a JSON object")
            emulator.faults.update(changes)
        except (ValueError, TypeError) as error:
            return _json({"error": str(error)}, 400)
        return _json(emulator.faults.as_json())

    async def reset(request: web.Request) -> web.Response:
        emulator.reset()
        return _json({"reset": name})

    async def expire(request: web.Request) -> web.Response:
        emulator.expire_credentials()
        return _json({"expired": name})

    app.router.add_get(f"{prefix}/received", received)
    app.router.add_get(f"{prefix}/faults", get_faults)
    app.router.add_post(f"{prefix}/faults", set_faults)
    app.router.add_post(f"{prefix}/reset", reset)
    app.router.add_post(f"{prefix}/expire-credentials", expire)

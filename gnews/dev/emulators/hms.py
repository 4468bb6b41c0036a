"""An HMS Push Kit emulator (aiohttp): Huawei's OAuth 2.0 token endpoint (client credentials) and
``POST /v1/{appId}/messages:send``, with the real answer shapes (``{"code", "msg",
"requestId"}``) and result codes.

It issues access tokens to the one client it knows (:data:`DEV_HMS_CLIENT_ID` and its secret
by default), refuses sends without a valid one (401 ``80200001``, or ``80200003`` for a token it
issued that has expired or was expired through the control API), checks the v1 message shape
(400 ``80100003`` / ``80100001``, ``80300008`` over 4 KB, ``80300010`` over 1000 tokens),
answers ``80100000`` with ``illegal_tokens`` when some tokens are unregistered (``Faults``) and
``80300007`` when all are, records each accepted token's message, and injects 429 / 500 / 503
with Retry-After. It runs on its own port, or inside the FCM emulator's application under
:data:`MOUNT` (``gnews dev``, the test suite); the control API is ``/_emulator/hms/…``.
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from typing import Any

from aiohttp import web

from gnews.dev.emulators.control import add_control_routes
from gnews.dev.emulators.faults import Faults, Recorder
from gnews.dev.emulators.server import HttpEmulator

MOUNT = "/hms"
"""Where the emulator's routes are, inside the FCM emulator's application."""
TOKEN_PATH = "/oauth2/v3/token"
DEV_HMS_APP_ID = "107000001"
DEV_HMS_CLIENT_ID = DEV_HMS_APP_ID  # Push Kit's client id is the app id unless told otherwise
DEV_HMS_CLIENT_SECRET = "gnews-dev-hms-client-secret"
MAX_TOKENS = 1000
MAX_MESSAGE_BYTES = 4096
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9+/=_:.-]{1,1024}$")
TTL_PATTERN = re.compile(r"^\d+(\.\d{1,9})?s$")
MESSAGE_FIELDS = {"data", "notification", "android", "apns", "webpush", "token", "topic",
                  "condition"}  # fmt: skip
CODES = {
    "80000000": "Success",
    "80100001": "Some request parameters are incorrect.",
    "80100003": "Incorrect message structure.",
    "80200001": "OAuth authentication error.",
    "80200003": "OAuth token expired.",
    "80300002": "The current app does not have the permission to send messages.",
    "80300007": "All tokens are invalid.",
    "80300008": "The message body size exceeds the default value.",
    "80300010": "The number of tokens in the message body exceeds the default value.",
    "81000001": "System internal error.",
}
INJECTED_CODE = "81000001"  # with HTTP 429 / 500 / 503 (the transport goes by the status)


def hms_env(base_url: str) -> dict[str, str]:
    """The GNEWS_HMS_* variables pointing the transport at an emulator at ``base_url`` (with the
    development client)."""
    return {
        "GNEWS_HMS_APP_ID": DEV_HMS_APP_ID,
        "GNEWS_HMS_CLIENT_ID": DEV_HMS_CLIENT_ID,
        "GNEWS_HMS_CLIENT_SECRET": DEV_HMS_CLIENT_SECRET,
        "GNEWS_HMS_TOKEN_ENDPOINT": f"{base_url}{TOKEN_PATH}",
        "GNEWS_HMS_PUSH_ENDPOINT": base_url,
    }


def answer(
    status: int, code: str, msg: str | None = None, headers: dict[str, str] | None = None
) -> web.Response:
    """A Push Kit answer: ``{"code", "msg", "requestId"}``."""
    body = {"code": code, "msg": msg or CODES.get(code, ""), "requestId": _request_id()}
    return web.Response(
        status=status, body=json.dumps(body).encode(), content_type="application/json",
        headers=headers,
    )  # fmt: skip


def _request_id() -> str:
    return f"{int(time.time() * 1000)}{secrets.randbelow(10**9):09d}"


class MessageError(ValueError):
    """The body is not a valid v1 send request; ``code`` is Push Kit's."""

    def __init__(self, text: str, code: str = "80100003", status: int = 400) -> None:
        super().__init__(text)
        self.code, self.status = code, status


def check_message(body: Any) -> tuple[list[str], dict[str, Any]]:
    """(tokens, message) of a v1 send body, or :class:`MessageError`."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise MessageError("message is required")
    if not isinstance(body.get("validate_only", False), bool):
        raise MessageError("validate_only must be a boolean", "80100001")
    message = body["message"]
    if unknown := sorted(message.keys() - MESSAGE_FIELDS):
        raise MessageError(f"unknown field message.{unknown[0]}")
    tokens = message.get("token")
    if not isinstance(tokens, list) or not tokens:
        raise MessageError("message.token must be a non-empty list", "80100001")
    if len(tokens) > MAX_TOKENS:
        raise MessageError(CODES["80300010"], "80300010")
    if not all(isinstance(token, str) and TOKEN_PATTERN.match(token) for token in tokens):
        raise MessageError("message.token holds a value that is not a token", "80100001")
    without_tokens = {key: value for key, value in message.items() if key != "token"}
    if len(json.dumps(without_tokens, ensure_ascii=False).encode()) > MAX_MESSAGE_BYTES:
        raise MessageError(CODES["80300008"], "80300008")
    if "data" in message and not isinstance(message["data"], str):
        raise MessageError("message.data must be a string", "80100001")
    notification = message.get("notification", {})
    if not isinstance(notification, dict):
        raise MessageError("message.notification must be an object")
    android = message.get("android", {})
    if not isinstance(android, dict):
        raise MessageError("message.android must be an object")
    if android.get("urgency", "NORMAL") not in ("HIGH", "NORMAL"):
        raise MessageError("message.android.urgency must be HIGH or NORMAL", "80100001")
    ttl = android.get("ttl")
    if ttl is not None and not (isinstance(ttl, str) and TTL_PATTERN.match(ttl)):
        raise MessageError("message.android.ttl must be like 86400s", "80100001")
    shown = android.get("notification", {})
    if not isinstance(shown, dict):
        raise MessageError("message.android.notification must be an object")
    if notification or shown:
        if not (notification.get("title") or shown.get("title")):
            raise MessageError("a notification needs a title", "80100001")
        if not (notification.get("body") or shown.get("body")):
            raise MessageError("a notification needs a body", "80100001")
        click = shown.get("click_action")
        if not isinstance(click, dict) or click.get("type") not in (1, 2, 3, 4):
            raise MessageError("android.notification.click_action.type must be 1 to 4", "80100001")
        if click["type"] == 1 and not (click.get("intent") or click.get("action")):
            raise MessageError("click_action type 1 needs intent or action", "80100001")
    return tokens, message


class HmsEmulator(HttpEmulator):
    """The emulator; ``async with HmsEmulator() as hms:`` or :meth:`start` / :meth:`stop`, or
    :meth:`mount` inside another emulator's application."""

    name = "hms"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        app_id: str = DEV_HMS_APP_ID,
        client_id: str = DEV_HMS_CLIENT_ID,
        client_secret: str = DEV_HMS_CLIENT_SECRET,
        token_ttl: int = 3600,
    ) -> None:
        self.host, self.port = host, port
        self.faults = faults or Faults()
        self.recorder = Recorder()
        self.app_id = app_id
        self.clients = {client_id: client_secret}
        self.token_ttl = token_ttl
        self.tokens_issued = 0
        self.base_url: str | None = None
        self._access_tokens: dict[str, float] = {}  # token -> expiry (epoch seconds)
        self._expired: set[str] = set()  # issued, then expired through the control API
        self.app = web.Application()
        self.app.router.add_post(TOKEN_PATH, self._token)
        self.app.router.add_post("/v1/{app_id}/messages:send", self._send)

    @property
    def url(self) -> str:
        """Base URL (``GNEWS_HMS_PUSH_ENDPOINT``)."""
        return self.base_url or f"http://{self.host}:{self.port}"

    def env(self) -> dict[str, str]:
        """The GNEWS_HMS_* variables pointing the transport here."""
        return hms_env(self.url)

    def mount(self, app: web.Application) -> None:
        """Serve under :data:`MOUNT` of ``app`` (before it starts), with the control API on
        ``app``; set :attr:`base_url` to ``app``'s URL + :data:`MOUNT` once it listens."""
        app.add_subapp(MOUNT, self.app)
        add_control_routes(app, self.name, self)

    def expire_credentials(self) -> None:
        """Expire the access tokens issued so far (sends with them get ``80200003``)."""
        self._expired |= set(self._access_tokens)
        self._access_tokens.clear()

    async def start(self) -> HmsEmulator:
        """Listen on its own port (a free one when ``port`` is 0), with its control API."""
        add_control_routes(self.app, self.name, self)
        return await super().start()

    # --- OAuth 2.0 client credentials ----------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != "client_credentials":
            return _oauth_error(400, 1102, "unsupported grant_type")
        client_id, secret = str(form.get("client_id", "")), str(form.get("client_secret", ""))
        if not client_id or not secret:
            return _oauth_error(400, 1102, "client_id and client_secret are required")
        known = self.clients.get(client_id)
        if known is None or not secrets.compare_digest(known, secret):
            return _oauth_error(401, 1101, "invalid client")
        token = "CgB6e3x9" + secrets.token_urlsafe(32)
        self._access_tokens[token] = time.time() + self.token_ttl
        self.tokens_issued += 1
        return web.json_response(
            {"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer"}
        )

    # --- messages:send --------------------------------------------------------------------------
    async def _send(self, request: web.Request) -> web.Response:
        self.recorder.request()
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        token = request.headers.get("Authorization", "").removeprefix("Bearer ")
        expiry = self._access_tokens.get(token)
        if expiry is None or expiry < time.time():
            code = "80200003" if (expiry is not None or token in self._expired) else "80200001"
            self.recorder.refuse(code)
            return answer(401, code)
        if request.match_info["app_id"] != self.app_id:
            self.recorder.refuse("80300002")
            return answer(403, "80300002")
        status = self.faults.injected_status()
        if status is not None:
            self.recorder.refuse(str(status))
            return answer(
                status,
                INJECTED_CODE,
                "flow control" if status in (429, 503) else None,
                headers={"Retry-After": str(self.faults.retry_after)},
            )
        try:
            body = json.loads(await request.read())
            tokens, message = check_message(body)
        except MessageError as error:
            self.recorder.refuse("invalid")
            return answer(error.status, error.code, str(error))
        except ValueError:
            self.recorder.refuse("invalid")
            return answer(400, "80100003", "the body is not JSON")
        illegal = [t for t in dict.fromkeys(tokens) if self.faults.is_unregistered(t)]
        accepted = [t for t in dict.fromkeys(tokens) if t not in illegal]
        if not accepted:
            self.recorder.refuse("80300007")
            return answer(400, "80300007")
        if not body.get("validate_only"):
            shown = {key: value for key, value in message.items() if key != "token"}
            for target in accepted:
                self.recorder.accept(target, shown, {"app_id": self.app_id})
        if illegal:
            self.recorder.refuse("80100000")
            detail = {"success": len(accepted), "failure": len(illegal), "illegal_tokens": illegal}
            return answer(200, "80100000", json.dumps(detail))
        return answer(200, "80000000")


def _oauth_error(status: int, error: int, description: str) -> web.Response:
    return web.json_response(
        {"error": error, "sub_error": 20001, "error_description": description}, status=status
    )

"""An FCM HTTP v1 emulator (aiohttp): the OAuth2 token endpoint of a service account and
``POST /v1/projects/{project}/messages:send``, with the real request checks and error bodies.

It issues access tokens for JWT-bearer grants (checking the service account's signature when
it knows its key), refuses requests without a valid one (401 ``UNAUTHENTICATED``), validates the
v1 message shape, records accepted messages and injects failures (:class:`Faults`).
"""

from __future__ import annotations

import asyncio
import json
import re
import secrets
import time
from typing import Any

import jwt
from aiohttp import web

from gnews.dev.emulators.control import add_control_routes
from gnews.dev.emulators.faults import Faults, Recorder
from gnews.dev.emulators.server import HttpEmulator

JWT_BEARER = "urn:ietf:params:oauth:grant-type:jwt-bearer"
MESSAGING_SCOPES = {
    "https://www.googleapis.com/auth/firebase.messaging",
    "https://www.googleapis.com/auth/cloud-platform",
}
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_:.\-]{1,4096}$")
TTL_PATTERN = re.compile(r"^\d+(\.\d{1,9})?s$")
BODY_FIELDS = {"message", "validate_only"}
MESSAGE_FIELDS = {
    "name", "data", "notification", "android", "webpush", "apns", "fcm_options",
    "token", "fid", "topic", "condition",
}  # fmt: skip
TARGETS = ("token", "fid", "topic", "condition")
STATUS_NAMES = {
    400: "INVALID_ARGUMENT",
    401: "UNAUTHENTICATED",
    403: "PERMISSION_DENIED",
    404: "NOT_FOUND",
    429: "RESOURCE_EXHAUSTED",
    500: "INTERNAL",
    503: "UNAVAILABLE",
}
FCM_CODES = {429: "QUOTA_EXCEEDED", 500: "INTERNAL", 503: "UNAVAILABLE"}
MESSAGES = {
    401: "Request had invalid authentication credentials. Expected OAuth 2 access token, login "
    "cookie or other valid authentication credential. See "
    "https://developers.google.com/identity/sign-in/web/devconsole-project.",
    404: "Requested entity was not found.",
    429: "Quota exceeded for quota metric 'Send requests' and limit 'Send requests per minute' "
    "of service 'fcm.googleapis.com'.",
    500: "Internal error encountered.",
    503: "The service is currently unavailable.",
}


def error_response(
    code: int,
    message: str | None = None,
    *,
    fcm_code: str | None = None,
    violations: list[dict[str, str]] | None = None,
    headers: dict[str, str] | None = None,
) -> web.Response:
    """An error in FCM v1's (Google API's) shape."""
    details: list[dict[str, Any]] = []
    if fcm_code:
        details.append({"@type": FCM_ERROR_TYPE, "errorCode": fcm_code})
    if violations:
        details.append(
            {"@type": "type.googleapis.com/google.rpc.BadRequest", "fieldViolations": violations}
        )
    error: dict[str, Any] = {
        "code": code,
        "message": message or MESSAGES.get(code, ""),
        "status": STATUS_NAMES.get(code, "UNKNOWN"),
    }
    if details:
        error["details"] = details
    return web.Response(
        status=code,
        body=json.dumps({"error": error}).encode(),
        content_type="application/json",
        headers=headers,
    )


class MessageError(ValueError):
    """The message does not have the v1 shape; the text is FCM's."""

    def __init__(self, text: str, field: str | None = None) -> None:
        super().__init__(text)
        self.field = field


def check_message(body: Any) -> tuple[str, str, dict[str, Any]]:
    """(target kind, target, message) of a v1 send body, or MessageError."""
    if not isinstance(body, dict) or not isinstance(body.get("message"), dict):
        raise MessageError("Invalid JSON payload received. Expected a 'message' object.")
    if unknown := sorted(body.keys() - BODY_FIELDS):
        raise MessageError(
            f'Invalid JSON payload received. Unknown name "{unknown[0]}": Cannot find field.'
        )
    message = body["message"]
    if unknown := sorted(message.keys() - MESSAGE_FIELDS):
        raise MessageError(
            f"Invalid JSON payload received. Unknown name \"{unknown[0]}\" at 'message': "
            "Cannot find field."
        )
    targets = [name for name in TARGETS if name in message]
    if len(targets) != 1:
        raise MessageError("Exactly one of token, fid, topic or condition must be set.")
    kind = targets[0]
    target = message[kind]
    if not isinstance(target, str) or not target:
        raise MessageError(f"Invalid value at 'message.{kind}'", f"message.{kind}")
    data = message.get("data", {})
    if not isinstance(data, dict) or not all(
        isinstance(k, str) and isinstance(v, str) for k, v in data.items()
    ):
        raise MessageError("Invalid value at 'message.data' (TYPE_STRING)", "message.data")
    android = message.get("android", {})
    if not isinstance(android, dict):
        raise MessageError("Invalid value at 'message.android'", "message.android")
    ttl = android.get("ttl")
    if ttl is not None and not (isinstance(ttl, str) and TTL_PATTERN.match(ttl)):
        raise MessageError(
            "Invalid value at 'message.android.ttl' (Duration)", "message.android.ttl"
        )
    priority = android.get("priority")
    if priority is not None and str(priority).lower() not in ("high", "normal"):
        raise MessageError(
            "Invalid value at 'message.android.priority'", "message.android.priority"
        )
    if kind in ("token", "fid") and not TOKEN_PATTERN.match(target):
        raise MessageError(
            "The registration token is not a valid FCM registration token", f"message.{kind}"
        )
    return kind, target, message


class FcmEmulator(HttpEmulator):
    """The emulator; ``async with FcmEmulator() as fcm:`` or :meth:`start` / :meth:`stop`."""

    name = "fcm"

    def __init__(
        self,
        *,
        host: str = "127.0.0.1",
        port: int = 0,
        faults: Faults | None = None,
        token_ttl: int = 3600,
    ) -> None:
        self.host, self.port = host, port
        self.faults = faults or Faults()
        self.recorder = Recorder()
        self.token_ttl = token_ttl
        self.tokens_issued = 0
        self._keys: dict[str, bytes] = {}  # service-account e-mail -> PEM public key
        self._access_tokens: dict[str, tuple[float, str]] = {}  # token -> (expiry, account)
        self._sequence = 0
        self.app = web.Application()
        self.app.router.add_post("/token", self._token)
        self.app.router.add_post("/v1/projects/{project}/messages:send", self._send)
        add_control_routes(self.app, self.name, self)

    @property
    def url(self) -> str:
        """Base URL (``GNEWS_FCM_ENDPOINT``)."""
        return f"http://{self.host}:{self.port}"

    @property
    def token_uri(self) -> str:
        """The OAuth2 token endpoint to write in a service-account file."""
        return f"{self.url}/token"

    def trust(self, client_email: str, public_key_pem: bytes) -> None:
        """Check JWT grants of this service account with its key (others are refused once any
        key is known; with none, any well-formed grant is accepted)."""
        self._keys[client_email] = public_key_pem

    def expire_credentials(self) -> None:
        """Refuse the access tokens issued so far (clients get 401 and must fetch new ones)."""
        self._access_tokens.clear()

    # --- OAuth2 ------------------------------------------------------------------------------
    async def _token(self, request: web.Request) -> web.Response:
        form = await request.post()
        if form.get("grant_type") != JWT_BEARER:
            return _oauth_error("unsupported_grant_type", "Invalid grant_type.")
        assertion = str(form.get("assertion", ""))
        try:
            claims = jwt.decode(assertion, options={"verify_signature": False})
            account = claims["iss"]
            if self._keys:
                if account not in self._keys:
                    return _oauth_error("invalid_grant", "Invalid JWT Signature.")
                jwt.decode(
                    assertion,
                    self._keys[account],
                    algorithms=["RS256"],
                    options={"verify_aud": False, "require": ["exp", "iat"]},
                )
        except (jwt.PyJWTError, KeyError):
            return _oauth_error("invalid_grant", "Invalid JWT Signature.")
        if not str(claims.get("aud", "")).endswith("/token"):
            return _oauth_error("invalid_grant", "Invalid JWT: aud is not the token endpoint.")
        if not MESSAGING_SCOPES & set(str(claims.get("scope", "")).split()):
            return _oauth_error("invalid_scope", "The scope does not allow sending messages.")
        token = "ya29.emulator-" + secrets.token_urlsafe(24)
        self._access_tokens[token] = (time.time() + self.token_ttl, account)
        self.tokens_issued += 1
        return web.json_response(
            {"access_token": token, "expires_in": self.token_ttl, "token_type": "Bearer"}
        )

    # --- messages:send ----------------------------------------------------------------------
    async def _send(self, request: web.Request) -> web.Response:
        self.recorder.request()
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        authorization = request.headers.get("Authorization", "")
        issued = self._access_tokens.get(authorization.removeprefix("Bearer "))
        if issued is None or issued[0] < time.time():
            self.recorder.refuse("401")
            return error_response(
                401, headers={"WWW-Authenticate": 'Bearer realm="https://accounts.google.com/"'}
            )
        status = self.faults.injected_status()
        if status is not None:
            self.recorder.refuse(str(status))
            return error_response(
                status,
                fcm_code=FCM_CODES[status],
                headers={"Retry-After": str(self.faults.retry_after)},
            )
        try:
            body = json.loads(await request.read())
            kind, target, message = check_message(body)
        except ValueError as error:
            self.recorder.refuse("invalid")
            field = getattr(error, "field", None)
            violations = [{"field": field, "description": str(error)}] if field else None
            return error_response(
                400, str(error), fcm_code="INVALID_ARGUMENT", violations=violations
            )
        if self.faults.is_unregistered(target):
            self.recorder.refuse("unregistered")
            return error_response(404, fcm_code="UNREGISTERED")
        project = request.match_info["project"]
        if not body.get("validate_only"):
            self.recorder.accept(target, message, {"project": project, "target": kind})
        self._sequence += 1
        name = f"projects/{project}/messages/0:{int(time.time() * 1e6)}%{self._sequence:016x}"
        return web.Response(
            body=json.dumps({"name": name}).encode(), content_type="application/json"
        )


def _oauth_error(error: str, description: str) -> web.Response:
    return web.json_response({"error": error, "error_description": description}, status=400)

"""A Web Push service emulator (aiohttp): it plays the browser vendor's push service (Google's
for Chrome, Mozilla's for Firefox) for the ``web`` transport and for a browser under test.

- ``POST /subscriptions`` (control; what a browser's ``pushManager.subscribe()`` gets from its
  vendor): mints a subscription, i.e. a P-256 key pair and a 16-byte auth secret of which it
  keeps the private parts, and answers the ``PushSubscription`` JSON ``{"endpoint":
  "http://127.0.0.1:<port>/push/<id>", "expirationTime": null, "keys": {"p256dh", "auth"}}``.
  The optional body ``{"applicationServerKey": <base64url>}`` binds the subscription to that
  VAPID key (RFC 8292 §3.2), as a browser does. CORS is open on this route, so a page's script
  can call it.
- ``DELETE /subscriptions/<id>``: the browser unsubscribed (pushes then get 410).
- ``POST /push/<id>`` (RFC 8030 §5): checks ``Authorization: vapid t=<jwt>, k=<key>`` (ES256
  signature by ``k``, ``aud`` = this service's origin, ``exp`` in the future and within 24 h,
  ``sub`` a mailto: or https: contact; ``k`` must be the key the subscription was bound to),
  ``TTL``, ``Urgency`` and ``Topic``, ``Content-Encoding: aes128gcm`` and the 4096-byte limit,
  then decrypts the body with the subscription's private key and auth secret (``http_ece``,
  RFC 8291) and records the plaintext. 201 with ``Location``; 404 for an unknown subscription,
  410 for one unsubscribed or listed in the faults' ``unregistered``; 401 / 403 / 400 / 413 /
  415 as the RFCs say; injected 429 / 503 with ``Retry-After``.

It records accepted messages (the decrypted JSON, keyed by endpoint) and serves the control API
of :mod:`gnews.dev.emulators.control` under ``/_emulator/webpush/``.
"""

from __future__ import annotations

import asyncio
import base64
import json
import re
import secrets
import time
import uuid
from dataclasses import dataclass
from typing import Any

import http_ece  # type: ignore[import-untyped]
import jwt
from aiohttp import web
from cryptography.hazmat.primitives.asymmetric import ec
from cryptography.hazmat.primitives.serialization import Encoding, PublicFormat

from gnews.dev.emulators.control import add_control_routes
from gnews.dev.emulators.faults import Faults, Recorder
from gnews.dev.emulators.server import HttpEmulator

MAX_PAYLOAD_BYTES = 4096  # RFC 8291 §4: what a push service must accept, encrypted
MAX_JWT_LIFETIME = 24 * 3600  # RFC 8292 §2
URGENCIES = frozenset({"very-low", "low", "normal", "high"})
TOPIC_PATTERN = re.compile(r"^[A-Za-z0-9_-]{1,32}$")
VAPID_PATTERN = re.compile(r"^vapid\s+(.+)$", re.IGNORECASE)
SUBJECT_PATTERN = re.compile(r"^(mailto:\S+@\S+|https://\S+)$")
CORS_HEADERS = {
    "Access-Control-Allow-Origin": "*",
    "Access-Control-Allow-Methods": "POST, DELETE, OPTIONS",
    "Access-Control-Allow-Headers": "Content-Type",
}


def b64url(data: bytes) -> str:
    """base64url without padding (how Web Push writes keys)."""
    return base64.urlsafe_b64encode(data).rstrip(b"=").decode()


def unb64url(text: str) -> bytes:
    """Decode base64url with or without padding."""
    return base64.urlsafe_b64decode(text + "=" * (-len(text) % 4))


def raw_public_key(key: ec.EllipticCurvePrivateKey) -> bytes:
    """The uncompressed P-256 point (65 bytes) of ``key``'s public half."""
    return key.public_key().public_bytes(Encoding.X962, PublicFormat.UncompressedPoint)


@dataclass(slots=True)
class Subscription:
    """One browser's subscription: the private parts only the browser would hold."""

    id: str
    endpoint: str
    private_key: ec.EllipticCurvePrivateKey
    auth_secret: bytes
    application_server_key: bytes | None  # the VAPID key it was bound to, if any
    active: bool = True

    def as_json(self) -> dict[str, Any]:
        """What ``PushSubscription.toJSON()`` returns."""
        return {
            "endpoint": self.endpoint,
            "expirationTime": None,
            "keys": {
                "p256dh": b64url(raw_public_key(self.private_key)),
                "auth": b64url(self.auth_secret),
            },
        }


class VapidError(ValueError):
    """The request's VAPID authorization is refused; ``status`` is 401 or 403."""

    def __init__(self, text: str, status: int = 401) -> None:
        super().__init__(text)
        self.status = status


class WebPushEmulator(HttpEmulator):
    """The emulator; ``async with WebPushEmulator() as push:`` or :meth:`start` / :meth:`stop`."""

    name = "webpush"

    def __init__(self, *, host: str = "127.0.0.1", port: int = 0, faults: Faults | None = None):
        self.host, self.port = host, port
        self.faults = faults or Faults()
        self.recorder = Recorder()
        self.subscriptions: dict[str, Subscription] = {}
        # Authorization header -> (JWT expiry, key): a JWT is verified once, as a push service
        # caches it, so the emulator costs little per message.
        self._verified: dict[str, tuple[float, bytes]] = {}
        self._revoked: set[str] = set()
        self.app = web.Application(client_max_size=64 * 1024)
        self.app.router.add_post("/subscriptions", self._subscribe)
        self.app.router.add_route("OPTIONS", "/subscriptions", self._preflight)
        self.app.router.add_delete("/subscriptions/{id}", self._unsubscribe)
        self.app.router.add_route("OPTIONS", "/subscriptions/{id}", self._preflight)
        self.app.router.add_post("/push/{id}", self._push)
        add_control_routes(self.app, self.name, self)

    @property
    def url(self) -> str:
        """Base URL, the ``aud`` VAPID JWTs must name."""
        return f"http://{self.host}:{self.port}"

    # --- what a browser does ----------------------------------------------------------------
    def subscribe(self, application_server_key: bytes | None = None) -> dict[str, Any]:
        """A new subscription (what ``pushManager.subscribe()`` returns), as JSON."""
        if application_server_key is not None:
            ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), application_server_key)
        subscription_id = secrets.token_urlsafe(24)
        subscription = Subscription(
            id=subscription_id,
            endpoint=f"{self.url}/push/{subscription_id}",
            private_key=ec.generate_private_key(ec.SECP256R1()),
            auth_secret=secrets.token_bytes(16),
            application_server_key=application_server_key,
        )
        self.subscriptions[subscription_id] = subscription
        return subscription.as_json()

    def unsubscribe(self, endpoint_or_id: str) -> bool:
        """The browser unsubscribed: later pushes get 410. False when unknown."""
        subscription = self.subscriptions.get(endpoint_or_id.rsplit("/", 1)[-1])
        if subscription is None:
            return False
        subscription.active = False
        return True

    def expire_credentials(self) -> None:
        """Refuse the VAPID JWTs seen so far (401): the transport must sign new ones."""
        self._revoked.update(self._verified)
        self._verified.clear()

    # --- control routes ---------------------------------------------------------------------
    async def _preflight(self, request: web.Request) -> web.Response:
        return web.Response(status=204, headers=CORS_HEADERS)

    async def _subscribe(self, request: web.Request) -> web.Response:
        key = None
        if request.can_read_body:
            try:
                body = await request.json()
                if body is not None and not isinstance(body, dict):
                    raise ValueError("send a JSON object")
                if body and body.get("applicationServerKey"):
                    key = unb64url(str(body["applicationServerKey"]))
                subscription = self.subscribe(key)
            except ValueError as error:
                return web.json_response({"error": str(error)}, status=400, headers=CORS_HEADERS)
        else:
            subscription = self.subscribe()
        return web.json_response(subscription, status=201, headers=CORS_HEADERS)

    async def _unsubscribe(self, request: web.Request) -> web.Response:
        found = self.unsubscribe(request.match_info["id"])
        return web.Response(status=204 if found else 404, headers=CORS_HEADERS)

    # --- RFC 8030 push ----------------------------------------------------------------------
    def _check_vapid(self, authorization: str, subscription: Subscription) -> None:
        """Raise :class:`VapidError` unless ``authorization`` is a valid VAPID header for a
        push to ``subscription`` at this service."""
        if authorization in self._revoked:
            raise VapidError("the VAPID JWT was revoked")
        now = time.time()
        cached = self._verified.get(authorization)
        if cached is not None and cached[0] > now:
            key = cached[1]
        else:
            match = VAPID_PATTERN.match(authorization.strip())
            if match is None:
                raise VapidError("missing or non-VAPID Authorization")
            params = {}
            for part in match.group(1).split(","):
                name, _, value = part.strip().partition("=")
                params[name.strip().lower()] = value.strip()
            if not params.get("t") or not params.get("k"):
                raise VapidError("the vapid Authorization needs t= and k=")
            try:
                key = unb64url(params["k"])
                public_key = ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), key)
                claims = jwt.decode(
                    params["t"],
                    public_key,
                    algorithms=["ES256"],
                    audience=self.url,
                    options={"require": ["aud", "exp", "sub"]},
                )
            except jwt.ExpiredSignatureError:
                raise VapidError("the VAPID JWT has expired") from None
            except (jwt.PyJWTError, ValueError) as error:
                raise VapidError(f"bad VAPID JWT: {error}") from None
            if claims["exp"] - now > MAX_JWT_LIFETIME:
                raise VapidError("the VAPID JWT expires more than 24 hours from now")
            if not SUBJECT_PATTERN.match(str(claims["sub"])):
                raise VapidError("the VAPID sub must be a mailto: or https: contact")
            self._verified[authorization] = (float(claims["exp"]), key)
        if subscription.application_server_key not in (None, key):
            raise VapidError("the VAPID key is not the one the subscription was made with", 403)

    async def _push(self, request: web.Request) -> web.Response:
        self.recorder.request()
        if self.faults.latency:
            await asyncio.sleep(self.faults.latency)
        subscription = self.subscriptions.get(request.match_info["id"])
        if subscription is None:
            self.recorder.refuse("404")
            return _error(404, "no such subscription")
        if not subscription.active or self.faults.is_unregistered(subscription.endpoint):
            self.recorder.refuse("unregistered")
            return _error(410, "the subscription has expired or was unsubscribed")
        try:
            self._check_vapid(request.headers.get("Authorization", ""), subscription)
        except VapidError as error:
            self.recorder.refuse(str(error.status))
            return _error(error.status, str(error))
        status = self.faults.injected_status()
        if status is not None:
            self.recorder.refuse(str(status))
            return _error(status, "try again later", {"Retry-After": str(self.faults.retry_after)})
        headers, problem = _check_headers(request)
        if problem is not None:
            self.recorder.refuse(str(problem[0]))
            return _error(*problem)
        body = await request.read()
        if len(body) > MAX_PAYLOAD_BYTES:
            self.recorder.refuse("413")
            return _error(413, f"payload of {len(body)} bytes; at most {MAX_PAYLOAD_BYTES}")
        payload: dict[str, Any] = {}
        if body:
            if headers.get("content-encoding") != "aes128gcm":
                self.recorder.refuse("415")
                return _error(415, "Content-Encoding must be aes128gcm (RFC 8291)")
            try:
                plaintext = http_ece.decrypt(
                    body,
                    private_key=subscription.private_key,
                    auth_secret=subscription.auth_secret,
                    version="aes128gcm",
                )
            except Exception as error:  # http_ece raises ECEException and cryptography's errors
                self.recorder.refuse("undecryptable")
                return _error(400, f"cannot decrypt the payload: {error!r}")
            payload = _as_payload(plaintext)
        self.recorder.accept(subscription.endpoint, payload, headers)
        return web.Response(
            status=201,
            headers={"Location": f"{self.url}/message/{uuid.uuid4().hex}", "TTL": headers["ttl"]},
        )


def _check_headers(
    request: web.Request,
) -> tuple[dict[str, str], tuple[int, str] | None]:
    """The RFC 8030 headers of a push, or the error to answer."""
    headers = {
        name: request.headers[name]
        for name in ("TTL", "Urgency", "Topic", "Content-Encoding")
        if name in request.headers
    }
    headers = {name.lower(): value for name, value in headers.items()}
    ttl = headers.get("ttl", "")
    if not ttl.isdigit():
        return headers, (400, "a TTL header (seconds) is required (RFC 8030 §5.2)")
    if headers.get("urgency", "normal") not in URGENCIES:
        return headers, (400, "Urgency must be very-low, low, normal or high (RFC 8030 §5.3)")
    if "topic" in headers and not TOPIC_PATTERN.match(headers["topic"]):
        return headers, (400, "Topic: at most 32 base64url characters (RFC 8030 §5.4)")
    return headers, None


def _as_payload(plaintext: bytes) -> dict[str, Any]:
    """The decrypted message: its JSON object, else ``{"text": …}``."""
    try:
        value = json.loads(plaintext)
    except ValueError:
        return {"text": plaintext.decode("utf-8", "replace")}
    return value if isinstance(value, dict) else {"value": value}


def _error(status: int, message: str, headers: dict[str, str] | None = None) -> web.Response:
    return web.json_response(
        {"code": status, "message": message},
        status=status,
        headers=headers,
    )

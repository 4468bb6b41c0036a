"""iOS push through APNs over HTTP/2 with token-based authentication (.p8 key, ES256 JWT).

Why not ``aioapns``: it hard-codes Apple's host names and port 443 on its protocol classes (an
emulator is reachable only by subclassing its internals or through an HTTP CONNECT proxy), has no
per-request time-out, and hides the response headers (no Retry-After). Why not ``apns2``: it needs
the abandoned ``hyper`` and does not import on Python >= 3.10. httpx speaks HTTP/2 but is slow
with many requests in flight. So this is a small client on ``h2`` (:mod:`workers.push.http.http2`):
the JWT is signed with PyJWT + cryptography and renewed every 50 minutes (Apple refuses tokens
older than an hour and more than one new token per 20 minutes). See ``docs/push.md``.
"""

from __future__ import annotations

import asyncio
import json
import ssl
import time
from pathlib import Path

import jwt
import structlog
from hpack import NeverIndexedHeaderTuple

from gnews.notifications.message import apns_payload
from gnews.specs import PushMessage, PushOutcome
from workers.push.http.http2 import Http2Error, Http2Pool
from workers.push.retry import Attempt, PauseGate, RetryPolicy, deliver, parse_retry_after

log = structlog.get_logger(__name__)

DEFAULT_ENDPOINT = "https://api.push.apple.com"
SANDBOX_ENDPOINT = "https://api.sandbox.push.apple.com"
JWT_LIFETIME_SECONDS = 50 * 60
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
INVALID_TOKEN_REASONS = frozenset(
    {"BadDeviceToken", "Unregistered", "ExpiredToken", "DeviceTokenNotForTopic"}
)


def classify(status: int, body: bytes, headers: dict[str, str]) -> Attempt:
    """Map an APNs response to sent / invalid_token / failed / retry."""
    if status == 200:
        return Attempt("sent")
    try:
        reason = json.loads(body).get("reason") or str(status)
    except (ValueError, AttributeError):
        reason = str(status)
    if status in TRANSIENT_STATUSES and reason != "TooManyProviderTokenUpdates":
        return Attempt("retry", reason, parse_retry_after(headers.get("retry-after")))
    if reason in INVALID_TOKEN_REASONS or status == 410:
        return Attempt("invalid_token", reason)
    return Attempt("failed", reason)


class ProviderToken:
    """The ES256 JWT APNs authenticates with, renewed before Apple's one-hour limit."""

    def __init__(self, key: str, key_id: str, team_id: str) -> None:
        self._key, self.key_id, self.team_id = key, key_id, team_id
        self._token = ""
        self._issued_at = 0.0
        self.renewals = 0

    def current(self) -> str:
        """The token to send now."""
        if time.time() - self._issued_at >= JWT_LIFETIME_SECONDS:
            self.renew()
        return self._token

    def renew(self, *, stale: str | None = None) -> None:
        """Sign a new token (when ``stale`` is given, only if it is still the current one)."""
        if stale is not None and stale != self._token:
            return
        self._issued_at = time.time()
        self._token = jwt.encode(
            {"iss": self.team_id, "iat": int(self._issued_at)},
            self._key,
            algorithm="ES256",
            headers={"kid": self.key_id},
        )
        self.renewals += 1


class ApnsTransport:
    """Sends to iOS devices through APNs (``platform = "ios"``)."""

    platform = "ios"

    def __init__(
        self,
        key_file: str | Path,
        key_id: str,
        team_id: str,
        topic: str,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        ssl_context: ssl.SSLContext | None = None,
        policy: RetryPolicy | None = None,
        max_connections: int = 4,
        timeout: float = 10.0,
    ) -> None:
        self.topic = topic
        self.policy = policy or RetryPolicy()
        self.provider_token = ProviderToken(Path(key_file).read_text(), key_id, team_id)
        self.provider_token.current()  # a bad key fails here, at start-up
        self._endpoint = endpoint
        self._ssl_context = ssl_context
        self._max_connections = max_connections
        self._timeout = timeout
        self._pool: Http2Pool | None = None
        self._gate = PauseGate()

    async def send(self, message: PushMessage, tokens: list[str]) -> list[PushOutcome]:
        """Send ``message`` to each token (at most 500); one outcome per token, in order."""
        if not tokens:
            return []
        pool = self._client()
        body = apns_payload(message)
        expiration = int(time.time()) + message.ttl_seconds if message.ttl_seconds else 0
        static_headers = [
            (b"apns-topic", self.topic.encode()),
            (b"apns-push-type", b"alert"),
            (b"apns-priority", b"10" if message.priority == "high" else b"5"),
            (b"apns-expiration", str(expiration).encode()),
            (b"apns-collapse-id", message.notification_id.encode()),
            (b"content-type", b"application/json"),
        ]

        async def attempt_once(token: str) -> Attempt:
            if not (token.isascii() and token.isalnum()):  # would not even make a valid path
                return Attempt("invalid_token", "BadDeviceToken")
            provider_token = self.provider_token.current()
            headers = [(b"authorization", b"bearer " + provider_token.encode()), *static_headers]
            # The path differs on every request: never index it (it would evict the rest of
            # HPACK's table). apns-id is left to APNs, which then makes one.
            path = NeverIndexedHeaderTuple(b":path", b"/3/device/" + token.encode())
            try:
                response = await pool.request(b"POST", path, headers, body, timeout=self._timeout)
            except Http2Error as error:
                return Attempt("retry", str(error))
            result = classify(response.status, response.body, response.headers)
            if result.reason == "ExpiredProviderToken":
                self.provider_token.renew(stale=provider_token)
                return Attempt("retry", result.reason)
            return result

        return list(
            await asyncio.gather(
                *(deliver(token, attempt_once, self.policy, self._gate) for token in tokens)
            )
        )

    def _client(self) -> Http2Pool:
        if self._pool is None:
            self._pool = Http2Pool(
                self._endpoint, ssl_context=self._ssl_context, max_connections=self._max_connections
            )
        return self._pool

    async def aclose(self) -> None:
        """Close the HTTP/2 connections."""
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

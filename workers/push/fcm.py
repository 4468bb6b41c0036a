"""Android push through FCM HTTP v1: firebase-admin's message model, encoder and credentials,
sent with a lean HTTP/1.1 keep-alive client (:mod:`workers.push.http.http1`).

Why not firebase-admin's own ``messaging.send_each_async``: it sends through httpx, which is slow
with hundreds of requests in flight, and refreshes its access token with blocking calls inside
its async path. Why not aiohttp: it is ~10× faster than httpx but still short of FCM's default
quota (10,000 messages/s) on the 2-core CI machine; the lean client reaches it
(``bench/push_transports.py``; the figures that decided it are in ``docs/push.md``). Everything
else is firebase-admin's: ``messaging.Message`` and its JSON encoder (``str(message)``), and the
service-account credentials (``credentials.Certificate``), whose OAuth2 access token google-auth
fetches from the file's ``token_uri`` and refreshes before it expires.

Throughput is about ``max_connections`` / round-trip time: 500 connections at 50 ms to Google
allow 10,000 requests/s.
"""

from __future__ import annotations

import asyncio
import json
import time
import uuid
from datetime import UTC, datetime
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit

import google.auth.exceptions
import google.auth.transport.requests
import structlog
from firebase_admin import credentials, messaging

from gnews.specs import PushMessage, PushOutcome
from workers.push.http.http1 import Http1Error, Http1Pool
from workers.push.retry import Attempt, PauseGate, RetryPolicy, deliver, parse_retry_after

log = structlog.get_logger(__name__)

DEFAULT_ENDPOINT = "https://fcm.googleapis.com"
FCM_ERROR_TYPE = "type.googleapis.com/google.firebase.fcm.v1.FcmError"
BAD_REQUEST_TYPE = "type.googleapis.com/google.rpc.BadRequest"
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
# Token errors after which the token will never work for this project: deactivate the device.
INVALID_TOKEN_CODES = frozenset({"UNREGISTERED", "SENDER_ID_MISMATCH"})
TARGET_FIELDS = frozenset({"message.token", "message.fid"})
STATIC_HEADERS = (
    b"Content-Type: application/json; charset=UTF-8\r\n"
    b"X-GOOG-API-FORMAT-VERSION: 2\r\n"
    b"User-Agent: gnews-push\r\n"
)
REFRESH_MARGIN = 300  # seconds before the access token's expiry when a new one is fetched


def build_message(message: PushMessage, token: str) -> messaging.Message:
    """The firebase-admin message for one device (``fid``: firebase-admin 7 deprecates
    ``token``; both name the app instance's registration)."""
    data = dict(message.data)
    data["notification_id"] = message.notification_id
    if message.deep_link:
        data["deep_link"] = message.deep_link
    image = str(message.image_url) if message.image_url else None
    return messaging.Message(
        fid=token,
        data=data,
        notification=messaging.Notification(title=message.title, body=message.body, image=image),
        android=messaging.AndroidConfig(
            collapse_key=message.notification_id,
            priority=message.priority,
            ttl=message.ttl_seconds,
            # The tag replaces a notification already shown with the same id.
            notification=messaging.AndroidNotification(tag=message.notification_id),
        ),
    )


class RequestTemplate:
    """The request body of a batch, encoded once by firebase-admin's encoder.

    Every body of a batch differs only in the target, so the message is encoded once with a
    unique placeholder target and each token is spliced in JSON-escaped: the bytes are exactly
    those the encoder makes for ``Message(fid=token)``, at a fraction of the cost.
    """

    def __init__(self, message: PushMessage) -> None:
        placeholder = f"gnews-{uuid.uuid4().hex}"
        text = '{"message":' + str(build_message(message, placeholder)) + "}"
        head, tail = text.split(json.dumps(placeholder))
        self._head, self._tail = head.encode(), tail.encode()

    def body(self, token: str) -> bytes:
        """The JSON body sending the message to ``token``."""
        return self._head + json.dumps(token).encode() + self._tail


def classify(status: int, body: bytes, headers: dict[str, str]) -> Attempt:
    """Map an FCM v1 response to sent / invalid_token / failed / retry."""
    if status == 200:
        return Attempt("sent")
    error = _error_of(body)
    code = error.get("status") or str(status)
    for detail in error.get("details") or []:
        if detail.get("@type") == FCM_ERROR_TYPE and detail.get("errorCode"):
            code = detail["errorCode"]
    reason = f"{code}: {error.get('message', '')}".rstrip(": ")
    if status in TRANSIENT_STATUSES:
        return Attempt("retry", reason, parse_retry_after(headers.get("retry-after")))
    if code in INVALID_TOKEN_CODES:
        return Attempt("invalid_token", reason)
    if code == "INVALID_ARGUMENT" and _token_is_blamed(error):
        return Attempt("invalid_token", reason)
    return Attempt("failed", reason)


def _error_of(body: bytes) -> dict[str, Any]:
    try:
        error = json.loads(body).get("error")
    except (ValueError, AttributeError):
        return {}
    return error if isinstance(error, dict) else {}


def _token_is_blamed(error: dict[str, Any]) -> bool:
    """INVALID_ARGUMENT is about the token (not, say, an oversized payload)."""
    for detail in error.get("details") or []:
        if detail.get("@type") == BAD_REQUEST_TYPE:
            fields = {v.get("field") for v in detail.get("fieldViolations") or []}
            if fields & TARGET_FIELDS:
                return True
    return "registration token" in (error.get("message") or "").lower()


class FcmTransport:
    """Sends to Android devices through FCM HTTP v1 (``platform = "android"``)."""

    platform = "android"

    def __init__(
        self,
        credentials_file: str | Path,
        *,
        endpoint: str = DEFAULT_ENDPOINT,
        policy: RetryPolicy | None = None,
        max_connections: int = 500,
        timeout: float = 10.0,
    ) -> None:
        certificate = credentials.Certificate(str(credentials_file))
        if not certificate.project_id:
            raise ValueError(f"{credentials_file}: the service-account file has no project_id")
        self.project_id: str = certificate.project_id
        self.url = f"{endpoint.rstrip('/')}/v1/projects/{self.project_id}/messages:send"
        self._endpoint = endpoint
        self._path = urlsplit(self.url).path.encode()
        self.policy = policy or RetryPolicy()
        self._credential = certificate.get_credential()
        self._max_connections = max_connections
        self._timeout = timeout
        self._pool: Http1Pool | None = None
        self._refresh_lock = asyncio.Lock()
        self._gate = PauseGate()
        self._token: str | None = None
        self._token_deadline = 0.0
        self.token_refreshes = 0

    async def send(self, message: PushMessage, tokens: list[str]) -> list[PushOutcome]:
        """Send ``message`` to each token (at most 500); one outcome per token, in order."""
        if not tokens:
            return []
        template = RequestTemplate(message)
        pool = self._client()
        path = self._path
        headers_for: dict[str, bytes] = {}  # access token -> header lines

        async def attempt_once(token: str) -> Attempt:
            try:
                access_token = await self._access_token()
            except google.auth.exceptions.GoogleAuthError as error:
                retryable = error.retryable or isinstance(
                    error, google.auth.exceptions.TransportError
                )
                return Attempt("retry" if retryable else "failed", f"credentials: {error}")
            headers = headers_for.get(access_token)
            if headers is None:
                headers = headers_for[access_token] = (
                    f"Authorization: Bearer {access_token}\r\n".encode() + STATIC_HEADERS
                )
            try:
                response = await pool.request(
                    b"POST", path, headers, template.body(token), timeout=self._timeout
                )
            except Http1Error as error:
                return Attempt("retry", str(error))
            if response.status == 401:  # expired or revoked access token: fetch a new one
                await self._access_token(stale=access_token)
                return Attempt("retry", "UNAUTHENTICATED")
            return classify(response.status, response.body, response.headers)

        return list(
            await asyncio.gather(
                *(deliver(token, attempt_once, self.policy, self._gate) for token in tokens)
            )
        )

    def _client(self) -> Http1Pool:
        if self._pool is None:
            self._pool = Http1Pool(self._endpoint, max_connections=self._max_connections)
        return self._pool

    async def _access_token(self, *, stale: str | None = None) -> str:
        """A valid OAuth2 access token; ``stale`` (refused by FCM) forces a refresh once."""
        # Checked per request: a monotonic deadline is much cheaper than google-auth's `valid`.
        if self._token and self._token != stale and time.monotonic() < self._token_deadline:
            return self._token
        async with self._refresh_lock:  # one refresh for all the requests waiting on it
            if self._token and self._token != stale and time.monotonic() < self._token_deadline:
                return self._token  # refreshed while this one waited
            credential = self._credential
            request = google.auth.transport.requests.Request()
            await asyncio.to_thread(credential.refresh, request)  # google-auth is synchronous
            self.token_refreshes += 1
            log.debug("fcm access token refreshed", project=self.project_id)
            lifetime = (credential.expiry.replace(tzinfo=UTC) - datetime.now(UTC)).total_seconds()
            margin = min(REFRESH_MARGIN, lifetime / 2)
            self._token_deadline = time.monotonic() + lifetime - margin
            self._token = credential.token
            return credential.token

    async def aclose(self) -> None:
        """Close the connections."""
        if self._pool is not None:
            await self._pool.aclose()
            self._pool = None

"""Huawei devices through HMS Push Kit (platform ``huawei``): the platform's declaration and, when
``GNEWS_HMS_*`` is configured, its transport. A built-in plugin (``gnews.plugins.DEFAULT_PLUGINS``)
through the same hooks as any other; the API imports this module for the declaration only (the
HTTP client is created on the first send).

Protocol (Push Kit server API v1):

* OAuth 2.0 client credentials: ``POST {token endpoint}`` (form ``grant_type=client_credentials``,
  ``client_id``, ``client_secret``) answers ``{"access_token", "expires_in", "token_type"}``. The
  token is cached until :data:`REFRESH_MARGIN` before it expires, and fetched again at once
  when Push Kit answers that it expired (``80200003``) or is not accepted (``80200001``).
* ``POST {push endpoint}/v1/{appId}/messages:send`` with ``Authorization: Bearer …`` and
  ``{"validate_only": false, "message": {…, "token": [up to 1000 tokens]}}``; the answer is
  ``{"code", "msg", "requestId"}``.

Result codes, mapped in :func:`classify` (the one place):

* ``80000000`` success: every token ``sent``.
* ``80100000`` some tokens are illegal: ``msg`` is a JSON string ``{"success", "failure",
  "illegal_tokens": [...]}``; those tokens are ``invalid_token`` (the device is deactivated, as
  for FCM's ``UNREGISTERED``), the others ``sent``.
* ``80300007`` all tokens are invalid: every token ``invalid_token``.
* ``80200003`` OAuth token expired, ``80200001`` OAuth authentication error: a new access token,
  then the request again (within the retry budget).
* HTTP 429, 5xx (500 internal error, 502, 503 flow control, 504) and ``81000001`` system inner
  error: retried with back-off and jitter, honouring Retry-After (:mod:`workers.push.retry`;
  a Retry-After beyond the policy's limit ends the attempts and is reported, so the send job
  defers the batch); connection errors and time-outs likewise.
* Anything else is a permanent failure of the message (``failed``), among them ``80100001``
  parameter error, ``80100003`` message structure error, ``80100004`` TTL in the past,
  ``80300002`` app not allowed to send, ``80300008`` message over 4 KB, ``80300010`` too many
  tokens; and a token endpoint refusing the client (4xx).
"""

from __future__ import annotations

import asyncio
import json
import re
import time
from dataclasses import dataclass, field
from typing import Any, Literal

import structlog

from gnews.hookspecs import hookimpl
from gnews.specs import PushMessage, PushOutcome, PushPlatform, PushSettings, PushTransport
from workers.push.retry import PauseGate, RetryPolicy, parse_retry_after

log = structlog.get_logger(__name__)

PLATFORM = "huawei"
DEFAULT_TOKEN_ENDPOINT = "https://oauth-login.cloud.huawei.com/oauth2/v3/token"
DEFAULT_PUSH_ENDPOINT = "https://push-api.cloud.huawei.com"
MAX_TOKENS_PER_REQUEST = 1000  # Push Kit's limit (80300010 beyond)
MAX_MESSAGE_BYTES = 4096  # Push Kit's limit of a message (80300008 beyond)
REFRESH_MARGIN = 300  # seconds before the access token's expiry when a new one is fetched

SUCCESS = "80000000"
PARTIAL_SUCCESS = "80100000"
ALL_TOKENS_INVALID = "80300007"
OAUTH_ERROR = "80200001"
OAUTH_TOKEN_EXPIRED = "80200003"
SYSTEM_ERROR = "81000001"
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})

HMS_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9+/=_:.-]{32,512}$")
"""An HMS push token as the Push Kit SDK gives it: 32 to 512 characters of ``A-Z a-z 0-9 + / =
_ : . -`` (older tokens are 32 digits and letters, current ones about 130 base64 characters)."""


# --- The platform (cheap to import: the API loads it) --------------------------------------------


def check_hms_token(token: str) -> str | None:
    """None for an HMS push token, else the rule."""
    if HMS_TOKEN_PATTERN.fullmatch(token):
        return None
    return "an HMS Push Kit token: 32 to 512 of A-Z a-z 0-9 + / = _ : . -"


def hms_message(message: PushMessage, tokens: list[str]) -> dict[str, Any]:
    """The Push Kit v1 ``message`` of ``message`` to ``tokens``: a notification message whose tap
    opens the deep link (else the app), with the data as a JSON string and the notification id
    as its tag (a message sent again replaces the first instead of showing twice)."""
    data = {**message.data, "notification_id": message.notification_id}
    if message.deep_link:
        data["deep_link"] = message.deep_link
    # Push Kit requires a body with the title: the title again when there is none.
    notification: dict[str, Any] = {"title": message.title, "body": message.body or message.title}
    if message.image_url:
        notification["image"] = str(message.image_url)
    click_action: dict[str, Any] = (
        {"type": 1, "intent": message.deep_link} if message.deep_link else {"type": 3}
    )
    return {
        "data": json.dumps(data, ensure_ascii=False, separators=(",", ":")),
        "notification": notification,
        "android": {
            "urgency": "HIGH" if message.priority == "high" else "NORMAL",
            "ttl": f"{message.ttl_seconds}s",
            "notification": {
                "click_action": click_action,
                "tag": message.notification_id,
                "importance": "HIGH" if message.priority == "high" else "NORMAL",
            },
        },
        "token": tokens,
    }


def hms_payload_bytes(message: PushMessage) -> int:
    """The size of the Push Kit message of ``message`` without its tokens (its 4 KB limit)."""
    return len(_encode(hms_message(message, [])))


HUAWEI = PushPlatform(
    name=PLATFORM,
    label_th="หัวเว่ย (HMS Push Kit)",
    label_en="Huawei (HMS Push Kit)",
    validate_token=check_hms_token,
    max_payload_bytes=MAX_MESSAGE_BYTES - 200,  # room for what the worst case cannot see
    payload_bytes=hms_payload_bytes,
)


@hookimpl(trylast=True)
def gnews_push_platforms() -> list[PushPlatform]:
    """``huawei``: HMS Push Kit tokens, 4 KB messages."""
    return [HUAWEI]


@hookimpl(trylast=True)
def gnews_push_transports(settings: PushSettings) -> list[PushTransport]:
    """The Push Kit transport when GNEWS_HMS_APP_ID and GNEWS_HMS_CLIENT_SECRET are set."""
    secret = settings.hms_client_secret
    if not settings.hms_app_id or secret is None:
        log.warning(
            "push to huawei is off: GNEWS_HMS_APP_ID and GNEWS_HMS_CLIENT_SECRET are not set"
        )
        return []
    return [
        HmsTransport(
            settings.hms_app_id,
            settings.hms_client_id or settings.hms_app_id,
            secret.get_secret_value(),
            token_endpoint=settings.hms_token_endpoint,
            push_endpoint=settings.hms_push_endpoint,
        )
    ]


# --- Result codes, in one place ------------------------------------------------------------------


@dataclass(frozen=True, slots=True)
class Verdict:
    """What one Push Kit answer means for the tokens of its request."""

    kind: Literal["sent", "partial", "invalid_tokens", "refresh", "retry", "failed"]
    reason: str | None = None
    retry_after: float | None = None
    illegal_tokens: frozenset[str] = field(default_factory=frozenset)


def classify(status: int, body: bytes, headers: dict[str, str]) -> Verdict:
    """Map a ``messages:send`` answer to a :class:`Verdict` (the module docstring's table)."""
    answer = _json_object(body)
    code = str(answer.get("code", ""))
    reason = f"{code or status}: {answer.get('msg', '')}".rstrip(": ")
    if code == SUCCESS and status == 200:
        return Verdict("sent")
    if code == PARTIAL_SUCCESS:
        detail = _json_object(str(answer.get("msg", "")).encode())
        illegal = detail.get("illegal_tokens") or []
        reason = f"{PARTIAL_SUCCESS}: illegal token"
        return Verdict("partial", reason, illegal_tokens=frozenset(map(str, illegal)))
    if code == ALL_TOKENS_INVALID:
        return Verdict("invalid_tokens", reason)
    if code in (OAUTH_TOKEN_EXPIRED, OAUTH_ERROR) or status == 401:
        return Verdict("refresh", reason or "401")
    if status in TRANSIENT_STATUSES or code == SYSTEM_ERROR:
        return Verdict("retry", reason, parse_retry_after(headers.get("retry-after")))
    return Verdict("failed", reason)


def _json_object(body: bytes) -> dict[str, Any]:
    try:
        value = json.loads(body)
    except ValueError:
        return {}
    return value if isinstance(value, dict) else {}


def _encode(value: Any) -> bytes:
    return json.dumps(value, ensure_ascii=False, separators=(",", ":")).encode()


# --- The transport ------------------------------------------------------------------------------


class CredentialsError(Exception):
    """The token endpoint refused the client (or answered nonsense); ``retryable`` when it may
    work later (429, 5xx, connection errors)."""

    def __init__(self, text: str, *, retryable: bool) -> None:
        super().__init__(text)
        self.retryable = retryable


class HmsTransport:
    """Sends to Huawei devices through Push Kit (``platform = "huawei"``), one request per up to
    1000 tokens, through one keep-alive HTTP client."""

    platform = PLATFORM

    def __init__(
        self,
        app_id: str,
        client_id: str,
        client_secret: str,
        *,
        token_endpoint: str = DEFAULT_TOKEN_ENDPOINT,
        push_endpoint: str = DEFAULT_PUSH_ENDPOINT,
        policy: RetryPolicy | None = None,
        timeout: float = 10.0,
        max_connections: int = 50,
    ) -> None:
        self.app_id = app_id
        self.client_id = client_id
        self._client_secret = client_secret
        self.token_endpoint = token_endpoint
        self.url = f"{push_endpoint.rstrip('/')}/v1/{app_id}/messages:send"
        self.policy = policy or RetryPolicy()
        self._timeout = timeout
        self._max_connections = max_connections
        self._client: Any = None  # httpx.AsyncClient, made on the first send
        self._gate = PauseGate()
        self._refresh_lock = asyncio.Lock()
        self._token: str | None = None
        self._token_deadline = 0.0
        self.token_refreshes = 0

    async def send(self, message: PushMessage, tokens: list[str]) -> list[PushOutcome]:
        """Send ``message`` to each token; one outcome per token, in order."""
        chunks = [
            tokens[start : start + MAX_TOKENS_PER_REQUEST]
            for start in range(0, len(tokens), MAX_TOKENS_PER_REQUEST)
        ]
        results = await asyncio.gather(*(self._send_request(message, chunk) for chunk in chunks))
        return [outcome for result in results for outcome in result]

    async def _send_request(self, message: PushMessage, tokens: list[str]) -> list[PushOutcome]:
        """One request (with its retries) for up to 1000 tokens."""
        import httpx

        body = _encode({"validate_only": False, "message": hms_message(message, tokens)})
        attempt = 0
        while True:
            await self._gate.wait()
            attempt += 1
            try:
                access_token = await self._access_token()
                response = await self._http().post(
                    self.url,
                    content=body,
                    headers={
                        "Authorization": f"Bearer {access_token}",
                        "Content-Type": "application/json; charset=UTF-8",
                    },
                )
                verdict = classify(response.status_code, response.content, response.headers)
            except CredentialsError as error:
                reason = f"credentials: {error}"
                verdict = Verdict("retry", reason) if error.retryable else Verdict("failed", reason)
            except httpx.HTTPError as error:
                verdict = Verdict("retry", f"{type(error).__name__}: {error}")
            if verdict.kind == "refresh":
                self._token = None  # refused: the next attempt fetches a new one
                verdict = Verdict("retry", verdict.reason)
            if verdict.kind != "retry":
                return _outcomes(tokens, verdict, attempt)
            delay = self.policy.delay(attempt, verdict.retry_after)
            if delay is None:
                return _outcomes(
                    tokens, Verdict("failed", verdict.reason, verdict.retry_after), attempt
                )
            if verdict.retry_after is not None:
                self._gate.hold(verdict.retry_after)
            await asyncio.sleep(delay)

    def _http(self) -> Any:
        if self._client is None:
            import httpx

            self._client = httpx.AsyncClient(
                timeout=httpx.Timeout(self._timeout),
                limits=httpx.Limits(
                    max_connections=self._max_connections,
                    max_keepalive_connections=self._max_connections,
                ),
                headers={"User-Agent": "gnews-push"},
            )
        return self._client

    async def _access_token(self) -> str:
        """A valid OAuth 2.0 access token, fetched once for all the requests waiting on it."""
        if self._token and time.monotonic() < self._token_deadline:
            return self._token
        async with self._refresh_lock:
            if self._token and time.monotonic() < self._token_deadline:
                return self._token  # fetched while this one waited
            token, lifetime = await self._fetch_token()
            self.token_refreshes += 1
            margin = min(REFRESH_MARGIN, lifetime / 2)
            self._token_deadline = time.monotonic() + lifetime - margin
            self._token = token
            log.debug("hms access token fetched", app_id=self.app_id, expires_in=lifetime)
            return token

    async def _fetch_token(self) -> tuple[str, float]:
        import httpx

        try:
            response = await self._http().post(
                self.token_endpoint,
                data={
                    "grant_type": "client_credentials",
                    "client_id": self.client_id,
                    "client_secret": self._client_secret,
                },
            )
        except httpx.HTTPError as error:
            raise CredentialsError(f"{type(error).__name__}: {error}", retryable=True) from None
        answer = _json_object(response.content)
        if response.status_code != 200 or not answer.get("access_token"):
            retryable = response.status_code in TRANSIENT_STATUSES
            description = answer.get("error_description") or answer.get("error") or ""
            raise CredentialsError(
                f"token endpoint answered {response.status_code} {description}".strip(),
                retryable=retryable,
            )
        try:
            lifetime = float(answer.get("expires_in", 3600))
        except (TypeError, ValueError):
            lifetime = 3600.0
        return str(answer["access_token"]), max(lifetime, 1.0)

    async def aclose(self) -> None:
        """Close the connections."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def _outcomes(tokens: list[str], verdict: Verdict, attempts: int) -> list[PushOutcome]:
    """One outcome per token of a request whose (last) answer was ``verdict``."""

    def outcome(token: str) -> PushOutcome:
        if verdict.kind == "sent" or (
            verdict.kind == "partial" and token not in verdict.illegal_tokens
        ):
            status: Literal["sent", "failed", "invalid_token"] = "sent"
            reason = None
        elif verdict.kind in ("partial", "invalid_tokens"):
            status, reason = "invalid_token", verdict.reason
        else:
            status, reason = "failed", verdict.reason
        return PushOutcome(
            token=token,
            status=status,
            reason=reason,
            retry_after=verdict.retry_after,
            attempts=attempts,
        )

    return [outcome(token) for token in tokens]

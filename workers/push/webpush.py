"""Browser push through Web Push (RFC 8030 delivery, RFC 8291 aes128gcm payload encryption,
RFC 8292 VAPID): the bundled plugin of platform ``web``.

A browser's push token is its ``PushSubscription`` as JSON: ``{"endpoint": "https://…",
"keys": {"p256dh": …, "auth": …}}``. The endpoint belongs to the browser vendor's push service
(Google's for Chrome, Mozilla's for Firefox, Apple's for Safari); the keys let only that browser
read the message. Everything about the protocol is the well-kept libraries': ``pywebpush``
encrypts (``WebPusher``, on ``http_ece``) and sends through its asyncio path
(``WebPusher.send_async`` on one shared aiohttp session, so sending never blocks the event
loop); ``py_vapid`` signs the VAPID JWT (``aud`` = the endpoint's origin, ``sub`` =
``GNEWS_WEBPUSH_VAPID_SUBJECT``, ``exp`` 12 hours on), which is kept per origin and renewed
well before it expires. Retries, back-off and Retry-After are :mod:`workers.push.retry`'s, as
for FCM and APNs. See ``docs/push.md``.

This module is one of ``gnews.plugins.DEFAULT_PLUGINS``; the API loads it too (it declares the
platform), so pywebpush and aiohttp are imported only when a transport is made.
"""

from __future__ import annotations

import asyncio
import base64
import binascii
import ipaddress
import json
import time
from pathlib import Path
from typing import TYPE_CHECKING, Any
from urllib.parse import urlsplit

import structlog
from cryptography.hazmat.primitives.asymmetric import ec

from gnews.hookspecs import hookimpl
from gnews.specs import PushMessage, PushOutcome, PushPlatform, PushSettings, PushTransport
from workers.push.retry import Attempt, PauseGate, RetryPolicy, deliver, parse_retry_after

if TYPE_CHECKING:
    import aiohttp
    from py_vapid import Vapid02  # type: ignore[import-untyped]

log = structlog.get_logger(__name__)

PLATFORM = "web"
# RFC 8291 §4: a push service must accept 4096 bytes of encrypted payload. aes128gcm adds a
# header (16-byte salt, record size, key id length, the 65-byte sender key: 86 bytes), one
# padding delimiter and a 16-byte tag to one record: what is left for the JSON.
MAX_ENCRYPTED_BYTES = 4096
ENCRYPTION_OVERHEAD = 86 + 1 + 16
MAX_PAYLOAD_BYTES = MAX_ENCRYPTED_BYTES - ENCRYPTION_OVERHEAD
MAX_ENDPOINT_CHARS = 2048
SUBSCRIPTION_FIELDS = frozenset({"endpoint", "keys", "expirationTime"})
VAPID_LIFETIME_SECONDS = 12 * 3600  # RFC 8292 allows up to 24 h
VAPID_RENEW_BEFORE_SECONDS = 3 * 3600  # sign a new JWT when the current one has less left
TRANSIENT_STATUSES = frozenset({429, 500, 502, 503, 504})
GONE_STATUSES = frozenset({404, 410})  # the subscription expired or was unsubscribed
TOPIC_CHARS = 32  # RFC 8030 §5.4: at most 32 characters of the base64url alphabet


# --- The push token: a PushSubscription -------------------------------------------------------


def _b64url(value: str) -> bytes:
    """Decode base64url with or without padding; ValueError when it is not base64url."""
    if not isinstance(value, str) or not value or "=" in value.rstrip("="):
        raise ValueError("not base64url")
    try:
        return base64.urlsafe_b64decode(value + "=" * (-len(value) % 4))
    except (binascii.Error, ValueError):
        raise ValueError("not base64url") from None


def _is_loopback(host: str) -> bool:
    if host == "localhost":
        return True
    try:
        return ipaddress.ip_address(host).is_loopback
    except ValueError:
        return False


def subscription_error(token: str) -> str | None:
    """Why ``token`` is not a usable PushSubscription JSON, or None when it is.

    It must be a JSON object with ``endpoint`` (https, or http on a loopback address for an
    emulator) and ``keys``: ``p256dh``, the browser's P-256 public key (65 bytes, uncompressed,
    on the curve) and ``auth``, its 16-byte secret, both base64url. ``expirationTime`` (what
    ``PushSubscription.toJSON()`` adds) may be present; nothing else.
    """
    try:
        subscription = json.loads(token)
    except (ValueError, TypeError):
        return "must be the browser's PushSubscription as JSON"
    if not isinstance(subscription, dict):
        return "must be a JSON object (the browser's PushSubscription)"
    if unknown := sorted(set(subscription) - SUBSCRIPTION_FIELDS):
        return f"unknown field in the subscription: {unknown[0]}"
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint:
        return "the subscription has no endpoint"
    if len(endpoint) > MAX_ENDPOINT_CHARS:
        return f"the endpoint is longer than {MAX_ENDPOINT_CHARS} characters"
    try:
        url = urlsplit(endpoint)
        host = url.hostname or ""
    except ValueError:
        return "the endpoint is not a URL"
    if not host or url.scheme not in ("https", "http"):
        return "the endpoint must be an https URL"
    if url.scheme == "http" and not _is_loopback(host):
        return "the endpoint must be an https URL (http only on a loopback address)"
    keys = subscription.get("keys")
    if not isinstance(keys, dict):
        return "the subscription has no keys"
    try:
        p256dh = _b64url(keys.get("p256dh", ""))
        ec.EllipticCurvePublicKey.from_encoded_point(ec.SECP256R1(), p256dh)
        if len(p256dh) != 65:
            raise ValueError
    except ValueError:
        return "keys.p256dh must be a P-256 public key (65 bytes, base64url)"
    try:
        if len(_b64url(keys.get("auth", ""))) != 16:
            raise ValueError
    except ValueError:
        return "keys.auth must be 16 bytes, base64url"
    return None


def canonical_subscription(token: str) -> str:
    """One spelling of a subscription: ``{"endpoint", "keys": {"p256dh", "auth"}}`` in that
    order, compact, ``expirationTime`` dropped; so the same browser registering again is the
    same push token (one device per token). Anything else is returned stripped, for
    :func:`subscription_error` to say what is wrong with it."""
    token = token.strip()
    try:
        subscription = json.loads(token)
    except ValueError:
        return token
    if not isinstance(subscription, dict) or set(subscription) - SUBSCRIPTION_FIELDS:
        return token
    keys = subscription.get("keys")
    if not isinstance(keys, dict) or set(keys) != {"p256dh", "auth"}:
        return token
    canonical = {
        "endpoint": subscription.get("endpoint"),
        "keys": {"p256dh": keys["p256dh"], "auth": keys["auth"]},
    }
    return json.dumps(canonical, separators=(",", ":"))


def endpoint_origin(endpoint: str) -> str:
    """``scheme://host[:port]`` of a push endpoint: the VAPID JWT's ``aud``."""
    url = urlsplit(endpoint)
    return f"{url.scheme}://{url.netloc}"


# --- The message --------------------------------------------------------------------------------


def webpush_payload(message: PushMessage) -> bytes:
    """The JSON the service worker receives (the same for every browser of a batch):
    ``notification_id``, ``title``, ``body``, ``lang``, and when there are: ``url`` (the item's
    https page, ``data["url"]``: the service worker opens it on a click, else
    ``/news/<news_item_id>`` of its own site), ``deep_link``, ``image`` and the rest of
    ``data``."""
    data = dict(message.data)
    payload: dict[str, Any] = {
        "notification_id": message.notification_id,
        "title": message.title,
        "body": message.body,
        "lang": message.language,
    }
    if url := data.pop("url", None):
        payload["url"] = url
    if message.deep_link:
        payload["deep_link"] = message.deep_link
    if message.image_url:
        payload["image"] = str(message.image_url)
    if data:
        payload["data"] = data
    return json.dumps(payload, ensure_ascii=False, separators=(",", ":")).encode()


def payload_bytes(message: PushMessage) -> int:
    """Bytes of :func:`webpush_payload` (what must fit :data:`MAX_PAYLOAD_BYTES`)."""
    return len(webpush_payload(message))


def classify(status: int, headers: Any) -> Attempt:
    """Map a push service's answer (RFC 8030 §5, RFC 8292 §4) to sent / invalid_token /
    failed / retry. ``headers`` is any mapping with ``get`` (case-insensitive)."""
    if status in (200, 201, 202):
        return Attempt("sent")
    if status in GONE_STATUSES:
        return Attempt("invalid_token", "Gone" if status == 410 else "NotFound")
    if status in TRANSIENT_STATUSES:
        return Attempt("retry", str(status), parse_retry_after(headers.get("Retry-After")))
    if status == 413:
        return Attempt("failed", "PayloadTooLarge")
    if status == 401:
        return Attempt("retry", "Unauthorized")  # a VAPID JWT refused: renewed, then retried
    if status == 403:
        # The subscription was made with another application server key: not the token's
        # fault, and deactivating every browser when a key is misconfigured would be worse.
        return Attempt("failed", "Forbidden: VAPID key does not match the subscription")
    return Attempt("failed", str(status))


def _parsed(token: str) -> dict[str, Any] | None:
    """The subscription of a stored token, or None when it is not one. Registration checked
    the token fully (:func:`subscription_error`); this is the cheap shape check of each send
    (the key is checked where it is used: a bad one makes the encryption fail)."""
    try:
        subscription = json.loads(token)
    except ValueError:
        return None
    if not isinstance(subscription, dict) or not isinstance(subscription.get("keys"), dict):
        return None
    endpoint = subscription.get("endpoint")
    if not isinstance(endpoint, str) or not endpoint.startswith(("https://", "http://")):
        return None
    return subscription


class VapidSigner:
    """The VAPID ``Authorization`` header per push-service origin, signed by py_vapid and
    reused until it is close to its expiry (signing is an ECDSA operation; a batch of 500
    needs one per origin, not one per message)."""

    def __init__(self, key_file: str | Path, subject: str) -> None:
        from py_vapid import Vapid02, VapidException

        try:
            self._vapid: Vapid02 = Vapid02.from_pem(Path(key_file).read_bytes())
        except (OSError, VapidException, ValueError) as error:
            raise ValueError(f"{key_file}: not a VAPID private key (PEM, P-256): {error}") from None
        self.subject = subject
        self._headers: dict[str, tuple[float, str]] = {}  # origin -> (expiry, header)
        self.renewals = 0
        self.authorization("https://example.org")  # a bad subject fails now, at start-up
        self._headers.clear()
        self.renewals = 0

    def authorization(self, origin: str, *, stale: str | None = None) -> str:
        """The ``Authorization: vapid t=…, k=…`` value for endpoints of ``origin``; ``stale``
        (a header the service refused) forces a new one if it is still the current one."""
        now = time.time()
        cached = self._headers.get(origin)
        if (
            cached is not None
            and cached[1] != stale
            and cached[0] - now > VAPID_RENEW_BEFORE_SECONDS
        ):
            return cached[1]
        expiry = int(now) + VAPID_LIFETIME_SECONDS
        claims = {"aud": origin, "sub": self.subject, "exp": expiry}
        header: str = self._vapid.sign(claims)["Authorization"]
        self._headers[origin] = (expiry, header)
        self.renewals += 1
        return header


class WebPushTransport:
    """Sends to browsers through their push services (``platform = "web"``)."""

    platform = PLATFORM

    def __init__(
        self,
        vapid_key_file: str | Path,
        subject: str,
        *,
        policy: RetryPolicy | None = None,
        max_connections: int = 200,
        timeout: float = 10.0,
    ) -> None:
        self.vapid = VapidSigner(vapid_key_file, subject)
        self.policy = policy or RetryPolicy()
        self._max_connections = max_connections
        self._timeout = timeout
        self._session: aiohttp.ClientSession | None = None
        # A Retry-After holds back the push service that sent it (Mozilla's slowing down is no
        # reason to wait with Google's): one gate per endpoint origin.
        self._gates: dict[str, PauseGate] = {}

    async def send(self, message: PushMessage, tokens: list[str]) -> list[PushOutcome]:
        """Send ``message`` to each subscription (at most 500); one outcome per token, in
        order. A message whose JSON is over :data:`MAX_PAYLOAD_BYTES` is refused for every
        token without a request (``failed``, ``PayloadTooLarge``)."""
        if not tokens:
            return []
        payload = webpush_payload(message)
        if len(payload) > MAX_PAYLOAD_BYTES:
            reason = f"PayloadTooLarge: {len(payload)} bytes > {MAX_PAYLOAD_BYTES}"
            return [
                PushOutcome(token=t, status="failed", reason=reason, attempts=0) for t in tokens
            ]
        import aiohttp
        from pywebpush import WebPusher, WebPushException  # type: ignore[import-untyped]

        session = self._client()
        extra_headers = {"Urgency": "high" if message.priority == "high" else "normal"}
        if len(message.notification_id) <= TOPIC_CHARS:
            # A message sent again after a worker crash replaces the one still queued.
            extra_headers["Topic"] = message.notification_id
        timeout = aiohttp.ClientTimeout(total=self._timeout)

        subscriptions = {token: _parsed(token) for token in tokens}  # once, not per attempt

        async def attempt_once(token: str) -> Attempt:
            subscription = subscriptions[token]
            if subscription is None:  # registration checks tokens; this one predates a rule
                return Attempt("invalid_token", "BadSubscription")
            origin = endpoint_origin(subscription["endpoint"])
            authorization = self.vapid.authorization(origin)
            headers = {"Authorization": authorization, **extra_headers}
            try:
                pusher = WebPusher(subscription, aiohttp_session=session)
                response = await pusher.send_async(
                    payload,
                    headers,
                    ttl=message.ttl_seconds,
                    content_encoding="aes128gcm",
                    timeout=timeout,
                )
            except (aiohttp.ClientError, TimeoutError) as error:
                return Attempt("retry", repr(error))
            except WebPushException as error:  # keys it cannot encrypt to
                return Attempt("invalid_token", f"BadSubscription: {error.message}")
            except ValueError as error:  # not base64, not a point on the curve
                return Attempt("invalid_token", f"BadSubscription: {error}")
            assert not isinstance(response, str)  # only with curl=True
            result = classify(response.status, response.headers)
            if result.reason == "Unauthorized":
                self.vapid.authorization(origin, stale=authorization)
            return result

        return list(
            await asyncio.gather(
                *(
                    deliver(token, attempt_once, self.policy, self._gate(subscriptions[token]))
                    for token in tokens
                )
            )
        )

    def _gate(self, subscription: dict[str, Any] | None) -> PauseGate:
        origin = endpoint_origin(subscription["endpoint"]) if subscription else ""
        return self._gates.setdefault(origin, PauseGate())

    def _client(self) -> aiohttp.ClientSession:
        import aiohttp

        if self._session is None or self._session.closed:
            self._session = aiohttp.ClientSession(
                connector=aiohttp.TCPConnector(limit=self._max_connections),
                headers={"User-Agent": "gnews-push"},
            )
        return self._session

    async def aclose(self) -> None:
        """Close the HTTP session."""
        if self._session is not None:
            await self._session.close()
            self._session = None


# --- The plugin ---------------------------------------------------------------------------------

WEB = PushPlatform(
    name=PLATFORM,
    label_th="เว็บเบราว์เซอร์ (Web Push)",
    label_en="Web browser (Web Push)",
    validate_token=subscription_error,
    canonical_token=canonical_subscription,
    # Browsers cut long texts themselves; the limit that matters is the encrypted 4 KB, and
    # stricter text limits would refuse notifications to audiences that include the web.
    max_title_chars=200,
    max_body_chars=2000,
    max_payload_bytes=MAX_PAYLOAD_BYTES,
    payload_bytes=payload_bytes,
)


@hookimpl(trylast=True)
def gnews_push_platforms() -> list[PushPlatform]:
    """``web``: browsers' PushSubscriptions (JSON), payloads of up to 3,993 bytes."""
    return [WEB]


@hookimpl(trylast=True)
def gnews_push_transports(settings: PushSettings) -> list[PushTransport]:
    """Web Push when GNEWS_WEBPUSH_VAPID_KEY_FILE and GNEWS_WEBPUSH_VAPID_SUBJECT are set."""
    key_file, subject = settings.webpush_vapid_key_file, settings.webpush_vapid_subject
    if not (key_file and subject):
        missing = [
            name
            for name, value in (
                ("GNEWS_WEBPUSH_VAPID_KEY_FILE", key_file),
                ("GNEWS_WEBPUSH_VAPID_SUBJECT", subject),
            )
            if not value
        ]
        log.warning("push to web is off: not set: " + ", ".join(missing))
        return []
    try:
        return [WebPushTransport(key_file, subject)]
    except Exception as error:  # the other platforms still get their transports
        log.error("push to web is off: bad VAPID settings", error=str(error))
        return []

"""Helpers of the push and fan-out tests: device tokens, a fast retry policy and transports
pointed at the push emulators. (The ``emulators`` fixture is in ``tests/conftest.py``.)"""

from __future__ import annotations

import json
from collections.abc import Mapping
from pathlib import Path

from gnews.dev.emulators.webpush import WebPushEmulator, unb64url
from gnews.web.push import application_server_key
from workers.push.apns import ApnsTransport
from workers.push.fcm import FcmTransport
from workers.push.hms import HmsTransport
from workers.push.retry import RetryPolicy
from workers.push.webpush import WebPushTransport

FAST = RetryPolicy(max_attempts=3, base_delay=0.01, max_delay=0.05, max_retry_after=2)
"""Short back-off (3 attempts, 10 ms) and a 2 s limit on Retry-After (longer ones end the
attempts at once; the fan-out worker defers the batch)."""


def fcm_token(n: int = 0) -> str:
    """An FCM-shaped registration token, unique per ``n``."""
    return f"f{n:07d}Xy-_z:APA91b" + "Qw3_e-R" * 20


def apns_token(n: int = 0) -> str:
    """An APNs device token (64 hex digits), unique per ``n``."""
    return f"{n + 1:064x}"


def fcm_transport(env: Mapping[str, str], **options) -> FcmTransport:
    """An FCM transport for the gateway the ``GNEWS_FCM_*`` variables of ``env`` name (e.g.
    ``emulators.env()``), with :data:`FAST` retries unless ``options`` say otherwise."""
    options.setdefault("policy", FAST)
    options.setdefault("endpoint", env["GNEWS_FCM_ENDPOINT"])
    return FcmTransport(env["GNEWS_FCM_CREDENTIALS"], **options)


def apns_transport(env: Mapping[str, str], **options) -> ApnsTransport:
    """An APNs transport for the gateway the ``GNEWS_APNS_*`` variables of ``env`` name (e.g.
    ``emulators.env()``), with :data:`FAST` retries unless ``options`` say otherwise."""
    options.setdefault("policy", FAST)
    options.setdefault("endpoint", env["GNEWS_APNS_ENDPOINT"])
    return ApnsTransport(
        env["GNEWS_APNS_KEY_FILE"],
        env["GNEWS_APNS_KEY_ID"],
        env["GNEWS_APNS_TEAM_ID"],
        env["GNEWS_APNS_TOPIC"],
        **options,
    )


def hms_token(n: int = 0) -> str:
    """An HMS Push Kit-shaped token, unique per ``n``."""
    return f"IQAAAACy0{n:07d}" + "kZ9fV3q_RbX-2uH+Lm/8=" * 5


def hms_transport(env: Mapping[str, str], **options) -> HmsTransport:
    """An HMS transport for the emulator the ``GNEWS_HMS_*`` variables of ``env`` name (e.g.
    ``emulators.env()``), with :data:`FAST` retries unless ``options`` say otherwise."""
    options.setdefault("policy", FAST)
    options.setdefault("token_endpoint", env["GNEWS_HMS_TOKEN_ENDPOINT"])
    options.setdefault("push_endpoint", env["GNEWS_HMS_PUSH_ENDPOINT"])
    return HmsTransport(
        env["GNEWS_HMS_APP_ID"],
        env["GNEWS_HMS_CLIENT_ID"],
        env["GNEWS_HMS_CLIENT_SECRET"],
        **options,
    )


def webpush_transport(env: Mapping[str, str], **options) -> WebPushTransport:
    """A Web Push transport signing with the VAPID key the ``GNEWS_WEBPUSH_*`` variables of
    ``env`` name (``emulators.webpush_env()``), with :data:`FAST` retries unless ``options``
    say otherwise."""
    options.setdefault("policy", FAST)
    return WebPushTransport(
        env["GNEWS_WEBPUSH_VAPID_KEY_FILE"], env["GNEWS_WEBPUSH_VAPID_SUBJECT"], **options
    )


def web_subscription(push: WebPushEmulator, env: Mapping[str, str]) -> str:
    """A push token: a new subscription at the Web Push emulator, bound to the VAPID key of
    ``env`` as a browser binds it (``applicationServerKey``), as JSON."""
    key = unb64url(application_server_key(Path(env["GNEWS_WEBPUSH_VAPID_KEY_FILE"])))
    return json.dumps(push.subscribe(key))

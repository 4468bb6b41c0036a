"""The built-in push platforms and transports, FCM (``android``) and APNs (``ios``), as a plugin.

They are registered through ``gnews_push_transports`` like any plugin's (no back door): this
module is one of ``gnews.plugins.DEFAULT_PLUGINS`` (origin ``built-in``), named there by its
dotted path and imported when a plugin manager is built, since ``gnews/`` may not import
``workers/`` at module level. The FCM and APNs clients are imported inside the hook, so the API
(which registers but never calls this hook) does not load them. ``trylast``: a plugin's
transport for the same platform is asked first and so replaces the built-in one.
"""

from __future__ import annotations

import re

import structlog

from gnews.hookspecs import hookimpl
from gnews.specs import PushMessage, PushPlatform, PushSettings, PushTransport

log = structlog.get_logger(__name__)

FCM_TOKEN_PATTERN = re.compile(r"^[A-Za-z0-9_:-]{100,4096}$")
"""An FCM registration token: 100 to 4096 characters of ``A-Z a-z 0-9 _ - :`` (today about 160,
like ``<instance id>:APA91b…``)."""
APNS_TOKEN_PATTERN = re.compile(r"^(?:[0-9a-f]{2}){32,100}$")
"""An APNs device token in (lower-case) hex: 64 digits today (32 bytes); Apple warns the length
may grow, so an even number of 64 to 200 digits is accepted."""
APNS_MAX_PAYLOAD_BYTES = 3_800
"""Of texts and data, measured on the largest message they make: APNs refuses payloads over
4 KB, and this leaves room for what the worst-case measure cannot see."""


def check_fcm_token(token: str) -> str | None:
    """None for an FCM registration token, else the rule."""
    if FCM_TOKEN_PATTERN.fullmatch(token):
        return None
    return "an FCM registration token: 100 to 4096 of A-Z a-z 0-9 _ - :"


def check_apns_token(token: str) -> str | None:
    """None for an APNs device token in hex (already lower-cased), else the rule."""
    if APNS_TOKEN_PATTERN.fullmatch(token):
        return None
    return "an APNs device token: 64 (up to 200) hexadecimal digits"


def apns_payload_bytes(message: PushMessage) -> int:
    """The size of the APNs payload of ``message`` (the APNs transport's own builder)."""
    from gnews.notifications.message import apns_payload

    return len(apns_payload(message))


ANDROID = PushPlatform(
    name="android",
    label_th="แอนดรอยด์ (FCM)",
    label_en="Android (FCM)",
    validate_token=check_fcm_token,
)
IOS = PushPlatform(
    name="ios",
    label_th="ไอโอเอส (APNs)",
    label_en="iOS (APNs)",
    validate_token=check_apns_token,
    canonical_token=lambda token: token.strip().lower(),
    max_payload_bytes=APNS_MAX_PAYLOAD_BYTES,
    payload_bytes=apns_payload_bytes,
)


@hookimpl(trylast=True)
def gnews_push_platforms() -> list[PushPlatform]:
    """``android`` (FCM registration tokens) and ``ios`` (APNs device tokens, 4 KB payloads)."""
    return [ANDROID, IOS]


@hookimpl(trylast=True)
def gnews_push_transports(settings: PushSettings) -> list[PushTransport]:
    """FCM when GNEWS_FCM_CREDENTIALS is set; APNs when its key, key id, team id and topic are."""
    from workers.push.apns import ApnsTransport
    from workers.push.fcm import FcmTransport

    transports: list[PushTransport] = []
    if settings.fcm_credentials:
        try:
            transports.append(
                FcmTransport(settings.fcm_credentials, endpoint=settings.fcm_endpoint)
            )
        except Exception as error:  # the other platform still gets its transport
            log.error("push to android is off: bad GNEWS_FCM_CREDENTIALS", error=str(error))
    else:
        log.warning("push to android is off: GNEWS_FCM_CREDENTIALS is not set")
    apns = {
        "GNEWS_APNS_KEY_FILE": settings.apns_key_file,
        "GNEWS_APNS_KEY_ID": settings.apns_key_id,
        "GNEWS_APNS_TEAM_ID": settings.apns_team_id,
        "GNEWS_APNS_TOPIC": settings.apns_topic,
    }
    key_file, key_id, team_id, topic = (
        settings.apns_key_file,
        settings.apns_key_id,
        settings.apns_team_id,
        settings.apns_topic,
    )
    if key_file and key_id and team_id and topic:
        try:
            transports.append(
                ApnsTransport(key_file, key_id, team_id, topic, endpoint=settings.apns_endpoint)
            )
        except Exception as error:
            log.error("push to ios is off: bad GNEWS_APNS_KEY_FILE", error=str(error))
    else:
        missing = ", ".join(name for name, value in apns.items() if not value)
        log.warning("push to ios is off: not set: " + missing)
    return transports

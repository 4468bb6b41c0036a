"""The built-in push transports, FCM (``android``) and APNs (``ios``), as a plugin.

They are registered through ``gnews_push_transports`` like any plugin's (no back door): this
module is one of ``gnews.plugins.DEFAULT_PLUGINS`` (origin ``built-in``), named there by its
dotted path and imported when a plugin manager is built, since ``gnews/`` may not import
``workers/`` at module level. The FCM and APNs clients are imported inside the hook, so the API
(which registers but never calls this hook) does not load them. ``trylast``: a plugin's
transport for the same platform is asked first and so replaces the built-in one.
"""

from __future__ import annotations

import structlog

from gnews.hookspecs import hookimpl
from gnews.specs import PushSettings, PushTransport

log = structlog.get_logger(__name__)


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

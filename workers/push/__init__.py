"""Push transports: FCM and APNs built in, more from plugins (``gnews_push_transports``).

:func:`load_transports` is what the worker calls at start-up; the result maps each platform
(``android``, ``ios``, a plugin's own) to the transport that sends to it.
"""

from __future__ import annotations

import structlog

from gnews.plugins import PluginManager
from gnews.specs import PushSettings, PushTransport

log = structlog.get_logger(__name__)

BUILTIN_TRANSPORTS = "workers.push.builtin"
"""The built-in plugin of the FCM and APNs transports (one of ``gnews.plugins.DEFAULT_PLUGINS``)."""


def load_transports(manager: PluginManager, settings: PushSettings) -> dict[str, PushTransport]:
    """Call ``gnews_push_transports``: the first transport offered for each platform wins.

    A plugin whose hook raises, or that offers something that is not a transport, is logged with
    its name and skipped; so is a second transport for a platform already served.
    """
    transports: dict[str, PushTransport] = {}
    hook = "gnews_push_transports"
    for result in manager.answers(manager.hook.gnews_push_transports, settings=settings):
        for transport in manager.iterate(result, hook):
            if not isinstance(transport, PushTransport) or not isinstance(
                getattr(transport, "platform", None), str
            ):
                manager.record_failure(
                    result.plugin,
                    TypeError(f"not a PushTransport: {transport!r}"),
                    hook,
                )
                continue
            if transport.platform in transports:
                log.warning(
                    "push transport ignored: platform already served",
                    plugin=result.plugin,
                    platform=transport.platform,
                )
                continue
            transports[transport.platform] = transport
            log.info("push transport", platform=transport.platform, plugin=result.plugin)
    return transports


async def close_transports(transports: dict[str, PushTransport]) -> None:
    """Close every transport; one that raises is logged, the others are still closed."""
    for platform, transport in transports.items():
        try:
            await transport.aclose()
        except Exception as error:
            log.error("push transport failed to close", platform=platform, error=repr(error))

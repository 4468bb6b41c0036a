"""Push transports: FCM and APNs built in, more from plugins (``gnews_push_transports``).

:func:`load_transports` is what the worker calls at start-up; the result maps each platform
(``android``, ``ios``, a plugin's own) to the transport that sends to it.
"""

from __future__ import annotations

from typing import Any

import structlog

from gnews.plugins import PluginManager
from gnews.specs import PushTransport

log = structlog.get_logger(__name__)

BUILTIN_TRANSPORTS = "workers.push.builtin"


def register_builtin_transports(manager: PluginManager) -> None:
    """Register the built-in FCM/APNs plugin (unless disabled with GNEWS_DISABLED_PLUGINS)."""
    if manager.get_plugin(BUILTIN_TRANSPORTS) is None and not manager.is_blocked(
        BUILTIN_TRANSPORTS
    ):
        manager.load_module(BUILTIN_TRANSPORTS, "built-in")


def load_transports(manager: PluginManager, settings: Any) -> dict[str, PushTransport]:
    """Call ``gnews_push_transports``: the first transport offered for each platform wins.

    A plugin whose hook raises, or that offers something that is not a transport, is logged with
    its name and skipped; so is a second transport for a platform already served.
    """
    register_builtin_transports(manager)
    transports: dict[str, PushTransport] = {}
    for result in manager.call_each("gnews_push_transports", settings=settings):
        for transport in result.value:
            if not isinstance(transport, PushTransport) or not isinstance(
                getattr(transport, "platform", None), str
            ):
                manager.record_failure(
                    result.plugin,
                    TypeError(f"not a PushTransport: {transport!r}"),
                    "gnews_push_transports",
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

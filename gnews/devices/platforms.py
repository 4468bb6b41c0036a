"""The push platforms of this process: what the loaded plugins declare (``gnews_push_platforms``).

Devices register for, and notifications target, only these platforms; each one's token rule
and message limits come from its declaration (:class:`gnews.specs.PushPlatform`). The built-in
plugin ``workers.push.builtin`` declares ``android`` (FCM) and ``ios`` (APNs),
``workers.push.hms`` declares ``huawei``; any plugin may add its own.

The registry is built once from the plugin manager, when the API app is created and when the
worker starts, and :func:`push_platforms` answers it wherever it is needed: request validation
(a Pydantic validator cannot be handed it) and the services called from controllers, pages and
jobs. Within a request it is the app's own (:func:`platforms_middleware` sets it for the
request), elsewhere the process's (:func:`install_platforms`: the worker, commands), so two
apps with different plugins in one process (tests) each see theirs. Until something installs
one, the default plugins' platforms serve (scripts, tests calling a service directly).
"""

from __future__ import annotations

from collections.abc import Callable, Iterable, Iterator
from contextvars import ContextVar

import structlog
from litestar.types import ASGIApp, Receive, Scope, Send

from gnews.plugins import PluginManager, build_plugin_manager
from gnews.specs import PushPlatform

log = structlog.get_logger(__name__)

HOOK = "gnews_push_platforms"

PLATFORM_EXAMPLES: list[str] = ["android", "ios"]
"""The ``examples`` of the ``platform`` fields in the OpenAPI document: filled in place with the
installed platforms' names (the document is generated on first request, after installation)."""


class UnknownPlatform(ValueError):
    """A platform no loaded plugin serves; the message lists the ones served."""


class PlatformRegistry:
    """The platforms served, by name, in declaration order."""

    def __init__(self, platforms: Iterable[PushPlatform] = ()) -> None:
        self._platforms: dict[str, PushPlatform] = {}
        for platform in platforms:
            self._platforms.setdefault(platform.name, platform)

    def __iter__(self) -> Iterator[PushPlatform]:
        return iter(self._platforms.values())

    def __contains__(self, name: object) -> bool:
        return name in self._platforms

    def __len__(self) -> int:
        return len(self._platforms)

    @property
    def names(self) -> list[str]:
        """The names of the platforms served."""
        return list(self._platforms)

    def get(self, name: str) -> PushPlatform | None:
        """The platform called ``name``, or None."""
        return self._platforms.get(name)

    def require(self, name: str) -> PushPlatform:
        """The platform called ``name``; :class:`UnknownPlatform` naming the known ones."""
        platform = self._platforms.get(name)
        if platform is None:
            known = ", ".join(self._platforms) or "none"
            raise UnknownPlatform(f"no loaded push plugin serves {name!r}; known: {known}")
        return platform

    def check_token(self, name: str, token: str) -> str:
        """``token`` canonical for the platform ``name``; ValueError saying the platform's rule
        (:class:`UnknownPlatform` when no plugin serves ``name``)."""
        return self.require(name).check_token(token)


def load_platforms(manager: PluginManager) -> PlatformRegistry:
    """Call ``gnews_push_platforms`` on ``manager``: the
    first declaration of each name wins; a plugin whose hook raises, or that answers something
    other than :class:`PushPlatform`, is recorded with its name and skipped."""
    declared: list[PushPlatform] = []
    seen: set[str] = set()
    for result in manager.answers(manager.hook.gnews_push_platforms):
        for platform in manager.iterate(result, HOOK):
            if not isinstance(platform, PushPlatform):
                manager.record_failure(
                    result.plugin, TypeError(f"not a PushPlatform: {platform!r}"), HOOK
                )
                continue
            if platform.name in seen:
                log.warning(
                    "push platform ignored: already declared",
                    plugin=result.plugin,
                    platform=platform.name,
                )
                continue
            seen.add(platform.name)
            declared.append(platform)
    return PlatformRegistry(declared)


_installed: PlatformRegistry | None = None
_in_request: ContextVar[PlatformRegistry | None] = ContextVar("push_platforms", default=None)


def install_platforms(registry: PlatformRegistry) -> PlatformRegistry:
    """Make ``registry`` this process's platforms (the app and the worker call it at start)."""
    global _installed
    _installed = registry
    PLATFORM_EXAMPLES[:] = registry.names
    log.debug("push platforms", platforms=registry.names)
    return registry


def platforms_middleware(registry: PlatformRegistry) -> Callable[[ASGIApp], ASGIApp]:
    """An ASGI middleware making ``registry`` (its app's) what :func:`push_platforms` answers
    while a request is handled."""

    def wrap(app: ASGIApp) -> ASGIApp:
        async def middleware(scope: Scope, receive: Receive, send: Send) -> None:
            token = _in_request.set(registry)
            try:
                await app(scope, receive, send)
            finally:
                _in_request.reset(token)

        return middleware

    return wrap


def push_platforms() -> PlatformRegistry:
    """The platforms of the app handling this request, else those installed in this process
    (the default plugins' until one is installed)."""
    if (current := _in_request.get()) is not None:
        return current
    if _installed is None:
        return install_platforms(load_platforms(build_plugin_manager(entry_points=False)))
    return _installed

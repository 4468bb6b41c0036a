"""The plugin contract. Each hook's docstring is the whole contract; ``docs/plugins.md`` has
an example for each.

A plugin is a module (or object) with functions decorated by :data:`hookimpl`, registered
through the ``gnews`` entry-point group or named in ``GNEWS_PLUGINS``. It may import this module
and :mod:`gnews.specs`, nothing else of G-News; this module imports nothing of G-News but the
spec types. Hooks are called through pluggy: ``@hookimpl(wrapper=True)``, ``tryfirst``,
``trylast`` and ``firstresult`` hooks behave as pluggy documents.
"""

from __future__ import annotations

from collections.abc import Awaitable, Iterable

import pluggy

from gnews.specs import (
    AgencySpec,
    AppListingSpec,
    NewsItemDraft,
    NewsItemView,
    NewsSourceSpec,
    NewsSourceView,
    PluginConfig,
    PluginConfigError,
    PushMessage,
    PushOutcome,
    PushPlatform,
    PushSettings,
    PushTransport,
    StartedApp,
    plugin_config,
)

PROJECT = "gnews"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = [
    "AgencySpec",
    "AppListingSpec",
    "NewsItemDraft",
    "NewsItemView",
    "NewsSourceSpec",
    "NewsSourceView",
    "PluginConfig",
    "PluginConfigError",
    "PushMessage",
    "PushOutcome",
    "PushPlatform",
    "PushSettings",
    "PushTransport",
    "StartedApp",
    "hookimpl",
    "hookspec",
    "plugin_config",
]


@hookspec
def gnews_agencies() -> Iterable[AgencySpec] | None:
    """Return the agencies this plugin speaks for; created at start-up if missing."""


@hookspec
def gnews_news_sources() -> Iterable[NewsSourceSpec] | None:
    """Return the news feeds this plugin contributes; upserted at start-up by (plugin, slug)."""


@hookspec
def gnews_app_listings() -> Iterable[AppListingSpec] | None:
    """Return the GAC app listings this plugin contributes; upserted at start-up by slug."""


@hookspec
def gnews_process_item(item: NewsItemDraft, source: NewsSourceView) -> bool | None:
    """Modify an ingested news item in place; return False to drop it (None keeps it)."""


@hookspec
def gnews_item_provinces(item: NewsItemView) -> Iterable[str] | None:
    """Return ISO 3166-2:TH codes (e.g. "TH-60") of provinces the item concerns, or None."""


@hookspec
def gnews_startup(app: StartedApp) -> Awaitable[None] | None:
    """Called once when the API has started, with the Litestar app; may be a coroutine."""


@hookspec
def gnews_push_platforms() -> Iterable[PushPlatform] | None:
    """Return the push platforms (see :class:`gnews.specs.PushPlatform`) this plugin serves.

    Asked once at API and worker start-up: devices may register only for a platform some plugin
    declares, with a token its ``validate_token`` accepts, and notifications are checked against
    its limits. The first declaration of a name wins (plugins before the built-in ones). Keep
    the module cheap to import: the API loads it, and never the transport's client.
    """


@hookspec
def gnews_push_transports(settings: PushSettings) -> Iterable[PushTransport] | None:
    """Return push transports (see :class:`gnews.specs.PushTransport`) for the worker to send with.

    Called once at worker start-up with the settings. One transport per ``platform``: the first
    answer for a platform wins (plugins are asked before the built-in FCM and APNs transports,
    so a plugin may replace one); return None or nothing for a channel that is not configured.
    Open connections lazily, on the first ``send``: a transport that loses is dropped unclosed.
    """

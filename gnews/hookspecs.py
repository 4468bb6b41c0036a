"""The plugin contract. Each hook's docstring is the whole contract; ``docs/plugins.md`` has
an example for each.

A plugin is a module (or object) with functions decorated by :data:`hookimpl`, registered
through the ``gnews`` entry-point group or named in ``GNEWS_PLUGINS``. It may import this module
and :mod:`gnews.specs`, nothing else of G-News.
"""

from __future__ import annotations

from collections.abc import Iterable
from typing import Any

import pluggy

from gnews.specs import (
    AgencySpec,
    AppListingSpec,
    NewsSourceSpec,
    PushMessage,
    PushOutcome,
    PushTransport,
)

PROJECT = "gnews"
hookspec = pluggy.HookspecMarker(PROJECT)
hookimpl = pluggy.HookimplMarker(PROJECT)

__all__ = [
    "AgencySpec",
    "AppListingSpec",
    "NewsSourceSpec",
    "PushMessage",
    "PushOutcome",
    "PushTransport",
    "hookimpl",
    "hookspec",
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
def gnews_process_item(item: Any, source: Any) -> bool | None:
    """Modify an ingested news item in place; return False to drop it (None keeps it)."""


@hookspec
def gnews_item_provinces(item: Any) -> Iterable[str] | None:
    """Return ISO 3166-2:TH codes (e.g. "TH-60") of provinces the item concerns, or None."""


@hookspec
def gnews_startup(app: Any) -> None:
    """Called once when the API has started, with the Litestar app; may be a coroutine."""


@hookspec
def gnews_push_transports(settings: Any) -> Iterable[PushTransport] | None:
    """Return push transports (see :class:`gnews.specs.PushTransport`) for the worker to send with.

    Called once at worker start-up with the settings. One transport per ``platform``: the first
    answer for a platform wins (plugins are asked before the built-in FCM and APNs transports,
    so a plugin may replace one); return None or nothing for a channel that is not configured.
    Open connections lazily, on the first ``send``: a transport that loses is dropped unclosed.
    """

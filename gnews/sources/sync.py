"""News sources declared by plugins (``gnews_news_sources``) are upserted at start-up."""

from __future__ import annotations

from dataclasses import dataclass, field

import structlog
from pymongo.errors import DuplicateKeyError

from gnews.agencies.service import active_agency
from gnews.core.clock import utcnow
from gnews.core.persistence import update_one
from gnews.plugins import PluginManager
from gnews.sources.models import API_ORIGIN, Source
from gnews.specs import NewsSourceSpec

log = structlog.get_logger(__name__)

# Fields a plugin owns: re-applied at every start-up. Trust and enabled are set when the source
# is first created; after that they are the editors' to change.
PLUGIN_OWNED_FIELDS = (
    "name",
    "agency",
    "feed_url",
    "language",
    "provinces",
    "categories",
    "poll_interval_minutes",
)


@dataclass
class SourceSyncReport:
    """What a sync did, by ``plugin/slug``."""

    created: list[str] = field(default_factory=list)
    updated: list[str] = field(default_factory=list)
    disabled: list[str] = field(default_factory=list)


async def sync_plugin_sources(plugins: PluginManager) -> SourceSyncReport:
    """Create or update each declared source; disable (never delete) undeclared ones.

    Sources of a plugin that failed to load, or whose hook raised (or returned an invalid
    declaration) this time, are left as they are: a transient error in a plugin must not switch
    its feeds off.
    """
    report = SourceSyncReport()
    failures_before = len(plugins.failures)
    collected = plugins.collect("gnews_news_sources", NewsSourceSpec)
    raised = plugins.failed_plugins(since=failures_before)
    declared: set[tuple[str, str]] = set()
    for plugin, spec in collected:
        if await active_agency(spec.agency) is None:
            plugins.record_failure(
                plugin,
                ValueError(f"source {spec.slug!r}: unknown agency {spec.agency!r}"),
                "gnews_news_sources",
            )
            continue
        declared.add((plugin, spec.slug))
        await _upsert(plugin, spec, report)
    stale = Source.find(
        {"origin": {"$nin": [API_ORIGIN, *raised]}, "declared": True},
    )
    async for source in stale:
        if (source.origin, source.slug) not in declared:
            await update_one(
                Source,
                {"_id": source.id, "declared": True},
                set={"declared": False, "enabled": False, "updated_at": utcnow()},
            )
            report.disabled.append(f"{source.origin}/{source.slug}")
            log.warning(
                "source no longer declared; disabled", source=source.slug, plugin=source.origin
            )
    return report


async def _upsert(plugin: str, spec: NewsSourceSpec, report: SourceSyncReport) -> None:
    values = spec.model_dump(mode="json", include=set(PLUGIN_OWNED_FIELDS))
    source = await Source.find_one(Source.origin == plugin, Source.slug == spec.slug)
    name = f"{plugin}/{spec.slug}"
    if source is None:
        try:
            await Source(
                origin=plugin, slug=spec.slug, trusted=spec.trusted, enabled=spec.enabled, **values
            ).insert()
        except DuplicateKeyError:
            return  # another API replica created it at the same moment
        report.created.append(name)
        return
    changes = {k: v for k, v in values.items() if getattr(source, k) != v}
    if not source.declared:  # declared again after being dropped: back to what the plugin says
        changes.update(declared=True, enabled=spec.enabled)
    if changes:
        await update_one(Source, {"_id": source.id}, set={**changes, "updated_at": utcnow()})
        report.updated.append(name)

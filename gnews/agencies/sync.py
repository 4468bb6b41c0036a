"""Agencies declared by plugins (``gnews_agencies``) are created at start-up if missing."""

from __future__ import annotations

import structlog
from pymongo.errors import DuplicateKeyError

from gnews.agencies.models import Agency
from gnews.plugins import PluginManager
from gnews.specs import AgencySpec

log = structlog.get_logger(__name__)


async def sync_plugin_agencies(plugins: PluginManager) -> list[str]:
    """Create each declared agency that does not exist yet; returns the codes created.

    An existing agency is left alone: admins own names and trust once it exists. A malformed
    declaration is reported with the plugin's name and skipped.
    """
    created = []
    for plugin, spec in plugins.collect("gnews_agencies", AgencySpec):
        if await Agency.find_one(Agency.code == spec.code):
            continue
        try:
            await Agency(**spec.model_dump(mode="json")).insert()
        except DuplicateKeyError:
            continue  # another replica created it at the same moment
        log.info("agency created from plugin", agency=spec.code, plugin=plugin)
        created.append(spec.code)
    return created

"""Province tagging of news items.

The text gazetteer (:mod:`gnews.geo.geotag`) is a built-in plugin implementing
``gnews_item_provinces`` like any agency plugin would. :func:`assign_provinces` combines, with a
reason for each province: the source's default provinces, the text, and other plugins.
"""

from __future__ import annotations

import html

import nh3

from gnews.geo.geotag import find_provinces
from gnews.geo.provinces import UnknownProvinceError, check_province_code
from gnews.hookspecs import hookimpl
from gnews.news.models import NewsItem, ProvinceTag
from gnews.plugins import PluginManager
from gnews.sources.models import Source
from gnews.specs import NewsItemView
from gnews.thai.text import index_terms

TEXT_TAGGER = "gnews.news.tagging"  # this module's name as a registered plugin


def item_text(item: NewsItemView) -> str:
    """Title, summary and the text of the content of an item, for tagging and search."""
    content = html.unescape(nh3.clean(item.content_html, tags=set())) if item.content_html else ""
    return "\n".join(part for part in (item.title, item.summary, content) if part)


@hookimpl
def gnews_item_provinces(item: NewsItemView) -> list[str]:
    """Provinces named in the item's text (full names, จังหวัด…/จ.… forms, short forms, English)."""
    return [mention.code for mention in find_provinces(item_text(item))]


def assign_provinces(item: NewsItem, source: Source, plugins: PluginManager) -> None:
    """Set ``item.province_tags`` and ``item.provinces``; no province means national."""
    tags = [ProvinceTag(code=code, reason="source") for code in source.provinces]
    for result in plugins.answers(plugins.hook.gnews_item_provinces, item=item):
        reason = "text" if result.plugin == TEXT_TAGGER else "plugin"
        detail = None if reason == "text" else result.plugin
        for value in plugins.iterate(result, "gnews_item_provinces"):
            try:
                code = check_province_code(str(value))
            except UnknownProvinceError as error:
                plugins.record_failure(result.plugin, error, "gnews_item_provinces")
                continue
            tags.append(ProvinceTag(code=code, reason=reason, detail=detail))
    first_tags: dict[str, ProvinceTag] = {}  # one tag per province: its first
    for tag in tags:
        first_tags.setdefault(tag.code, tag)
    item.province_tags = list(first_tags.values())
    item.provinces = [tag.code for tag in item.province_tags]


def warm_up() -> None:
    """Build the gazetteer and the search dictionary now (about 1-2 s), not during a poll.

    Their caches are per process; concurrent first polls would otherwise each build them.
    """
    find_provinces("จังหวัดนครสวรรค์ Nakhon Sawan")
    index_terms("สำนักงานประกันสังคม")

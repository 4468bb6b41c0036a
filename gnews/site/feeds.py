"""Atom and RSS documents of a page's news (feedgen), with absolute links to the item pages."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass
from datetime import UTC, datetime
from typing import Literal

from feedgen.feed import FeedGenerator  # type: ignore[import-untyped]  # no stubs

from gnews.core.clock import as_utc
from gnews.news.models import NewsItem

FeedFormat = Literal["atom", "rss"]
MEDIA_TYPES: dict[str, str] = {
    "atom": "application/atom+xml; charset=utf-8",
    "rss": "application/rss+xml; charset=utf-8",
}


@dataclass(frozen=True, slots=True)
class FeedInfo:
    """What a feed is about: its title and description, its page and its own URL (absolute)."""

    title: str
    description: str
    page_url: str
    feed_url: str
    language: str = "th"


def last_modified(items: Sequence[NewsItem]) -> float | None:
    """When the newest change shown in a feed happened (epoch seconds), None when empty."""
    moments = [as_utc(item.updated_at).timestamp() for item in items]
    moments += [as_utc(item.published_at).timestamp() for item in items]
    return max(moments) if moments else None


def render_feed(info: FeedInfo, items: Sequence[NewsItem], origin: str, fmt: FeedFormat) -> bytes:
    """The feed document of ``items`` (newest first), each linking to its page on the site."""
    generator = FeedGenerator()
    generator.id(info.feed_url)
    generator.title(info.title)
    generator.subtitle(info.description or info.title)  # RSS requires a description
    # RSS's <link> is the last link added: the page; the feed's own URL goes first.
    generator.link(href=info.feed_url, rel="self")
    generator.link(href=info.page_url, rel="alternate")
    generator.language(info.language)
    generator.generator("G-News")
    newest = last_modified(items)
    generator.updated(datetime.fromtimestamp(newest or 0, UTC))
    # feedgen writes entries in reverse order of adding: add the oldest first.
    for item in reversed(items):
        url = f"{origin}/news/{item.id}"
        entry = generator.add_entry()
        entry.id(url)
        entry.guid(url, permalink=True)
        entry.title(item.title)
        entry.link(href=url, rel="alternate")
        if item.summary:
            entry.summary(item.summary)
        entry.published(as_utc(item.published_at))
        entry.updated(max(as_utc(item.updated_at), as_utc(item.published_at)))
        for category in item.categories:
            entry.category(term=category)
    if fmt == "atom":
        return generator.atom_str(pretty=False)
    return generator.rss_str(pretty=False)

"""Every hook raises: items must still flow."""

from gnews.hookspecs import hookimpl


@hookimpl
def gnews_process_item(item, source):
    """Broken."""
    raise RuntimeError("process_item broke")


@hookimpl
def gnews_item_provinces(item):
    """Broken."""
    raise RuntimeError("item_provinces broke")


@hookimpl
def gnews_news_sources():
    """Broken."""
    raise RuntimeError("sources unavailable")

"""Prefixes titles, drops seminars, and tags everything with Narathiwat (TH-96)."""

from gnews.hookspecs import hookimpl


@hookimpl
def gnews_process_item(item, source):
    """Drop seminar announcements; prefix the rest."""
    if "สัมมนา" in item.title:
        return False
    item.title = f"[EGA] {item.title}"
    return None


@hookimpl
def gnews_item_provinces(item):
    """Every item concerns Narathiwat, plus one invalid code that must be ignored."""
    return ["TH-96", "TH-00"]

"""Leaves a value on every item that MongoDB cannot store: the poll fails unexpectedly."""

from gnews.hookspecs import hookimpl


@hookimpl
def gnews_process_item(item, source):
    """Broken in a way no hook wrapper sees: the damage shows only when the item is stored."""
    object.__setattr__(item, "author", object())

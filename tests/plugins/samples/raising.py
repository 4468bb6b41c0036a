"""A plugin whose every hook raises: it must never take the service down."""

from gnews.hookspecs import hookimpl


@hookimpl
def gnews_agencies():
    """Broken."""
    raise RuntimeError("agency list unavailable")


@hookimpl
def gnews_startup(app):
    """Broken."""
    raise RuntimeError("cannot start")

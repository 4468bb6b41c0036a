"""A plugin whose async start-up hook fails when awaited."""

from gnews.hookspecs import hookimpl


@hookimpl
async def gnews_startup(app):
    """Fails once awaited."""
    raise RuntimeError("async start-up failed")

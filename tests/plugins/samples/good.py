"""A well-behaved plugin: declares an agency and records that start-up called it."""

from gnews.hookspecs import AgencySpec, hookimpl

started_with = []


@hookimpl
def gnews_agencies():
    """A provincial office."""
    return [AgencySpec(code="nakhonsawan", name_th="ศาลากลางจังหวัดนครสวรรค์", name_en="Nakhon Sawan")]


@hookimpl
async def gnews_startup(app):
    """Remember the app (a coroutine implementation)."""
    started_with.append(app)

"""A ``firstresult`` hook spec for the tests (the contract has none yet)."""

from gnews.hookspecs import hookspec


@hookspec(firstresult=True)
def gnews_test_pick(value: str) -> str | None:
    """The first answer that is not None wins; later implementations are not called."""

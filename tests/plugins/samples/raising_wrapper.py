"""Hook wrappers that raise, before and after their ``yield``: each must be passed over."""

from gnews.hookspecs import hookimpl


class RaisesBeforeYield:
    """Fails while setting up."""

    @hookimpl(wrapper=True)
    def gnews_agencies(self):
        """Broken before yielding."""
        raise RuntimeError("wrapper set-up failed")
        yield  # pragma: no cover - makes this a generator


class RaisesAfterYield:
    """Fails while looking at the result."""

    @hookimpl(wrapper=True)
    def gnews_agencies(self):
        """Broken after yielding."""
        yield
        raise RuntimeError("wrapper teardown failed")


class OldStyleRaisesAfterYield:
    """An old-style wrapper failing in its teardown."""

    @hookimpl(hookwrapper=True)
    def gnews_agencies(self):
        """Broken after yielding."""
        yield
        raise RuntimeError("old-style teardown failed")


class ReturnsNone:
    """Forgets to return the result."""

    @hookimpl(wrapper=True)
    def gnews_agencies(self):
        """Returns None instead of the list of answers."""
        yield

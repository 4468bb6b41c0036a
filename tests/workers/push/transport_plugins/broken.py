"""Plugins that misbehave: one hook raises, one returns something that is not a transport."""

from gnews.hookspecs import hookimpl


class Raising:
    @hookimpl
    def gnews_push_transports(self, settings):
        raise RuntimeError("push gateway credentials missing")


class NotATransport:
    @hookimpl
    def gnews_push_transports(self, settings):
        return ["fcm"]

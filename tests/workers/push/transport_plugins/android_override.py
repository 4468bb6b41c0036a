"""A plugin replacing the built-in Android transport (e.g. with Huawei Push Kit's gateway)."""

from gnews.hookspecs import hookimpl
from tests.workers.push.transport_plugins.line import LineTransport


class OtherAndroidTransport(LineTransport):
    """Takes over the ``android`` platform."""

    platform = "android"


@hookimpl
def gnews_push_transports(settings):
    """Replace FCM."""
    return [OtherAndroidTransport()]

"""A plugin adding a third channel (LINE), as an operator would: only gnews.hookspecs imported."""

from gnews.hookspecs import PushOutcome, hookimpl


class LineTransport:
    """Pretends to deliver through LINE; remembers what it sent."""

    platform = "line"

    def __init__(self) -> None:
        self.sent: list[tuple[str, list[str]]] = []
        self.closed = False

    async def send(self, message, tokens):
        """Every token is delivered."""
        self.sent.append((message.notification_id, list(tokens)))
        return [PushOutcome(token=token, status="sent") for token in tokens]

    async def aclose(self):
        """Nothing to release."""
        self.closed = True


@hookimpl
def gnews_push_transports(settings):
    """The LINE channel."""
    return [LineTransport()]

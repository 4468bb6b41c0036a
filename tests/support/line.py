"""A third-party push channel as a plugin: LINE Messaging API (platform ``line``), and a loopback
emulator of the part of the API it uses. ``docs/plugins.md`` walks through the same channel.

The plugin part (down to :class:`LineTransport`) imports only the plugin contract
(``gnews.hookspecs``; httpx in the transport), as an outside package would. It is loaded by
dotted path (``GNEWS_PLUGINS=tests.support.line``) and configured with
``GNEWS_PLUGIN_LINE_CHANNEL_TOKEN`` and ``GNEWS_PLUGIN_LINE_ENDPOINT``.

LINE: ``POST {endpoint}/v2/bot/message/multicast`` with ``Authorization: Bearer <channel access
token>`` and ``{"to": [up to 500 user ids], "messages": [...]}``; ``X-Line-Retry-Key`` (a UUID)
makes a retried request safe (LINE answers 409 when it already accepted that key). 200 ``{}``
on success; 400 ``{"message", "details": [{"message", "property": "to[3]"}]}`` names the bad
user ids; 401 a bad channel token; 429 over the rate limit; 5xx LINE's own trouble.
"""

from __future__ import annotations

import asyncio
import json
import random
import re
import uuid
from typing import Any

from gnews.hookspecs import (
    PushMessage,
    PushOutcome,
    PushPlatform,
    PushSettings,
    PushTransport,
    hookimpl,
    plugin_config,
)

PLUGIN = "line"
MAX_RECIPIENTS = 500  # LINE's multicast limit
LINE_USER_ID = re.compile(r"^U[0-9a-f]{32}$")
INVALID_RECIPIENT = re.compile(r"^to\[(\d+)\]$")


# --- The platform ----------------------------------------------------------------------------


def line_user_id(n: int = 0) -> str:
    """A LINE user id (``U`` and 32 hex digits), unique per ``n``."""
    return f"U{n + 1:032x}"


def check_line_user_id(token: str) -> str | None:
    """None for a LINE user id, else the rule."""
    if LINE_USER_ID.fullmatch(token):
        return None
    return "a LINE user id: U and 32 hexadecimal digits"


LINE = PushPlatform(
    name="line",
    label_th="ไลน์",
    label_en="LINE",
    validate_token=check_line_user_id,
    max_title_chars=100,
    max_body_chars=2000,
)


@hookimpl
def gnews_push_platforms() -> list[PushPlatform]:
    """``line``: LINE user ids of the official account's friends."""
    return [LINE]


@hookimpl
def gnews_push_transports(settings: PushSettings) -> list[PushTransport]:
    """The LINE transport when its channel access token is configured."""
    config = plugin_config(PLUGIN)
    token = config.get("channel_token")
    if not token:
        return []
    return [LineTransport(token, config.get("endpoint", "https://api.line.me"))]


# --- The transport ---------------------------------------------------------------------------


def line_messages(message: PushMessage) -> list[dict[str, Any]]:
    """The LINE messages of a notification: one text message (title, body, link)."""
    lines = [message.title, message.body]
    if link := message.data.get("url"):
        lines.append(link)
    return [{"type": "text", "text": "\n".join(line for line in lines if line)[:5000]}]


def classify(status: int, body: bytes, tokens: list[str]) -> tuple[str, set[str], str | None]:
    """(kind, bad user ids, reason) of a multicast answer: kind ``sent``, ``invalid`` (retry
    without the bad ids), ``retry`` or ``failed``. The one place LINE's answers are mapped."""
    if status in (200, 409):  # 409: this X-Line-Retry-Key was already accepted
        return "sent", set(), None
    try:
        answer = json.loads(body)
    except ValueError:
        answer = {}
    reason = f"{status}: {answer.get('message', '')}".rstrip(": ")
    if status == 400:
        bad = set()
        for detail in answer.get("details") or []:
            found = INVALID_RECIPIENT.match(str(detail.get("property", "")))
            if found and int(found.group(1)) < len(tokens):
                bad.add(tokens[int(found.group(1))])
        if bad:
            return "invalid", bad, reason
    if status == 429 or status >= 500:
        return "retry", set(), reason
    return "failed", set(), reason


class LineTransport:
    """Sends notifications as LINE text messages to the user ids of a batch."""

    platform = "line"

    def __init__(self, channel_token: str, endpoint: str, *, max_attempts: int = 3) -> None:
        self.url = f"{endpoint.rstrip('/')}/v2/bot/message/multicast"
        self._token = channel_token
        self.max_attempts = max_attempts
        self._client: Any = None

    async def send(self, message: PushMessage, tokens: list[str]) -> list[PushOutcome]:
        """One multicast per 500 user ids; one outcome per token, in order."""
        outcomes: dict[str, PushOutcome] = {}
        for start in range(0, len(tokens), MAX_RECIPIENTS):
            outcomes.update(await self._multicast(message, tokens[start : start + MAX_RECIPIENTS]))
        return [outcomes[token] for token in tokens]

    async def _multicast(self, message: PushMessage, tokens: list[str]) -> dict[str, PushOutcome]:
        import httpx

        if self._client is None:
            self._client = httpx.AsyncClient(timeout=httpx.Timeout(10.0))
        done: dict[str, PushOutcome] = {}
        pending = list(tokens)
        retry_key = str(uuid.uuid4())
        attempt = 0
        while pending:
            attempt += 1
            try:
                response = await self._client.post(
                    self.url,
                    json={"to": pending, "messages": line_messages(message)},
                    headers={
                        "Authorization": f"Bearer {self._token}",
                        "X-Line-Retry-Key": retry_key,
                    },
                )
                kind, bad, reason = classify(response.status_code, response.content, pending)
            except httpx.HTTPError as error:
                kind, bad, reason = "retry", set(), f"{type(error).__name__}: {error}"
            if kind == "invalid":  # the others were not sent: again without the bad ones
                for token in bad:
                    done[token] = PushOutcome(
                        token=token, status="invalid_token", reason=reason, attempts=attempt
                    )
                pending = [token for token in pending if token not in bad]
                retry_key = str(uuid.uuid4())  # a different request now
                continue
            if kind == "retry" and attempt < self.max_attempts:
                await asyncio.sleep(0.05 * 2**attempt * random.uniform(0.5, 1))
                continue
            status = "sent" if kind == "sent" else "failed"
            for token in pending:
                done[token] = PushOutcome(
                    token=token, status=status, reason=reason, attempts=attempt
                )
            pending = []
        return done

    async def aclose(self) -> None:
        """Close the HTTP client."""
        if self._client is not None:
            await self._client.aclose()
            self._client = None


# --- A loopback emulator of LINE's multicast (for the tests) ---------------------------------


class LineEmulator:
    """``POST /v2/bot/message/multicast`` on loopback: checks the bearer token and the user ids
    (400 naming ``to[i]`` for ones it does not know), answers ``fail_next`` statuses first, and
    records what each user id received."""

    def __init__(self, channel_token: str = "line-test-channel-token") -> None:
        from aiohttp import web

        self.channel_token = channel_token
        self.received: list[tuple[str, dict[str, Any]]] = []  # (user id, message)
        self.unknown: set[str] = set()  # user ids that blocked the account / do not exist
        self.fail_next: list[int] = []
        self.requests = 0
        self.app = web.Application()
        self.app.router.add_post("/v2/bot/message/multicast", self._multicast)
        self._runner: web.AppRunner | None = None
        self.url = ""

    async def __aenter__(self) -> LineEmulator:
        from aiohttp import web

        self._runner = web.AppRunner(self.app, access_log=None, handle_signals=False)
        await self._runner.setup()
        await web.TCPSite(self._runner, "127.0.0.1", 0).start()
        self.url = f"http://127.0.0.1:{self._runner.addresses[0][1]}"
        return self

    async def __aexit__(self, *exc: object) -> None:
        if self._runner is not None:
            await self._runner.cleanup()

    def env(self) -> dict[str, str]:
        """The plugin's settings pointing at this emulator."""
        return {
            "GNEWS_PLUGIN_LINE_CHANNEL_TOKEN": self.channel_token,
            "GNEWS_PLUGIN_LINE_ENDPOINT": self.url,
        }

    def for_user(self, user_id: str) -> list[dict[str, Any]]:
        """The messages ``user_id`` received."""
        return [message for user, message in self.received if user == user_id]

    async def _multicast(self, request: Any) -> Any:
        from aiohttp import web

        self.requests += 1
        if request.headers.get("Authorization") != f"Bearer {self.channel_token}":
            return web.json_response({"message": "Authentication failed"}, status=401)
        if self.fail_next:
            return web.json_response({"message": "try later"}, status=self.fail_next.pop(0))
        body = await request.json()
        to, messages = body.get("to"), body.get("messages")
        if not isinstance(to, list) or not 1 <= len(to) <= MAX_RECIPIENTS or not messages:
            return web.json_response({"message": "The request body has 1 error(s)"}, status=400)
        details = [
            {"message": "invalid user id", "property": f"to[{index}]"}
            for index, user in enumerate(to)
            if not LINE_USER_ID.fullmatch(str(user)) or user in self.unknown
        ]
        if details:
            text = f"The request body has {len(details)} error(s)"
            return web.json_response({"message": text, "details": details}, status=400)
        for user in to:
            for message in messages:
                self.received.append((user, message))
        return web.json_response({})

"""A third-party push channel as a test plugin: LINE Messaging API (platform ``line``).

Only the plugin contract is used (``gnews.hookspecs``, ``gnews.specs``), as an outside package
would; ``docs/plugins.md`` walks through the same channel.
"""

from __future__ import annotations

import re

from gnews.hookspecs import hookimpl
from gnews.specs import PushPlatform

LINE_USER_ID = re.compile(r"^U[0-9a-f]{32}$")


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


class LinePlugin:
    """Declares the ``line`` platform."""

    @hookimpl
    def gnews_push_platforms(self) -> list[PushPlatform]:
        """``line``: LINE user ids."""
        return [LINE]

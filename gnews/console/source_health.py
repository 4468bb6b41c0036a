"""A source's health in words, for every console page that shows sources (the agency's list
here, the editors' source management): one place that says what a poll error kind means and
whether a source is healthy, failing or off.

Templates call :func:`health_of` (registered as the template global ``source_health``) and show
``state``, ``label`` and ``error`` with ``tr``.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Literal

from gnews.sources.models import Source

State = Literal["ok", "failing", "warning", "disabled", "new"]

ERROR_KINDS: dict[str, tuple[str, str]] = {
    "invalid_url": ("ที่อยู่ฟีดไม่ถูกต้อง", "The feed address is not a valid URL"),
    "blocked": (
        "ที่อยู่ฟีดชี้ไปยังเครือข่ายภายในซึ่งไม่อนุญาต",
        "The feed address points to a private network, which is not allowed",
    ),
    "dns": ("ไม่พบชื่อโดเมนของฟีด", "The feed's host name could not be found (DNS)"),
    "connect": ("เชื่อมต่อเซิร์ฟเวอร์ของฟีดไม่ได้", "Could not connect to the feed's server"),
    "timeout": ("เซิร์ฟเวอร์ของฟีดตอบช้าเกินไป", "The feed's server took too long to answer"),
    "http_status": ("เซิร์ฟเวอร์ของฟีดตอบกลับเป็นข้อผิดพลาด", "The feed's server answered with an error"),
    "too_large": ("ฟีดมีขนาดใหญ่เกินกำหนด", "The feed is larger than allowed"),
    "too_many_redirects": ("ฟีดถูกเปลี่ยนเส้นทางหลายครั้งเกินไป", "The feed redirected too many times"),
    "tls": (
        "ใบรับรองความปลอดภัย (TLS) ของเซิร์ฟเวอร์ไม่ถูกต้อง",
        "The server's TLS certificate is not valid",
    ),
    "protocol": ("เซิร์ฟเวอร์ของฟีดตอบผิดรูปแบบ HTTP", "The feed's server broke the HTTP protocol"),
    "parse": (
        "อ่านเนื้อหาฟีดไม่ได้ (ไม่ใช่ RSS/Atom ที่ถูกต้อง)",
        "The feed could not be read (not valid RSS/Atom)",
    ),
    "internal": ("เกิดข้อผิดพลาดภายในระหว่างดึงฟีด", "An internal error happened while polling the feed"),
}
"""What each ``Source.last_error_kind`` means, Thai and English."""


@dataclass(frozen=True)
class SourceHealth:
    """How a source is doing, ready to show: ``state`` (a CSS class), a label and the last
    error in words (Thai and English pairs; ``detail`` is the poller's own one-line message)."""

    state: State
    label: tuple[str, str]
    error: tuple[str, str] | None
    detail: str | None


def error_in_words(kind: str | None) -> tuple[str, str] | None:
    """The Thai and English words for a poll error ``kind`` (None when there is none)."""
    if not kind:
        return None
    return ERROR_KINDS.get(kind, (f"ข้อผิดพลาด ({kind})", f"Error ({kind})"))


def health_of(source: Source) -> SourceHealth:
    """The health of ``source`` from its polling state."""
    error = error_in_words(source.last_error_kind)
    if not source.enabled:
        state: State = "disabled"
        label = ("ปิดใช้งาน", "Disabled")
    elif source.consecutive_failures > 0:
        state = "failing"
        label = (
            f"ล้มเหลว {source.consecutive_failures} ครั้งติดต่อกัน",
            f"Failing ({source.consecutive_failures} in a row)",
        )
    elif source.last_success_at is None:
        state = "new"
        label = ("ยังไม่เคยดึงสำเร็จ", "Not polled successfully yet")
    elif source.last_warning:
        state = "warning"
        label = ("ใช้งานได้ มีคำเตือน", "Working, with a warning")
    else:
        state = "ok"
        label = ("ปกติ", "Healthy")
    return SourceHealth(state, label, error, source.last_error or source.last_warning)

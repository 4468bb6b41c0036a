"""Helpers of the notification tests."""

from __future__ import annotations

from typing import Any


def note(**changes: Any) -> dict[str, Any]:
    """A valid notification body."""
    return {
        "title_th": "ประกาศจังหวัดนครสวรรค์",
        "body_th": "น้ำท่วมถนนสายหลัก โปรดหลีกเลี่ยง",
        "audience": {"provinces": ["TH-60"]},
        **changes,
    }

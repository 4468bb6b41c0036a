"""Featured and pinned highlights (news items, GAC listings): one expiry rule for both."""

from __future__ import annotations

from datetime import datetime, timedelta

from gnews.core.clock import as_utc, utcnow
from gnews.core.errors import FieldError

MAX_HIGHLIGHT = timedelta(days=30)
"""How far ahead an item may be featured or pinned."""


def check_until(until: datetime) -> datetime:
    """``until`` in UTC if it is in the future and at most :data:`MAX_HIGHLIGHT` ahead (else 422
    naming ``until``)."""
    until = as_utc(until)
    now = utcnow()
    if until <= now:
        raise FieldError("until", "must be in the future")
    if until > now + MAX_HIGHLIGHT:
        raise FieldError("until", f"must be at most {MAX_HIGHLIGHT.days} days ahead")
    return until


def is_active(until: datetime | None) -> bool:
    """True while a ``featured_until`` / ``pinned_until`` lies in the future."""
    return until is not None and as_utc(until) > utcnow()

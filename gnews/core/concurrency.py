"""Optimistic concurrency: a change made from a form (or any copy) read earlier never overwrites
a change made meanwhile."""

from __future__ import annotations

from datetime import datetime
from typing import Any

from gnews.core.clock import as_utc
from gnews.core.errors import ConflictError


def unchanged_since(updated_at: datetime, read_at: datetime | None, stale: str) -> dict[str, Any]:
    """The guard of a change made from a form read at ``read_at`` (None: no form, no guard).

    ``ConflictError(stale)`` at once when the record's ``updated_at`` is no longer ``read_at``;
    else the filter condition to add to the guarded write (gnews.core.persistence), so a change
    made in between still wins: the write then matches nothing and the caller answers ``stale``
    too. The persistence seam makes that comparison exact on every server.
    """
    if read_at is None:
        return {}
    if as_utc(updated_at) != as_utc(read_at):
        raise ConflictError(stale)
    return {"updated_at": read_at}

"""What the embedded MongoDB-compatible server (nx-27017) needs differently, in one place.

nx-27017 (a MongoDB wire-protocol server over SQLite, the ``gnews dev`` default) differs from
MongoDB in ways that matter to writes (checked against its source and by experiment):

- ``$set`` (and ``$max``/``$min``) of a datetime, at the top level or by a dotted path, stores
  the string ``'2026-01-01 00:00:00'``; every later date comparison on that field fails.
  ``$push`` stores every document it appends as a JSON string. Datetimes inside a ``$set``
  sub-document or list, inserts and whole-document replaces keep real dates.
- Update pipelines (``[{"$set": …}]``, ``$$NOW``) are rejected.
- ``partialFilterExpression`` is ignored: a "partial" unique index is unique over every document.
  Its unique indexes, like SQLite's, accept any number of documents without the field (or null).
- Every command runs under one per-database lock (so each single command is atomic).

The persistence package detects the server once per client (``buildInfo`` answers
``process: nx_27017``) and picks the strategy; domain code never asks.
"""

from __future__ import annotations

import weakref
from typing import TYPE_CHECKING, Any

from pymongo.errors import PyMongoError

if TYPE_CHECKING:
    from gnews.core.persistence.updates import Update

# The compare-and-swap counter every update bumps on the embedded server. Models do not declare
# it (pydantic ignores it when loading); MongoDB never gets it.
REVISION = "_rev"

EMBEDDED_PROCESS = "nx_27017"

_KNOWN: weakref.WeakKeyDictionary[Any, bool] = weakref.WeakKeyDictionary()


async def detect(client: Any) -> bool:
    """Ask the server once whether it is the embedded one (cached per client)."""
    known = _KNOWN.get(client)
    if known is not None:
        return known
    try:
        info = await client.admin.command("buildInfo")
    except PyMongoError:
        return False  # not cached: asked again once the server answers
    embedded = info.get("process") == EMBEDDED_PROCESS
    _KNOWN[client] = embedded
    return embedded


async def is_embedded(collection: Any) -> bool:
    """True when ``collection`` lives on the embedded server."""
    return await detect(collection.database.client)


def needs_compare_and_swap(update: Update) -> bool:
    """True when the embedded server would store ``update`` wrongly if sent as it is."""
    from gnews.core.persistence.updates import contains_datetime

    return bool(update.push) or any(contains_datetime(value) for value in update.set.values())

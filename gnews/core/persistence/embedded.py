"""What the embedded MongoDB-compatible server (nx-27017) needs differently, in one place.

nx-27017 (a MongoDB wire-protocol server over SQLite, the ``gnews dev`` default) differs from
MongoDB in ways that matter to writes (checked against its source and by experiment):

- ``$set`` (and ``$max``/``$min``) of a datetime, at the top level or by a dotted path, stores
  the string ``'2026-01-01 00:00:00'``; every later date comparison on that field fails.
  ``$push`` stores every document it appends as a JSON string. Datetimes inside a ``$set``
  sub-document or list, inserts and whole-document replaces keep real dates.
- A datetime equality in a filter matches any time within the same second; an update guarded
  by one (a version on ``updated_at``) is done as the compare-and-swap, which checks it exactly.
- Update pipelines (``[{"$set": …}]``, ``$$NOW``) are rejected.
- ``partialFilterExpression`` is ignored: a "partial" unique index is unique over every document.
  Its unique indexes, like SQLite's, accept any number of documents without the field (or null).
- Every command runs under one per-database lock (so each single command is atomic).

The persistence package detects the server once per client (``buildInfo`` answers
``process: nx_27017``) and picks the strategy; domain code never asks.
"""

from __future__ import annotations

import weakref
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from typing import TYPE_CHECKING, Any

from pymongo import ASCENDING, IndexModel
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


def needs_compare_and_swap(model: type, update: Update) -> bool:
    """True when the embedded server would store ``update`` wrongly if sent as it is, or when
    ``model`` keeps shadow fields (:func:`adapt_indexes`) that only a whole document updates."""
    from gnews.core.persistence.updates import contains_datetime

    if has_shadows(model):
        return True
    return bool(update.push) or any(contains_datetime(value) for value in update.set.values())


# -- partial unique indexes ---------------------------------------------------------------------


@dataclass(frozen=True)
class ShadowUnique:
    """A partial unique index, as the embedded server enforces it: a unique index on a shadow
    field that holds the indexed value while the document matches the partial filter, and null
    otherwise (its unique indexes, like SQLite's, admit any number of nulls)."""

    field: str
    keys: tuple[str, ...]
    condition: Mapping[str, Any]

    def value(self, raw: Mapping[str, Any]) -> Any:
        """The shadow value of the stored document ``raw``."""
        if not _matches(self.condition, raw):
            return None
        values = [raw.get(key) for key in self.keys]
        return values[0] if len(values) == 1 else values


_SHADOWS: dict[type, list[ShadowUnique]] = {}


def adapt_indexes(models: Sequence[type]) -> None:
    """Give the models' partial unique indexes their embedded variant (before beanie creates
    the indexes): nx-27017 ignores ``partialFilterExpression`` and would make the index unique
    over every document. Each becomes a unique index, of the same name, on a shadow field that
    the persistence package writes with every insert and update of that model."""
    for model in models:
        settings = getattr(model, "Settings", None)
        indexes = list(getattr(settings, "indexes", None) or [])
        adapted: list[Any] = []
        shadows: list[ShadowUnique] = []
        for index in indexes:
            spec = index.document if isinstance(index, IndexModel) else None
            if spec and spec.get("unique") and spec.get("partialFilterExpression"):
                shadow = ShadowUnique(
                    f"_unique_{spec['name']}", tuple(spec["key"]), spec["partialFilterExpression"]
                )
                shadows.append(shadow)
                adapted.append(
                    IndexModel([(shadow.field, ASCENDING)], unique=True, name=spec["name"])
                )
            else:
                adapted.append(index)
        if shadows:
            settings.indexes = adapted  # type: ignore[union-attr]
            _SHADOWS[model] = shadows


def has_shadows(model: type) -> bool:
    """True when ``model`` has partial unique indexes given their embedded variant."""
    return model in _SHADOWS


def add_shadows(model: type, raw: dict[str, Any]) -> dict[str, Any]:
    """``raw`` with the shadow fields of ``model`` (none unless :func:`adapt_indexes` made some)."""
    for shadow in _SHADOWS.get(model, ()):
        raw[shadow.field] = shadow.value(raw)
    return raw


def _matches(condition: Mapping[str, Any], raw: Mapping[str, Any]) -> bool:
    """The subset of a partial filter these indexes use: equality, ``$type: "string"``,
    ``$exists``."""
    for field, wanted in condition.items():
        value = raw.get(field)
        if isinstance(wanted, Mapping):
            for operator, operand in wanted.items():
                if operator == "$type" and operand == "string" and not isinstance(value, str):
                    return False
                if operator == "$exists" and (field in raw) != bool(operand):
                    return False
                if operator == "$eq" and value != operand:
                    return False
                if operator not in ("$type", "$exists", "$eq"):
                    raise ValueError(f"partial filter operator {operator} has no embedded variant")
        elif value != wanted:
            return False
    return True

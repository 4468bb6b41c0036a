"""Building the indexes the documents declare, and the embedded server's variant of them.

The documents declare MongoDB's indexes (``Settings.indexes``): every keyset sort has a compound
index with the equality prefix first, then the sort keys, then ``_id``. On MongoDB they are built
as declared. nx-27017, the embedded server, gets a variant (:func:`embedded_indexes`), because

* it rejects every insert into a collection with a compound index naming ``_id`` ("JSON path
  error near '_id'"), so ``_id`` is left out of compound indexes;
* an index on an array field cannot serve membership there (SQLite indexes the array's JSON
  text), so array fields are left out of compound indexes and their own non-unique indexes are
  not built;
* it serves an equality from an index only when an index whose name ends in ``_<field>``
  exists, so every scalar field of a compound index also gets a single-field helper index.

A failure to build an index is fatal (:class:`IndexBuildError`, logged with the index and the
reason): a missing unique index would let duplicates in, a missing sort index makes every page
a scan. Only an unreachable server is retried (``gnews.core.persistence.init_documents``).
"""

from __future__ import annotations

import types
import typing
from collections.abc import Sequence
from typing import Any

import structlog
from beanie import Document
from beanie.odm.utils.typing import get_index_attributes
from pymongo import ASCENDING, IndexModel
from pymongo.asynchronous.database import AsyncDatabase
from pymongo.errors import AutoReconnect, ConnectionFailure, PyMongoError

log = structlog.get_logger(__name__)

EMBEDDED_PROCESS = "nx_27017"
"""What nx-27017 answers as ``process`` in ``buildInfo``."""


class IndexBuildError(RuntimeError):
    """An index could not be built: the process must not serve with it missing."""

    def __init__(self, collection: str, keys: Sequence[tuple[str, Any]], reason: str) -> None:
        self.collection = collection
        self.keys = list(keys)
        self.reason = reason
        spec = ", ".join(f"{field}: {direction}" for field, direction in keys)
        super().__init__(f"cannot build index {{{spec}}} on {collection}: {reason}")


def _keys(index: IndexModel) -> list[tuple[str, Any]]:
    return list(index.document["key"].items())


def _options(index: IndexModel) -> dict[str, Any]:
    return {k: v for k, v in index.document.items() if k not in ("key", "name")}


def _is_list(annotation: Any) -> bool:
    origin = typing.get_origin(annotation)
    if origin in (typing.Union, types.UnionType):
        return any(_is_list(arg) for arg in typing.get_args(annotation))
    return origin in (list, set, tuple) or annotation in (list, set, tuple)


def array_fields(model: type[Document]) -> frozenset[str]:
    """The top-level fields of ``model`` that hold arrays (multikey in MongoDB's indexes)."""
    return frozenset(
        name for name, field in model.model_fields.items() if _is_list(field.annotation)
    )


def declared_indexes(model: type[Document]) -> list[IndexModel]:
    """MongoDB's indexes of ``model``: its fields marked ``Indexed(...)`` and its
    ``Settings.indexes``, as beanie would build them."""
    found = []
    for name, field in model.model_fields.items():
        attributes = get_index_attributes(field)
        if attributes is not None:
            found.append(IndexModel([(field.alias or name, attributes[0])], **attributes[1]))
    for index in getattr(model.Settings, "indexes", None) or []:
        found.append(index if isinstance(index, IndexModel) else IndexModel(index))
    return found


def embedded_indexes(model: type[Document]) -> list[IndexModel]:
    """The indexes nx-27017 gets for ``model`` instead of the declared ones (module docstring)."""
    arrays = array_fields(model)
    planned: dict[tuple[tuple[str, Any], ...], IndexModel] = {}
    helpers: list[str] = []

    def plan(keys: list[tuple[str, Any]], options: dict[str, Any]) -> None:
        planned.setdefault(tuple(keys), IndexModel(keys, **options))

    for index in declared_indexes(model):
        keys, options = _keys(index), _options(index)
        if options.get("unique"):
            if any(field == "_id" for field, _ in keys[:-1]) or (
                len(keys) > 1 and keys[-1][0] == "_id"
            ):
                raise IndexBuildError(
                    model.get_collection_name() or model.__name__,
                    keys,
                    "a unique index naming _id has no embedded variant",
                )
            plan(keys, options)
            if len(keys) > 1:
                helpers += [field for field, _ in keys if field.split(".")[0] not in arrays]
            continue
        kept = [(f, d) for f, d in keys if f != "_id" and f.split(".")[0] not in arrays]
        helpers += [field for field, _ in kept]
        if len(kept) > 1:
            plan(kept, options)
    for field in dict.fromkeys(helpers):
        plan([(field, ASCENDING)], {})
    return list(planned.values())


def planned_indexes(model: type[Document], *, embedded: bool) -> list[IndexModel]:
    """The indexes to build for ``model``: as declared, or the embedded variant."""
    return embedded_indexes(model) if embedded else declared_indexes(model)


async def build_indexes(
    database: AsyncDatabase, models: Sequence[type[Document]], *, embedded: bool
) -> int:
    """Build every planned index of ``models`` (existing ones are left as they are); the number
    of indexes planned. :class:`IndexBuildError` on the first that fails (also logged);
    connection errors propagate as they are (the server may come back)."""
    count = 0
    for model in models:
        name = model.get_collection_name() or model.Settings.name
        collection = database[name]
        # nx-27017 reports every key as ascending: compare fields only there.
        present = {
            (_spec(info.get("key", []), embedded), bool(info.get("unique")))
            for info in (await _existing(collection)).values()
        }
        for index in planned_indexes(model, embedded=embedded):
            count += 1
            wanted = (_spec(_keys(index), embedded), bool(index.document.get("unique")))
            if wanted in present:
                continue  # one round trip per collection when nothing is new
            try:
                await collection.create_indexes([index])
            except (AutoReconnect, ConnectionFailure):
                raise
            except PyMongoError as error:
                failure = IndexBuildError(name, _keys(index), str(error).splitlines()[0][:300])
                log.error(
                    "index build failed",
                    collection=name,
                    index=dict(_keys(index)),
                    options=_options(index),
                    reason=failure.reason,
                )
                raise failure from error
    return count


async def _existing(collection: Any) -> dict[str, Any]:
    try:
        return await collection.index_information()
    except PyMongoError:  # e.g. no such collection yet on some servers
        return {}


def _spec(keys: Any, fields_only: bool) -> tuple[tuple[str, int], ...]:
    items = keys.items() if isinstance(keys, dict) else keys
    try:
        return tuple((str(f), 0 if fields_only else int(d)) for f, d in items)
    except (TypeError, ValueError):
        return ()

"""Query shapes that both servers serve from an index.

MongoDB plans any filter; nx-27017, the embedded server, serves from SQLite indexes only a flat
AND of conditions on indexed fields (a top-level ``$and`` / ``$or`` makes it filter every
document in Python). These helpers write filters and counts in the shape both serve well, with
plain MongoDB semantics, so domain code stays free of the embedded server's rules.
"""

from __future__ import annotations

from collections.abc import AsyncIterator, Mapping, Sequence
from typing import Any, TypeVar

from beanie import Document, SortDirection
from pymongo.asynchronous.collection import AsyncCollection

from gnews.core.persistence import on_embedded_server

D = TypeVar("D", bound=Document)

_OPERATORS_THAT_MERGE = frozenset({"$gt", "$gte", "$lt", "$lte", "$ne", "$all", "$exists"})


def _merge(left: Any, right: Any) -> Any | None:
    """Two conditions on one field as one, when both are operator documents that do not
    repeat an operator (``{"$gte": a}`` and ``{"$lt": b}``); else None."""
    if not (isinstance(left, Mapping) and isinstance(right, Mapping)):
        return None
    if not all(op in _OPERATORS_THAT_MERGE for op in (*left, *right)):
        return None
    if set(left) & set(right):
        return None
    return {**left, **right}


def all_of(conditions: Sequence[Mapping[str, Any]]) -> dict[str, Any]:
    """The AND of ``conditions`` as one flat filter where their fields do not collide (ranges
    on one field are merged), with ``$and`` only for what cannot be merged."""
    flat: dict[str, Any] = {}
    rest: list[dict[str, Any]] = []
    for condition in conditions:
        for field, value in condition.items():
            if field in ("$or", "$nor"):
                # kept inside $and: nx-27017 drops the fields beside a top-level $or
                rest.append({field: value})
                continue
            if field not in flat and field != "$and":
                flat[field] = value
                continue
            merged = _merge(flat.get(field), value) if field != "$and" else None
            if merged is not None:
                flat[field] = merged
            elif field == "$and":
                rest += list(value)
            else:
                rest.append({field: value})
    if rest:
        flat["$and"] = rest
    return flat


def _scalar_only(query: Mapping[str, Any]) -> bool:
    return all(
        not field.startswith("$") and not isinstance(value, (Mapping, list))
        for field, value in query.items()
    )


async def count(collection: AsyncCollection, query: Mapping[str, Any]) -> int:
    """How many documents match ``query``.

    MongoDB: ``count_documents``. nx-27017 serves a count from an index only for equalities
    written ``{"$eq": value}`` (its count plans a bare equality as "equal or an array holding
    it", which no index serves); any other condition makes it filter every document in Python,
    where an aggregate ``$match`` + ``$count`` is the cheapest way.
    """
    if not on_embedded_server():
        return await collection.count_documents(dict(query))
    if _scalar_only(query):
        reply = await collection.database.command(
            {"count": collection.name, "query": {f: {"$eq": v} for f, v in query.items()}}
        )
        return int(reply["n"])
    found = await (await collection.aggregate([{"$match": dict(query)}, {"$count": "n"}])).to_list()
    return int(found[0]["n"]) if found else 0


async def count_by(
    collection: AsyncCollection, query: Mapping[str, Any], field: str, values: Sequence[Any]
) -> dict[Any, int]:
    """How many documents match ``query`` with each of ``values`` in the scalar ``field``.

    One count per value where that is served from an index; on nx-27017 a query it can only
    filter in Python is read once, grouped by ``field`` (:func:`count`).
    """
    if not on_embedded_server() or _scalar_only(query):
        return {value: await count(collection, {**query, field: value}) for value in values}
    pipeline = [
        {"$match": {**query, field: {"$in": list(values)}}},
        {"$group": {"_id": f"${field}", "n": {"$sum": 1}}},
    ]
    groups = await (await collection.aggregate(pipeline)).to_list()
    counted = {group["_id"]: int(group["n"]) for group in groups}
    return {value: counted.get(value, 0) for value in values}


async def stream_by_id(
    collection: AsyncCollection,
    query: Mapping[str, Any],
    projection: Mapping[str, Any],
    *,
    after: Any = None,
    chunk: int = 1000,
) -> AsyncIterator[dict[str, Any]]:
    """The documents matching ``query`` in ``_id`` order (those after ``after`` when given),
    ``projection`` only, without holding them all in memory on either server.

    MongoDB streams one cursor in batches of ``chunk``. nx-27017 reads a whole result before
    it answers, and a range on ``_id`` in a filter makes it filter every document in Python,
    so there it is read ``chunk`` documents at a time, each chunk bounded with the cursor
    option ``min`` on ``_id`` (an SQL range on its ``_id`` column).
    """
    if not on_embedded_server():
        filter_ = dict(query)
        if after is not None:
            filter_ = all_of([filter_, {"_id": {"$gt": after}}])
        cursor = collection.find(filter_, dict(projection), sort=[("_id", 1)], batch_size=chunk)
        try:
            async for document in cursor:
                yield document
        finally:
            await cursor.close()
        return
    # Equalities as {"$in": [value]}: the same documents, but no index of theirs for SQLite to
    # prefer over walking _id's (an equality on "active" would make it sort every device).
    query = {
        field: value if field.startswith("$") or isinstance(value, Mapping) else {"$in": [value]}
        for field, value in query.items()
    }
    last = after
    while True:
        options: dict[str, Any] = {"sort": [("_id", 1)], "limit": chunk + 1}
        if last is not None:
            options["min"] = {"_id": str(last)}
            options["hint"] = [("_id", 1)]
        documents = await collection.find(dict(query), dict(projection), **options).to_list()
        batch = [d for d in documents if last is None or d["_id"] > last][:chunk]
        for document in batch:
            yield document
        if len(batch) < chunk:
            return
        last = batch[-1]["_id"]


async def find_after_id(
    document: type[D],
    query: Mapping[str, Any],
    after: Any,
    *,
    descending: bool,
    limit: int,
    id_from: Any = None,
    id_before: Any = None,
) -> list[D]:
    """Up to ``limit`` documents of ``document`` matching ``query`` in ``_id`` order (newest
    first when ``descending``), strictly after the id ``after`` when it is given, and within
    ``id_from <= _id < id_before`` when those are given (e.g. ObjectIds of a time range).

    MongoDB: the ranges on ``_id`` in the filter. nx-27017 filters every document in Python for
    a range on ``_id`` in a filter, so there the ranges are the cursor options ``min``
    (inclusive) and ``max`` (exclusive), an SQL range on its ``_id`` column (the ``after``
    document itself is dropped when it is the inclusive bound).
    """
    direction = SortDirection.DESCENDING if descending else SortDirection.ASCENDING
    lower, upper = id_from, id_before  # lower inclusive, upper exclusive
    drop_after = False
    if after is not None:
        if descending:
            upper = after if upper is None else min(upper, after)
        else:
            drop_after = lower is None or after >= lower
            lower = after if lower is None else max(lower, after)
    if not on_embedded_server():
        conditions: list[Mapping[str, Any]] = [dict(query)]
        if lower is not None:
            conditions.append({"_id": {"$gt" if drop_after else "$gte": lower}})
        if upper is not None:
            conditions.append({"_id": {"$lt": upper}})
        filter_ = all_of(conditions)
        return await document.find(filter_).sort([("_id", direction)]).limit(limit).to_list()
    bounds: dict[str, Any] = {}
    if lower is not None:
        bounds["min"] = {"_id": str(lower)}
    if upper is not None:
        bounds["max"] = {"_id": str(upper)}
    if not bounds:
        return await document.find(dict(query)).sort([("_id", direction)]).limit(limit).to_list()
    found = (
        await document.find(dict(query), hint=[("_id", 1)], **bounds)
        .sort([("_id", direction)])
        .limit(limit + 1)
        .to_list()
    )
    return [item for item in found if not (drop_after and item.id == after)][:limit]


def one_of(values: Sequence[Any]) -> dict[str, Any]:
    """The condition "equals one of ``values``" on a scalar field (non-empty ``values``).

    ``$in`` with the values' range beside it: the same documents match on both servers, and
    nx-27017, which serves no ``$in`` from an index (only ``_id``'s), walks only that range of
    the field's index (narrow when the values are close, e.g. a feed's newest links).
    """
    distinct = sorted(dict.fromkeys(values))
    if not distinct:
        return {"$in": []}
    if len(distinct) == 1:
        return {"$eq": distinct[0]}
    return {"$in": distinct, "$gte": distinct[0], "$lte": distinct[-1]}

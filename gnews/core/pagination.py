"""Keyset pagination with opaque cursors (never ``skip`` over large collections).

A cursor encodes the sort key of the last item returned; the next page continues strictly after
it, so items inserted meanwhile are neither repeated nor skipped.
"""

from __future__ import annotations

import base64
import binascii
import json
import re
from collections.abc import Callable, Mapping, Sequence
from datetime import datetime
from typing import Annotated, Any, Generic, TypeVar

from beanie import Document, PydanticObjectId, SortDirection
from bson.errors import InvalidId
from litestar.openapi.spec import Example
from litestar.params import QueryParameter
from pydantic import BaseModel

from gnews.core.clock import as_utc
from gnews.core.errors import FieldError
from gnews.core.persistence.shapes import find_after_id

T = TypeVar("T")
D = TypeVar("D", bound=Document)

DEFAULT_LIMIT = 20
MAX_LIMIT = 100


CURSOR_PATTERN = r"^[A-Za-z0-9_-]+$"
MAX_CURSOR_LENGTH = 512

Cursor = Annotated[
    str | None,
    QueryParameter(
        description="`next_cursor` of the previous page, as given; omit for the first page",
        pattern=CURSOR_PATTERN,
        min_length=1,
        max_length=MAX_CURSOR_LENGTH,
    ),
]
Limit = Annotated[
    int | None,
    QueryParameter(
        description=f"page size, 1..{MAX_LIMIT} (default {DEFAULT_LIMIT})",
        ge=1,
        le=MAX_LIMIT,
        examples=[Example(value=DEFAULT_LIMIT)],
    ),
]


class Page(BaseModel, Generic[T]):
    """One page of results; ``next_cursor`` is null on the last page."""

    items: list[T]
    next_cursor: str | None = None

    @classmethod
    def of(cls, convert: Callable[[Any], T], page: tuple[Sequence[Any], str | None]) -> Page[T]:
        """The page of ``(documents, next_cursor)`` (as the ``page_by_*`` helpers return it),
        each document converted by ``convert`` (e.g. a schema's ``from_document``)."""
        documents, next_cursor = page
        return cls(items=[convert(document) for document in documents], next_cursor=next_cursor)


def encode_cursor(values: list[Any]) -> str:
    """An opaque cursor for the sort-key ``values`` of the last item of a page."""
    raw = json.dumps(values, default=str, separators=(",", ":")).encode()
    return base64.urlsafe_b64encode(raw).decode().rstrip("=")


def decode_cursor(cursor: str) -> list[Any]:
    """The sort-key values of a cursor; 422 naming ``cursor`` when it is not one of ours."""
    try:
        raw = base64.urlsafe_b64decode(cursor + "=" * (-len(cursor) % 4))
        values = json.loads(raw)
    except (binascii.Error, ValueError, UnicodeDecodeError):
        raise FieldError("cursor", "not a cursor returned by this API") from None
    if not isinstance(values, list):
        raise FieldError("cursor", "not a cursor returned by this API")
    return values


def check_limit(limit: int | None) -> int:
    """The page size asked for, within 1..MAX_LIMIT; 422 naming ``limit`` otherwise."""
    if limit is None:
        return DEFAULT_LIMIT
    if not 1 <= limit <= MAX_LIMIT:
        raise FieldError("limit", f"must be between 1 and {MAX_LIMIT}")
    return limit


def _id_after(cursor: str | None) -> PydanticObjectId | None:
    """The last id of a :func:`page_by_id` cursor (None without one)."""
    if cursor is None:
        return None
    values = decode_cursor(cursor)
    try:
        return PydanticObjectId(values[0])
    except (InvalidId, IndexError, TypeError):
        raise FieldError("cursor", "not a cursor returned by this API") from None


def _direction(descending: bool) -> SortDirection:
    return SortDirection.DESCENDING if descending else SortDirection.ASCENDING


async def page_by_id(
    document: type[D],
    criteria: Mapping[str, Any],
    limit: int,
    *,
    descending: bool = False,
    cursor: str | None = None,
    id_from: PydanticObjectId | None = None,
    id_before: PydanticObjectId | None = None,
) -> tuple[list[D], str | None]:
    """One page of ``document`` matching ``criteria`` in ``_id`` order, after ``cursor``
    (within ``id_from <= _id < id_before`` when given).

    The page after the cursor is one range on ``_id`` (:func:`find_after_id`), served from an
    index ending in ``_id`` on MongoDB and on the embedded server alike.
    """
    documents = await find_after_id(
        document,
        criteria,
        _id_after(cursor),
        descending=descending,
        limit=limit + 1,
        id_from=id_from,
        id_before=id_before,
    )
    next_cursor = encode_cursor([str(documents[limit - 1].id)]) if len(documents) > limit else None
    return documents[:limit], next_cursor


async def page_by_time(
    document: type[D],
    criteria: Mapping[str, Any],
    field: str,
    limit: int,
    *,
    descending: bool,
    cursor: str | None = None,
) -> tuple[list[D], str | None]:
    """One page of ``document`` matching ``criteria``, ordered by ``field`` then ``_id``.

    The cursor holds ``[field value (ISO 8601), id]`` of the last item; the next page continues
    strictly after it (``field < v or (field == v and _id < id)`` when descending), so items
    inserted between pages are neither repeated nor skipped, and no ``skip`` is used.
    """
    conditions: list[Mapping[str, Any]] = [criteria] if criteria else []
    if cursor is not None:
        values = decode_cursor(cursor)
        try:
            last_value = as_utc(datetime.fromisoformat(values[0]))
            last_id = PydanticObjectId(values[1])
        except (InvalidId, IndexError, TypeError, ValueError):
            raise FieldError("cursor", "not a cursor returned by this API") from None
        op = "$lt" if descending else "$gt"
        conditions.append(
            {"$or": [{field: {op: last_value}}, {field: last_value, "_id": {op: last_id}}]}
        )
    query: Mapping[str, Any] = {}
    if len(conditions) == 1:
        query = conditions[0]
    elif conditions:
        query = {"$and": conditions}
    direction = _direction(descending)
    documents = (
        await document.find(query)
        .sort([(field, direction), ("_id", direction)])
        .limit(limit + 1)
        .to_list()
    )
    next_cursor = None
    if len(documents) > limit:
        last = documents[limit - 1]
        next_cursor = encode_cursor([as_utc(getattr(last, field)).isoformat(), str(last.id)])
    return documents[:limit], next_cursor


def time_key(moment: datetime, document_id: Any) -> str:
    """A unique order key of a document by time then id: UTC milliseconds of ``moment`` (13
    digits) then the id's hex, so string order is ``(moment, _id)`` order and a keyset page is
    one range on one field. Digits and hex, not an ISO date: every server compares it as a plain
    string."""
    millis = int(as_utc(moment).timestamp() * 1000)
    return f"{max(millis, 0):013d}{document_id}"


def time_key_bound(moment: datetime) -> str:
    """The lowest :func:`time_key` of any document whose time is at or after ``moment``."""
    return f"{max(int(as_utc(moment).timestamp() * 1000), 0):013d}"


_KEY = re.compile(r"^([0-9a-f]{1,64}|~)$")


def key_after(cursor: str | None, field: str, *, descending: bool) -> dict[str, Any]:
    """The range on ``field`` after a :func:`page_by_key` cursor (empty without one)."""
    if cursor is None:
        return {}
    values = decode_cursor(cursor)
    if len(values) < 1 or not isinstance(values[0], str) or not _KEY.match(values[0]):
        raise FieldError("cursor", "not a cursor returned by this API")
    return {"$lt" if descending else "$gt": values[0]}


async def page_by_key(
    document: type[D],
    criteria: Mapping[str, Any],
    field: str,
    limit: int,
    *,
    descending: bool,
    cursor: str | None = None,
    bound: Mapping[str, Any] | None = None,
) -> tuple[list[D], str | None]:
    """One page of ``document`` matching ``criteria``, ordered by ``field``, a unique string
    key (e.g. a news item's ``sort_key``: time then id).

    The cursor holds the last item's key; the next page is one range on ``field`` strictly
    after it, so with an index of the equality prefix then ``field`` every page is one index
    range on MongoDB and on the embedded server alike. ``bound``: a further range on
    ``field`` (e.g. ``{"$gte": ...}`` for "since"; one in ``criteria`` is kept too). Extra
    cursor values after the key are left for the caller (:func:`decode_cursor`).
    """
    given = criteria.get(field)
    span = {
        **(given if isinstance(given, Mapping) else {}),
        **(bound or {}),
        **key_after(cursor, field, descending=descending),
    }
    query = {**criteria, field: span} if span else dict(criteria)
    documents = (
        await document.find(query)
        .sort([(field, SortDirection.DESCENDING if descending else SortDirection.ASCENDING)])
        .limit(limit + 1)
        .to_list()
    )
    next_cursor = None
    if len(documents) > limit:
        next_cursor = encode_cursor([getattr(documents[limit - 1], field)])
    return documents[:limit], next_cursor

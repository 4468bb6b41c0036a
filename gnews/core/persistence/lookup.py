"""Finding one document or saying it is not there (:class:`~gnews.core.errors.NotFoundError`):
the one lookup-or-404 behind every "the record named in the path" of the API."""

from __future__ import annotations

from collections.abc import Callable, Mapping
from typing import Any, TypeVar

from beanie import Document

from gnews.core.errors import NotFoundError
from gnews.core.persistence import object_id

D = TypeVar("D", bound=Document)


async def get_or_not_found(
    document: type[D],
    key: str | Mapping[str, Any],
    message: str,
    *,
    visible: Callable[[D], bool] | None = None,
) -> D:
    """The ``document`` whose id is ``key`` (a malformed id finds nothing), or the one matching
    the filter ``key``; :class:`NotFoundError` with ``message`` when there is none, or when
    ``visible`` says the caller may not know it exists (its existence stays private)."""
    if isinstance(key, str):
        oid = object_id(key)
        found = await document.get(oid) if oid is not None else None
    else:
        found = await document.find_one(dict(key))
    if found is None or (visible is not None and not visible(found)):
        raise NotFoundError(message)
    return found

"""A guarded, audited change of one record: the one way reviewed records (news items, app
listings) are changed by people."""

from __future__ import annotations

import enum
from collections.abc import Mapping
from datetime import datetime
from typing import Any, TypeVar

from beanie import Document
from pydantic import BaseModel

from gnews.accounts.guards import Principal
from gnews.audit.service import record
from gnews.core.clock import as_utc, utcnow
from gnews.core.errors import ConflictError
from gnews.core.persistence import find_one_and_update

D = TypeVar("D", bound=Document)


def plain(value: Any) -> Any:
    """``value`` as it is compared and audited (models as dicts, enums as their values,
    datetimes in UTC)."""
    if isinstance(value, list | tuple):
        return [plain(item) for item in value]
    if isinstance(value, BaseModel):
        return value.model_dump()
    if isinstance(value, enum.Enum):
        return value.value
    if isinstance(value, datetime):
        return as_utc(value)
    return value


async def change_audited(
    document: D,
    updates: Mapping[str, Any],
    *,
    guard: Mapping[str, Any],
    actor: Principal | Mapping[str, Any],
    action: str,
    target_type: str,
    unaudited: frozenset[str] = frozenset(),
) -> tuple[D, bool]:
    """Store the fields of ``updates`` that differ from ``document`` (with ``updated_at``) where
    the stored record still matches ``guard`` (what the caller's rules were checked against,
    e.g. ``{"status": "pending"}``), else 409; audit them as ``action``.

    Only the changed fields are written (``$set``), so a concurrent change of another field
    survives. Returns the record as stored and whether anything changed; nothing is written or
    audited when no field outside ``unaudited`` would change.
    """
    changed = [
        key for key, value in updates.items() if plain(getattr(document, key)) != plain(value)
    ]
    audited = [key for key in changed if key not in unaudited]
    if not audited:
        return document, False
    before = {key: plain(getattr(document, key)) for key in audited}
    stored = await find_one_and_update(
        type(document),
        {**guard, "_id": document.id},
        set={**{key: updates[key] for key in changed}, "updated_at": utcnow()},
    )
    if stored is None:
        raise ConflictError(
            f"the {target_type.replace('_', ' ')} changed meanwhile; reload it and try again"
        )
    after = {key: plain(getattr(stored, key)) for key in audited}
    await record(
        dict(actor) if isinstance(actor, Mapping) else actor,
        action,
        target_type,
        str(document.id),
        before=before,
        after=after,
    )
    return stored, True

"""Agencies: looking them up, listing, creating and changing them (with an audit entry)."""

from __future__ import annotations

from collections.abc import Iterable
from datetime import datetime
from typing import Any

from gnews.accounts.guards import Principal
from gnews.agencies.models import Agency
from gnews.audit import service as audit
from gnews.core.clock import utcnow
from gnews.core.concurrency import unchanged_since
from gnews.core.errors import ConflictError, FieldError, NotFoundError
from gnews.core.pagination import check_limit, page_by_id
from gnews.core.persistence import find_one_and_update
from gnews.core.persistence.lookup import get_or_not_found


async def agency_by_code(code: str) -> Agency:
    """The agency with this code (active or not); :class:`NotFoundError` otherwise."""
    return await get_or_not_found(Agency, {"code": code}, f"no agency {code!r}")


async def active_agency(code: str) -> Agency | None:
    """The active agency with this code, or None."""
    return await Agency.find_one({"code": code, "active": True})


async def check_active_agencies(field: str, codes: Iterable[str]) -> None:
    """:class:`FieldError` naming ``field`` unless every one of ``codes`` is an active agency
    (the one check behind every field that names agencies)."""
    wanted = list(dict.fromkeys(codes))
    if not wanted:
        return
    criteria = {"code": wanted[0]} if len(wanted) == 1 else {"code": {"$in": wanted}}
    known = {agency.code async for agency in Agency.find({**criteria, "active": True})}
    unknown = [code for code in wanted if code not in known]
    if unknown:
        raise FieldError(field, f"no active agency {', '.join(map(repr, unknown))}")


async def agency_managed_by(code: str, principal: Principal) -> Agency:
    """The agency ``code`` if ``principal`` may manage its things (its own users, admins).

    Another agency is "not found", not "forbidden": its existence stays private.
    """
    if not principal.acts_for(code):
        raise NotFoundError(f"no agency {code!r}")
    return await agency_by_code(code)


async def list_agencies(
    *, include_inactive: bool, cursor: str | None, limit: int | None
) -> tuple[list[Agency], str | None]:
    """One page of agencies in order of creation: active ones, or all."""
    criteria: dict[str, Any] = {} if include_inactive else {"active": True}
    return await page_by_id(Agency, criteria, check_limit(limit), cursor=cursor)


async def create_agency(values: dict[str, Any], principal: Principal) -> Agency:
    """Create an agency from validated, JSON-compatible ``values``; 409 when the code is taken."""
    if await Agency.find_one(Agency.code == values["code"]):
        raise ConflictError(f"agency {values['code']!r} already exists")
    agency = await Agency(**values).insert()
    await audit.record(principal, "agency.create", "agency", agency.code, after=values)
    return agency


async def update_agency(
    agency: Agency,
    changes: dict[str, Any],
    principal: Principal,
    *,
    read_at: datetime | None = None,
) -> Agency:
    """Apply ``changes`` (validated, JSON-compatible, only the fields sent) and audit them.

    ``read_at``: the ``updated_at`` the caller's form was read at; the change applies only if
    the agency was not changed since (else :class:`ConflictError`: never an overwrite)."""
    stale = f"agency {agency.code!r} changed meanwhile; reload it and try again"
    guard = {"_id": agency.id, **unchanged_since(agency.updated_at, read_at, stale)}
    if not changes:
        return agency
    before = {key: getattr(agency, key) for key in changes}
    stored = await find_one_and_update(Agency, guard, set={**changes, "updated_at": utcnow()})
    if stored is None:
        if read_at is not None and await Agency.get(agency.id) is not None:
            raise ConflictError(stale)
        raise NotFoundError(f"no agency {agency.code!r}")
    await audit.record(
        principal, "agency.update", "agency", agency.code, before=before, after=changes
    )
    return stored

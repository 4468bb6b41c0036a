"""The editors' pages are for EGA staff (editors and admins), as the API's editorial rules are."""

from __future__ import annotations

from datetime import datetime

from litestar.di import NamedDependency

from gnews.accounts.guards import Principal
from gnews.core.errors import FieldError, ForbiddenError
from gnews.thai.dates import BANGKOK


async def provide_staff(principal: NamedDependency[Principal]) -> Principal:
    """Dependency ``staff``: the signed-in principal when staff; 403 for anyone else."""
    if not principal.is_staff:
        raise ForbiddenError("requires role: admin, editor")
    return principal


def bangkok_input(field: str, value: str | None) -> datetime | None:
    """A ``datetime-local`` input (Bangkok time, no offset to type) as an aware datetime;
    None when blank; 422 naming ``field`` when it is not a date and time."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(field, "not a date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BANGKOK)
    return moment

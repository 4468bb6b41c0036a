"""Who may open a console page, and reading Bangkok times typed into its forms.

The rules are the API's: a page asks for the roles its service would admit, and the service
checks again. ``require_role`` is for a handler; ``provide_staff`` is the dependency ``staff`` of
the editors' controllers (editors and admins, as the API's editorial rules).
"""

from __future__ import annotations

from datetime import datetime

from litestar.di import NamedDependency

from gnews.accounts.guards import Principal
from gnews.accounts.models import Role
from gnews.core.errors import FieldError, ForbiddenError
from gnews.thai.dates import BANGKOK


def require_role(principal: Principal, *roles: Role) -> None:
    """403 (the console's error page) unless ``principal`` has one of ``roles``."""
    if principal.role not in roles:
        raise ForbiddenError("requires role: " + ", ".join(role.value for role in roles))


async def provide_staff(principal: NamedDependency[Principal]) -> Principal:
    """Dependency ``staff``: the signed-in principal when an editor or admin; 403 otherwise."""
    require_role(principal, Role.ADMIN, Role.EDITOR)
    return principal


def bangkok_input(field: str, value: str | None) -> datetime | None:
    """A ``datetime-local`` input (Bangkok time, no offset to type, e.g. ``2026-11-26T09:00``)
    as an aware datetime; None when blank; 422 naming ``field`` when it is not a date and time.
    An explicit offset, if one is sent, is kept."""
    if not value:
        return None
    try:
        moment = datetime.fromisoformat(value)
    except ValueError:
        raise FieldError(field, "not a date and time") from None
    if moment.tzinfo is None:
        moment = moment.replace(tzinfo=BANGKOK)
    return moment

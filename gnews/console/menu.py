"""The console's menu: each entry says which roles see it (the same roles as the API's rules;
a page checks its rule again through the service it calls)."""

from __future__ import annotations

from dataclasses import dataclass

from gnews.accounts.guards import Principal
from gnews.accounts.models import Role

STAFF = frozenset({Role.ADMIN, Role.EDITOR})
EVERYONE = frozenset(Role)


@dataclass(frozen=True)
class MenuEntry:
    """One link of the menu."""

    path: str  # under /console
    label_th: str
    label_en: str
    roles: frozenset[Role]


MENU: list[MenuEntry] = [
    MenuEntry("/", "หน้าแรก", "Home", EVERYONE),
    MenuEntry("/notifications", "การแจ้งเตือน", "Notifications", STAFF | {Role.AGENCY}),
]
"""Every entry, in menu order. Each area of the console appends its own entries."""


def menu_for(principal: Principal) -> list[MenuEntry]:
    """The entries ``principal``'s role may see."""
    return [entry for entry in MENU if principal.role in entry.roles]

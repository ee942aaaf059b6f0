"""Navigation and home-page panels: each domain registers its entries here.

Entries appear in the top bar only for users holding one of their roles; domains
not built yet are simply not registered.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any, Awaitable, Callable

from app.core.i18n import lazy_gettext as _l
from app.core.permissions import SIGNED_IN, roles_for


@dataclass(frozen=True)
class NavEntry:
    """A top-bar entry; shown to whoever holds `perm` (a permission name)."""

    key: str
    label: Any
    url: str
    perm: str | frozenset[str] = SIGNED_IN  # a permission name (a role set only in not-yet-migrated code)
    order: int = 100

    @property
    def roles(self) -> frozenset[str]:
        return self.perm if isinstance(self.perm, frozenset) else roles_for(self.perm)


@dataclass(frozen=True)
class HomePanel:
    """A card on the home page: `load(user)` returns the template context or None to hide it."""

    key: str
    title: Any
    template: str
    perm: str | frozenset[str]
    load: Callable[[Any], Awaitable[dict | None]]
    order: int = 100

    @property
    def roles(self) -> frozenset[str]:
        return self.perm if isinstance(self.perm, frozenset) else roles_for(self.perm)


NAV: list[NavEntry] = []
PANELS: list[HomePanel] = []


def register_nav(entry: NavEntry) -> None:
    if all(existing.key != entry.key for existing in NAV):
        NAV.append(entry)
        NAV.sort(key=lambda e: e.order)


def register_panel(panel: HomePanel) -> None:
    if all(existing.key != panel.key for existing in PANELS):
        PANELS.append(panel)
        PANELS.sort(key=lambda p: p.order)


def nav_for(user) -> list[NavEntry]:
    if user is None:
        return []
    return [entry for entry in NAV if user.roles & entry.roles]


def panels_for(user) -> list[HomePanel]:
    return [panel for panel in PANELS if user.roles & panel.roles]


@dataclass
class RenderedPanel:
    panel: HomePanel
    context: dict = field(default_factory=dict)


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


_NAV_HTML: dict[tuple, Any] = {}


def nav_links(user, path: str):
    """The top bar's links as one Markup string, cached per (roles, language, active entry) — the same for
    every user with those roles, so it is built once per worker instead of on every page (issue #15)."""
    from markupsafe import Markup, escape

    from app.core.i18n import current_locale

    if user is None:
        return Markup("")
    entries = nav_for(user)
    active = next((e.key for e in entries if path == e.url), None) or next(
        (e.key for e in entries if e.url != "/" and path.startswith(e.url)), None)
    key = (user.roles, current_locale(), active)
    html = _NAV_HTML.get(key)
    if html is None:
        html = Markup("\n").join(
            Markup('<a class="nav-link px-2{}" href="{}"{}>{}</a>').format(
                " active" if e.key == active else "", e.url, Markup(' aria-current="page"') if e.key == active else "",
                escape(str(e.label)))
            for e in entries)
        if len(_NAV_HTML) > 2048:  # bounded: roles × languages × entries is small in practice
            _NAV_HTML.clear()
        _NAV_HTML[key] = html
    return html


def panels_for(user) -> list[HomePanel]:
    return [panel for panel in PANELS if user.roles & panel.roles]


@dataclass
class RenderedPanel:
    panel: HomePanel
    context: dict = field(default_factory=dict)


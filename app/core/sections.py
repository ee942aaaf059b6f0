"""Extension points for later domains (tickets, repairs, loaners, receivables …).

A domain lists its sections in its manifest (`customer_sections=`, `device_sections=`):

    from app.core.sections import CustomerSection

    async def load(customer_id: int, user) -> dict | None:   # None hides the section
        return {"rows": await my_service.tickets_for_customer(customer_id, limit=10)}

    MANIFEST = DomainManifest(..., customer_sections=[CustomerSection("tickets", lazy_gettext("Service tickets"),
                                              "tickets/_customer_section.html", "tickets.view", load, order=10))

The template gets `section_ctx` (what `load` returned), `customer` (or `device`) and `user`.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Any, Awaitable, Callable


@dataclass(frozen=True)
class CustomerSection:
    key: str
    title: Any
    template: str
    perm: str | frozenset[str]
    load: Callable[[int, Any], Awaitable[dict | None]]
    order: int = 100

    @property
    def roles(self) -> frozenset[str]:
        from app.core.permissions import roles_for

        return self.perm if isinstance(self.perm, frozenset) else roles_for(self.perm)


CUSTOMER_SECTIONS: list[CustomerSection] = []
DEVICE_SECTIONS: list[CustomerSection] = []


def _register(registry: list[CustomerSection], section: CustomerSection) -> None:
    registry[:] = [s for s in registry if s.key != section.key] + [section]
    registry.sort(key=lambda s: s.order)


def register_customer_section(section: CustomerSection) -> None:
    """A card on /customers/{id}; `load(customer_id, user)`."""
    _register(CUSTOMER_SECTIONS, section)


def register_device_section(section: CustomerSection) -> None:
    """A card on /devices/{id}; `load(device_id, user)`."""
    _register(DEVICE_SECTIONS, section)


# Sections on other domains' pages, by page kind ("rma", "ticket", …): the page's domain renders
# `render_sections(sections_for("rma"), rma_id, user)`; another domain lists its card in its manifest
# (`sections={"rma": [CustomerSection(...)]}`), so neither imports the other (no route sniffing).
PAGE_SECTIONS: dict[str, list[CustomerSection]] = {"customer": CUSTOMER_SECTIONS, "device": DEVICE_SECTIONS}


def register_section(kind: str, section: CustomerSection) -> None:
    _register(PAGE_SECTIONS.setdefault(kind, []), section)


def sections_for(kind: str) -> list[CustomerSection]:
    return PAGE_SECTIONS.setdefault(kind, [])


async def render_sections(registry: list[CustomerSection], entity_id: int, user) -> list[tuple[CustomerSection, dict]]:
    out = []
    for section in registry:
        if user is None or not (user.roles & section.roles):
            continue
        ctx = await section.load(entity_id, user)
        if ctx is not None:
            out.append((section, ctx))
    return out

"""The explicit list of what the app is made of: the shell, then one manifest per domain.

A new domain adds one line here (and nothing anywhere else in the shell)."""

from __future__ import annotations

from app.core.manifest import DomainManifest


def manifests() -> list[DomainManifest]:
    from app.core.shell import MANIFEST as shell
    from app.customers.manifest import MANIFEST as customers
    from app.ledger.manifest import MANIFEST as ledger
    from app.loaners.manifest import MANIFEST as loaners
    from app.parts.manifest import MANIFEST as parts
    from app.rma.manifest import MANIFEST as rma
    from app.scrap.manifest import MANIFEST as scrap
    from app.tickets.manifest import MANIFEST as tickets

    return [shell, customers, parts, rma, loaners, ledger, tickets, scrap]


def all_tables() -> list:
    return [table for manifest in manifests() for table in manifest.tables]

"""The ledger domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.manifest import DomainManifest
from app.ledger.controllers import CONTROLLERS
from app.ledger.tables import ALL as TABLES

MANIFEST = DomainManifest(
    name="ledger",
    controllers=CONTROLLERS,
    tables=TABLES,
)

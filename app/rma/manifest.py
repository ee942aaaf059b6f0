"""The rma domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.manifest import DomainManifest
from app.rma.controllers import CONTROLLERS
from app.rma.tables import ALL as TABLES

MANIFEST = DomainManifest(
    name="rma",
    controllers=CONTROLLERS,
    tables=TABLES,
)

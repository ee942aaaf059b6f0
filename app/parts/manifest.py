"""The parts domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.manifest import DomainManifest
from app.parts.controllers import CONTROLLERS
from app.parts.tables import ALL_TABLES as TABLES

MANIFEST = DomainManifest(
    name="parts",
    controllers=CONTROLLERS,
    tables=TABLES,
)

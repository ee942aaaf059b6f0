"""The loaners domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.manifest import DomainManifest
from app.loaners.controllers import CONTROLLERS
from app.loaners.tables import ALL_TABLES as TABLES

MANIFEST = DomainManifest(
    name="loaners",
    controllers=CONTROLLERS,
    tables=TABLES,
)

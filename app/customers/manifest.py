"""The customers domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.manifest import DomainManifest
from app.customers.controllers import CONTROLLERS
from app.customers.tables import TABLES as TABLES

MANIFEST = DomainManifest(
    name="customers",
    controllers=CONTROLLERS,
    tables=TABLES,
)

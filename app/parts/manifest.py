"""The parts domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.manifest import DomainManifest, SeedStep
from app.core.nav import HomePanel, NavEntry
from app.core.settings import SettingSpec
from app.parts import panels
from app.parts.controllers import CONTROLLERS
from app.parts.perms import PERMS
from app.parts.services._repair import issued_blocking_close
from app.parts.tables import ALL_TABLES as TABLES

MANIFEST = DomainManifest(
    name="parts",
    controllers=CONTROLLERS,
    tables=TABLES,
    perms=PERMS,
    nav=[
        NavEntry("parts", _l("Parts"), "/parts", "parts.view", order=40),
        NavEntry("emergency", _l("Emergency store"), "/emergency", "parts.emergency.request", order=41),
    ],
    panels=[
        HomePanel("parts-warehouse", _l("Warehouse"), "parts/_home_warehouse.html", "parts.home.warehouse",
                  panels.warehouse_panel, order=40),
        HomePanel("parts-gm", _l("Emergency releases to approve"), "parts/_home_gm.html", "parts.home.gm",
                  panels.gm_panel, order=41),
        HomePanel("parts-manager", _l("Stock approvals"), "parts/_home_manager.html", "parts.home.manager",
                  panels.manager_panel, order=42),
    ],
    settings=[
        SettingSpec("parts.min_stock_percent", _l("Minimum local spares, percent of the installed quantity"), 3.0, kind="number",
                    minimum=0, maximum=100,
                    help=_l("R-INV-04 default rule: a store keeps at least this share of the installed quantity it "
                            "serves, rounded up, where no minimum was set by hand.")),
    ],
    close_guards={"rma": [issued_blocking_close]},  # #12 item 2: issued parts are used or returned before closing
    seed=[SeedStep("parts", "seed.parts:seed_parts", order=20)],
)

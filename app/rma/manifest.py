"""The rma domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.manifest import DomainManifest, SeedStep
from app.core.nav import HomePanel, NavEntry
from app.core.settings import SettingSpec
from app.rma import panels
from app.rma.controllers import CONTROLLERS
from app.rma.services._common import open_for_parts
from app.rma.tables import ALL as TABLES

_READ = {"desk", "bench", "qc", "manager", "finance", "warehouse", "gm", "eng_manager"}
_BENCH = {"bench", "qc"}

# Exactly the role sets of the role tuples they replace (issue #10: no change of access).
PERMS = {
    "rma.view": _READ,  # board, RMA page, overdue lists, print views
    "rma.bench": _BENCH,  # bench transitions, costing, parts, hand-over
    "rma.receive": _BENCH | {"desk"},  # intake and unboxing photos
    "rma.ship": _BENCH | {"desk"},  # ship and delivered
    "rma.callback": {"desk"},
    "rma.close": _BENCH | {"desk", "manager"},
    "rma.quote": {"desk"},  # send the quote, record the customer's answer
    "rma.consult": {"desk"},
    "rma.pay": {"finance"},
    "rma.approve": {"manager"},  # replacement applications
    "rma.replacements": {"manager", "bench", "qc"},
    "rma.burn_in.view": {"manager", "admin", "bench", "qc"},
    "rma.burn_in.edit": {"manager", "admin"},
    "rma.report": {"manager", "qc", "bench", "gm"},
    "rma.panel.bench": {"bench"},
    "rma.panel.qc": {"qc"},
    "rma.panel.manager": {"manager"},
    "rma.panel.desk": {"desk"},
}

SETTINGS = [
    SettingSpec("rma.burn_in_hours", _l("Bench: default burn-in (hours)"), 24, kind="int", minimum=1, maximum=720,
                help=_l("Models listed on /bench/burn-in use their own hours.")),
    SettingSpec("rma.repair_days", _l("Bench: repair window after QC (days)"), 3, kind="int", minimum=1, maximum=60,
                help=_l("R-RMA-03: past it an intact unit is applied for replacement.")),
    SettingSpec("rma.ship_days", _l("Bench: ship completed units within (days)"), 2, kind="int", minimum=1, maximum=30,
                help=_l("R-RMA-06: completed units must leave the building.")),
    SettingSpec("rma.photo_max_mb", _l("Bench: largest unboxing photo (MB)"), 8, kind="int", minimum=1, maximum=50,
                help=_l("Larger unboxing photos are refused.")),
    SettingSpec("rma.board_cards_per_column", _l("Bench: cards per board column"), 10, kind="int", minimum=5,
                maximum=200, help=_l("The board shows this many of each stage's oldest cards; a button under the "
                                     "column loads the next ones. Fewer cards make the board load faster.")),
]

MANIFEST = DomainManifest(
    name="rma",
    controllers=CONTROLLERS,
    tables=TABLES,
    perms=PERMS,
    nav=[NavEntry("bench", _l("Bench"), "/bench", "rma.view", order=30)],
    panels=[
        HomePanel("rma-bench", _l("My bench cards"), "rma/_home_bench.html", "rma.panel.bench", panels.bench_panel, order=30),
        HomePanel("rma-qc", _l("Waiting for QC and final test"), "rma/_home_qc.html", "rma.panel.qc", panels.qc_panel,
                  order=31),
        HomePanel("rma-manager", _l("Replacement applications to approve"), "rma/_home_manager.html", "rma.panel.manager",
                  panels.manager_panel, order=32),
        HomePanel("rma-desk", _l("Returns: quotes, ship-backs, callbacks"), "rma/_home_desk.html", "rma.panel.desk",
                  panels.desk_panel, order=33),
    ],
    settings=SETTINGS,
    case_finders={"rma": open_for_parts},
    seed=[SeedStep("rma", "seed.rma:seed_rma", order=40)],
)

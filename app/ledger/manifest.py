"""The ledger domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.manifest import DomainManifest, SeedStep
from app.core.nav import HomePanel, NavEntry
from app.core.settings import SettingSpec
from app.ledger.controllers import CONTROLLERS, finance_panel, manager_panel
from app.ledger.tables import ALL as TABLES

# Permission names → today's role sets (SPEC §G/§H). Routes combine them with perm(a, b) = either.
PERMS = {
    "ledger.view": {"finance", "desk", "manager", "gm"},           # receivables, statements, reports
    "ledger.slips.view": {"finance", "manager", "gm"},             # all slip books, reconciliation
    "ledger.slips.manage": {"finance"},                            # create/issue/exchange/transfer/hand back
    "ledger.slips.carry": {"field", "bench"},                      # repairers who hold a book / own sales ledger
    "ledger.receivables.manage": {"finance"},                      # payments, manual lines, check/send statements
    "ledger.receivables.register": {"desk"},                       # sales confirmations, drafts, week check
    "ledger.statements.review": {"manager"},                       # review / return a draft statement
    "ledger.overdue.followup": {"manager"},                        # the Monday overdue review notes
    "ledger.extensions.request": {"desk", "field", "bench", "finance"},
    "ledger.extensions.decide": {"manager", "gm"},
    "ledger.calendar.edit": {"finance", "admin"},
}

SETTINGS = [
    SettingSpec("ledger.retail_due_working_days", _l("Retail payment term (working days)"), 7, kind="int", minimum=1,
                maximum=90, help=_l("Retail receivables are due this many working days after posting (R-AR-02).")),
    SettingSpec("ledger.monthly_due_days", _l("Monthly statement payment term (days)"), 30, kind="int", minimum=1,
                maximum=180, help=_l("A sent month-end statement is due this many days after sending (R-AR-02).")),
    SettingSpec("ledger.book_size", _l("Slips per book"), 50, kind="int", minimum=1, maximum=1000,
                help=_l("The number of slips offered when finance creates new slip books (R-SLIP-01).")),
]

MANIFEST = DomainManifest(
    name="ledger",
    controllers=CONTROLLERS,
    tables=TABLES,
    perms=PERMS,
    nav=[
        NavEntry("slips", _l("Slip books"), "/slips", "ledger.slips.view", order=60),
        NavEntry("my_slips", _l("My slip book"), "/slips/mine", "ledger.slips.carry", order=61),
        NavEntry("receivables", _l("Receivables"), "/receivables", "ledger.view", order=62),
        NavEntry("sales_ledger", _l("My sales ledger"), "/receivables/ledger", "ledger.slips.carry", order=63),
    ],
    panels=[
        HomePanel("ledger_finance", _l("Slips and receivables"), "ledger/_home_finance.html", "ledger.slips.manage",
                  finance_panel, order=40),
        HomePanel("ledger_manager", _l("Statements and extensions"), "ledger/_home_manager.html",
                  "ledger.statements.review", manager_panel, order=41),
    ],
    settings=SETTINGS,
    seed=[SeedStep("ledger", "seed.ledger:seed_ledger", order=30)],
)

"""The loaners domain's manifest: everything it plugs into the shell (issue #10).

Permissions (the role sets of before the kit, unchanged):
* loaners.view — every page of the domain, the nav entry, the customer page's card, the RMA page's offer;
* loaners.keep — the warehouse keeper: check out, check in, permanent replacement;
* loaners.request — ask the keeper for a loaner (and withdraw one's own request);
* loaners.follow_up — recall the notice, mark the linked case finished (keeper and desk);
* loaners.home_warehouse / loaners.home_desk — the two home-page panels.
"""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.manifest import DomainManifest, SeedStep
from app.core.nav import HomePanel, NavEntry
from app.core.sections import CustomerSection
from app.core.settings import SettingSpec
from app.loaners import services
from app.loaners.controllers import CONTROLLERS
from app.loaners.status import LOAN_LABELS
from app.loaners.tables import ALL_TABLES as TABLES

KEEPERS = {"warehouse", "manager"}
REQUESTERS = {"desk", "field", "eng_manager", "bench", "warehouse", "manager"}
READERS = {"desk", "field", "eng_manager", "bench", "qc", "warehouse", "manager", "gm"}

PERMS = {
    "loaners.view": READERS,
    "loaners.keep": KEEPERS,
    "loaners.request": REQUESTERS,
    "loaners.follow_up": KEEPERS | {"desk"},
    "loaners.home_warehouse": {"warehouse"},
    "loaners.home_desk": {"desk"},
}

SETTINGS = [
    SettingSpec("loaners.fix_hours", _l("Free loaner: not fixed within N hours after arrival on site"), 2,
                kind="number", minimum=0.5, maximum=72,
                help=_l("A free loaner is due when the fault is not fixed this many hours after the "
                        "technician arrived on site.")),
    SettingSpec("loaners.same_model_hours", _l("Free loaner: same model within N hours when it cannot be solved"), 72,
                kind="number", minimum=1, maximum=720,
                help=_l("When the fault cannot be solved, a loaner of the same model is due within this "
                        "many hours.")),
    SettingSpec("loaners.maintenance_hours", _l("Free loaner: maintenance longer than N hours"), 12,
                kind="number", minimum=1, maximum=720,
                help=_l("A free loaner is due when maintenance keeps the device out of service longer "
                        "than this.")),
    SettingSpec("loaners.default_days", _l("Loaner: default loan length (days)"), 7, kind="int", minimum=1,
                maximum=365, help=_l("The check-out form proposes today plus this many days as the expected return.")),
]


async def _warehouse_panel(user) -> dict | None:
    return {"overdue": await services.overdue_count(), "out": await services.out_count(),
            "finished": await services.finished_still_out_count(), "requests": await services.open_requests(limit=3),
            "request_n": await services.open_request_count()}


async def _desk_panel(user) -> dict | None:
    await services.refresh_finished_cases(limit=100, every_seconds=60)
    return {"overdue": await services.overdue_count(), "finished": await services.finished_still_out_count(),
            "request_n": await services.open_request_count()}


async def _customer_section(customer_id: int, user) -> dict | None:
    return {"rows": await services.loans_for_customer(customer_id, limit=20), "status_labels": LOAN_LABELS}


async def _rma_section(rma_id: int, user) -> dict | None:
    """The RMA page's loaner offer: hidden once the RMA is closed."""
    rma = await services.get_rma(rma_id)
    if rma is None or rma.get("status") == "closed":
        return None
    return {"case_type": "rma", "case_id": rma_id}


MANIFEST = DomainManifest(
    name="loaners",
    controllers=CONTROLLERS,
    tables=TABLES,
    perms=PERMS,
    nav=[NavEntry("loaners", _l("Loaners"), "/loaners", "loaners.view", order=45)],
    panels=[
        HomePanel("loaners-warehouse", _l("Loaners"), "loaners/_home_warehouse.html", "loaners.home_warehouse",
                  _warehouse_panel, order=39),
        HomePanel("loaners-desk", _l("Loaners to follow up"), "loaners/_home_desk.html", "loaners.home_desk",
                  _desk_panel, order=45),
    ],
    customer_sections=[CustomerSection("loaners", _l("Loaners"), "loaners/_customer_section.html", "loaners.view",
                                       _customer_section, order=40)],
    sections={"rma": [CustomerSection("loaner-offer", _l("Loaner"), "loaners/_rma_section.html", "loaners.view",
                                      _rma_section, order=40)]},
    settings=SETTINGS,
    close_guards={"rma": [services.rma_close_guard], "ticket": [services.ticket_close_guard]},
    finish_listeners={"rma": [services.on_rma_finished]},
    seed=[SeedStep("loaners", "seed.loaners:seed_loaners", order=50)],
)

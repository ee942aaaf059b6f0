"""The scrap domain's manifest: everything it plugs into the shell (issue #14)."""

from __future__ import annotations

import datetime as dt

from app.core.i18n import lazy_gettext as _l
from app.core.manifest import DomainManifest, SeedStep
from app.core.nav import HomePanel, NavEntry
from app.core.settings import SettingSpec
from app.scrap.controllers import CONTROLLERS
from app.scrap.tables import ALL_TABLES


async def _panel_keeper(user) -> dict | None:
    from app.scrap.queries import counts_by_status

    from app.scrap.status import LABELS, OPEN

    order = ["draft", "appraising", "appraised", "manager_approved", "gm_approved"]
    assert set(order) == {str(s) for s in OPEN}
    return {"counts": await counts_by_status(), "labels": [(code, LABELS[code]) for code in order]}


async def _panel_appraiser(user) -> dict | None:
    from app.scrap.queries import waiting_for

    n = await waiting_for(user.id)
    return {"waiting": n} if n else None


async def _panel_approver(user) -> dict | None:
    from app.core.permissions import can
    from app.scrap.queries import counts_by_status

    counts = await counts_by_status()
    return {"appraised": counts.get("appraised", 0) if can(user, "scrap.approve") else None,
            "manager_approved": counts.get("manager_approved", 0) if can(user, "scrap.approve_gm") else None}


async def _panel_finance(user) -> dict | None:
    """R-SCR-03: the written-off value on the finance home page (this month and last month)."""
    from app.core.dates import today
    from app.scrap.queries import written_off_total

    day = today()
    start = day.replace(day=1)
    prev = (start - dt.timedelta(days=1)).replace(day=1)
    nxt = (start + dt.timedelta(days=32)).replace(day=1)
    return {"month": start.strftime("%Y-%m"), "this_month": await written_off_total(start, nxt),
            "prev_month": prev.strftime("%Y-%m"), "last_month": await written_off_total(prev, start)}



MANIFEST = DomainManifest(
    name="scrap",
    controllers=CONTROLLERS,
    tables=ALL_TABLES,
    perms={
        "scrap.view": {"warehouse", "bench", "qc", "manager", "gm", "finance"},
        "scrap.raise": {"warehouse"},  # raises, convenes the appraisal group, withdraws (R-SCR-01)
        "scrap.appraise": {"warehouse", "bench", "qc"},  # may sit in an appraisal group
        "scrap.approve": {"manager"},
        "scrap.approve_gm": {"gm"},
        "scrap.decide": {"manager", "gm"},  # either approval level (home panel)
        "scrap.dispose": {"warehouse"},
        "scrap.finance": {"finance", "manager", "gm"},  # the monthly write-off list (R-SCR-03)
        "scrap.quality": {"qc", "manager", "gm", "warehouse"},  # the monthly quality batch and report (R-SCR-02)
    },
    nav=[NavEntry("scrap", _l("Scrap"), "/scrap", "scrap.view", order=60)],
    panels=[
        HomePanel("scrap_keeper", _l("Scrap records"), "scrap/_home_keeper.html", "scrap.raise", _panel_keeper, order=60),
        HomePanel("scrap_appraiser", _l("Scrap appraisals waiting for you"), "scrap/_home_appraiser.html",
                  "scrap.appraise", _panel_appraiser, order=61),
        HomePanel("scrap_approver", _l("Scrap approvals"), "scrap/_home_approver.html", "scrap.decide",
                  _panel_approver, order=62),
        HomePanel("scrap_finance", _l("Written-off value (scrap)"), "scrap/_home_finance.html", "scrap.finance",
                  _panel_finance, order=63),
    ],
    settings=[
        SettingSpec("scrap.quorum", _l("Scrap appraisal quorum"), 2, kind="int", minimum=2, maximum=9,
                    help=_l("How many appraisers must agree before a scrap request moves on (at least 2).")),
        SettingSpec("scrap.gm_threshold", _l("Scrap value needing GM approval (¥)"), "5000.00", kind="decimal",
                    minimum=0, maximum=100000000,
                    help=_l("A scrap request whose book value is above this also needs the general manager's approval.")),
        SettingSpec("scrap.photo_max_mb", _l("Scrap: largest photo (MB)"), 8, kind="int", minimum=1, maximum=50),
    ],
    seed=[SeedStep("scrap", "seed.scrap:seed_scrap", order=70)],
)

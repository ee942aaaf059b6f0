"""The scrap record's states and moves (R-SCR-01, R-SCR-03).

draft → appraising (the keeper convenes the appraisal group) → appraised (the quorum agrees)
→ manager_approved → gm_approved (only when the value is above the GM threshold) → disposed.
Rejected at appraisal or approval: the item goes back to stock or to the bench (recorded).
"""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.status import Status, Transition


class ScrapStatus(Status):
    DRAFT = "draft"
    APPRAISING = "appraising"
    APPRAISED = "appraised"
    MANAGER_APPROVED = "manager_approved"
    GM_APPROVED = "gm_approved"
    DISPOSED = "disposed"
    REJECTED = "rejected"


S = ScrapStatus
OPEN = frozenset({S.DRAFT, S.APPRAISING, S.APPRAISED, S.MANAGER_APPROVED, S.GM_APPROVED})
FINISHED = frozenset({S.DISPOSED, S.REJECTED})

LABELS = {
    S.DRAFT: _l("Draft"),
    S.APPRAISING: _l("Being appraised"),
    S.APPRAISED: _l("Appraised, awaiting manager"),
    S.MANAGER_APPROVED: _l("Manager approved"),
    S.GM_APPROVED: _l("GM approved"),
    S.DISPOSED: _l("Disposed"),
    S.REJECTED: _l("Rejected"),
}

TONES = {
    S.DRAFT: "muted", S.APPRAISING: "info", S.APPRAISED: "info", S.MANAGER_APPROVED: "warn",
    S.GM_APPROVED: "warn", S.DISPOSED: "ok", S.REJECTED: "danger",
}

TRANSITIONS = {
    "convene": Transition("convene", (S.DRAFT,), S.APPRAISING, "scrap.raise", _l("Convene the appraisal group")),
    # moved by the vote that reaches the quorum (the voter is an appraiser, not a holder of a permission)
    "appraise": Transition("appraise", (S.APPRAISING,), S.APPRAISED, None, _l("Appraisal agreed")),
    "appraisal_reject": Transition("appraisal_reject", (S.APPRAISING,), S.REJECTED, None, _l("Appraisal: not scrap")),
    "manager_approve": Transition("manager_approve", (S.APPRAISED,), S.MANAGER_APPROVED, "scrap.approve",
                                  _l("Manager approval")),
    "manager_reject": Transition("manager_reject", (S.APPRAISED,), S.REJECTED, "scrap.approve", _l("Manager refusal")),
    "gm_approve": Transition("gm_approve", (S.MANAGER_APPROVED,), S.GM_APPROVED, "scrap.approve_gm", _l("GM approval")),
    "gm_reject": Transition("gm_reject", (S.MANAGER_APPROVED,), S.REJECTED, "scrap.approve_gm", _l("GM refusal")),
    "dispose": Transition("dispose", (S.MANAGER_APPROVED, S.GM_APPROVED), S.DISPOSED, "scrap.dispose", _l("Disposal")),
    "withdraw": Transition("withdraw", (S.DRAFT, S.APPRAISING), S.REJECTED, "scrap.raise", _l("Withdrawn")),
}

REASON_LABELS = {
    "obsolete": _l("Obsolete model"),
    "repair_failed": _l("Factory repair failed"),
    "quality_defect": _l("Quality defect"),
    "customer_damage": _l("Damaged by customer"),
    "other": _l("Other"),
}

SOURCE_LABELS = {
    "rma": _l("Return repair (bench)"),
    "loaner": _l("Failed loaner check-in"),
    "stocktake": _l("Stocktake difference"),
    "manual": _l("By hand"),
}

OPINION_LABELS = {
    "scrap": _l("Scrap"),
    "repair": _l("Repair"),
    "return_supplier": _l("Return to supplier"),
}

METHOD_LABELS = {
    "destroy": _l("Destroy"),
    "recycle": _l("Recycle"),
    "return_supplier": _l("Return to supplier"),
    "sell_scrap": _l("Sell as scrap"),
}

RETURN_LABELS = {"CENTRAL": _l("Back to stock (central warehouse)"), "BENCH": _l("Back to the bench")}

STAGE_LABELS = {"appraisal": _l("Appraisal"), "manager": _l("Manager"), "gm": _l("General manager"),
                "withdrawn": _l("Withdrawn")}

"""The parts domain's status machines (issue #10, item 5): emergency releases, purchase requests,
stocktakes and serialised units. Every status change goes through `app.core.status.move()`."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.status import Status, Transition


def _request_flow(kind: str, S: type[Status], done_verb: str, done: Status, approve_perm: str, done_perm: str,
                  extra: dict[str, Transition] | None = None) -> tuple[frozenset, frozenset, dict[str, Transition]]:
    """The shape emergency releases and purchase requests share: requested → approved | rejected, approved →
    `done` (issued / received), plus `extra` moves. Returns (open states, finished states, transitions)."""
    transitions = {
        "approve": Transition(f"{kind}.approved", (S.REQUESTED,), S.APPROVED, approve_perm),
        "reject": Transition(f"{kind}.rejected", (S.REQUESTED,), S.REJECTED, approve_perm),
        **(extra or {}),
        done_verb: Transition(f"{kind}.{done.value}", (S.APPROVED,), done, done_perm),
    }
    return frozenset({S.REQUESTED, S.APPROVED}), frozenset({S.REJECTED, done, S.CANCELLED}), transitions


class EmergencyStatus(Status):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"
    CANCELLED = "cancelled"


EMERGENCY_OPEN, EMERGENCY_FINISHED, EMERGENCY_TRANSITIONS = _request_flow(
    "emergency", EmergencyStatus, "issue", EmergencyStatus.ISSUED, "parts.emergency.approve", "parts.emergency.issue",
    # who may cancel is "the requester, or the warehouse/managers": checked in the service
    extra={"cancel": Transition("emergency.cancelled", (EmergencyStatus.REQUESTED, EmergencyStatus.APPROVED),
                                EmergencyStatus.CANCELLED)})
EMERGENCY_LABELS = {
    EmergencyStatus.REQUESTED: _l("waiting for GM approval"),
    EmergencyStatus.APPROVED: _l("approved, to issue"),
    EmergencyStatus.REJECTED: _l("refused"),
    EmergencyStatus.ISSUED: _l("issued"),
    EmergencyStatus.CANCELLED: _l("cancelled"),
}


class PurchaseStatus(Status):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"
    CANCELLED = "cancelled"


PURCHASE_OPEN, PURCHASE_FINISHED, PURCHASE_TRANSITIONS = _request_flow(
    "purchase", PurchaseStatus, "receive", PurchaseStatus.RECEIVED, "parts.purchase.approve", "parts.purchase.receive")
PURCHASE_LABELS = {
    PurchaseStatus.REQUESTED: _l("waiting for approval"),
    PurchaseStatus.APPROVED: _l("approved, to receive"),
    PurchaseStatus.REJECTED: _l("refused"),
    PurchaseStatus.RECEIVED: _l("received"),
    PurchaseStatus.CANCELLED: _l("cancelled"),
}


class StocktakeStatus(Status):
    COUNTING = "counting"
    SUBMITTED = "submitted"
    APPROVED = "approved"


STOCKTAKE_OPEN = frozenset({StocktakeStatus.COUNTING, StocktakeStatus.SUBMITTED})
STOCKTAKE_FINISHED = frozenset({StocktakeStatus.APPROVED})
STOCKTAKE_LABELS = {
    StocktakeStatus.COUNTING: _l("counting"),
    StocktakeStatus.SUBMITTED: _l("waiting for approval"),
    StocktakeStatus.APPROVED: _l("approved"),
}
STOCKTAKE_TRANSITIONS = {
    "submit": Transition("stocktake.submitted", (StocktakeStatus.COUNTING,), StocktakeStatus.SUBMITTED, "parts.stocktake"),
    "approve": Transition("stocktake.approved", (StocktakeStatus.SUBMITTED,), StocktakeStatus.APPROVED,
                          "parts.stocktake.approve"),
    "return": Transition("stocktake.returned", (StocktakeStatus.SUBMITTED,), StocktakeStatus.COUNTING,
                         "parts.stocktake.approve"),
}


class UnitStatus(Status):
    """A serialised unit's state follows its location (set with each ledger movement)."""

    NEW = "new"
    IN_STOCK = "in_stock"
    AT_CUSTOMER = "at_customer"
    QUARANTINE = "quarantine"
    ISSUED = "issued"
    SCRAPPED = "scrapped"
    LOST = "lost"


UNIT_IN_STOCK = frozenset({UnitStatus.IN_STOCK, UnitStatus.QUARANTINE})
UNIT_GONE = frozenset({UnitStatus.ISSUED, UnitStatus.SCRAPPED, UnitStatus.LOST})
UNIT_LABELS = {
    UnitStatus.IN_STOCK: _l("In stock"), UnitStatus.AT_CUSTOMER: _l("At customer"), UnitStatus.QUARANTINE: _l("Quarantine"),
    UnitStatus.ISSUED: _l("Issued"), UnitStatus.SCRAPPED: _l("Scrapped"), UnitStatus.LOST: _l("Written off"),
    UnitStatus.NEW: _l("New"),
}

"""The parts domain's status machines (issue #10, item 5): emergency releases, purchase requests,
stocktakes and serialised units. Every status change goes through `app.core.status.move()`."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.status import Status, Transition


class EmergencyStatus(Status):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    ISSUED = "issued"
    CANCELLED = "cancelled"


EMERGENCY_OPEN = frozenset({EmergencyStatus.REQUESTED, EmergencyStatus.APPROVED})
EMERGENCY_FINISHED = frozenset({EmergencyStatus.REJECTED, EmergencyStatus.ISSUED, EmergencyStatus.CANCELLED})
EMERGENCY_LABELS = {
    EmergencyStatus.REQUESTED: _l("waiting for GM approval"),
    EmergencyStatus.APPROVED: _l("approved, to issue"),
    EmergencyStatus.REJECTED: _l("refused"),
    EmergencyStatus.ISSUED: _l("issued"),
    EmergencyStatus.CANCELLED: _l("cancelled"),
}
EMERGENCY_TRANSITIONS = {
    "approve": Transition("emergency.approved", (EmergencyStatus.REQUESTED,), EmergencyStatus.APPROVED,
                          "parts.emergency.approve"),
    "reject": Transition("emergency.rejected", (EmergencyStatus.REQUESTED,), EmergencyStatus.REJECTED,
                         "parts.emergency.approve"),
    # who may cancel is "the requester, or the warehouse/managers": checked in the service
    "cancel": Transition("emergency.cancelled", (EmergencyStatus.REQUESTED, EmergencyStatus.APPROVED),
                         EmergencyStatus.CANCELLED),
    "issue": Transition("emergency.issued", (EmergencyStatus.APPROVED,), EmergencyStatus.ISSUED, "parts.emergency.issue"),
}


class PurchaseStatus(Status):
    REQUESTED = "requested"
    APPROVED = "approved"
    REJECTED = "rejected"
    RECEIVED = "received"
    CANCELLED = "cancelled"


PURCHASE_OPEN = frozenset({PurchaseStatus.REQUESTED, PurchaseStatus.APPROVED})
PURCHASE_FINISHED = frozenset({PurchaseStatus.REJECTED, PurchaseStatus.RECEIVED, PurchaseStatus.CANCELLED})
PURCHASE_LABELS = {
    PurchaseStatus.REQUESTED: _l("waiting for approval"),
    PurchaseStatus.APPROVED: _l("approved, to receive"),
    PurchaseStatus.REJECTED: _l("refused"),
    PurchaseStatus.RECEIVED: _l("received"),
    PurchaseStatus.CANCELLED: _l("cancelled"),
}
PURCHASE_TRANSITIONS = {
    "approve": Transition("purchase.approved", (PurchaseStatus.REQUESTED,), PurchaseStatus.APPROVED,
                          "parts.purchase.approve"),
    "reject": Transition("purchase.rejected", (PurchaseStatus.REQUESTED,), PurchaseStatus.REJECTED,
                         "parts.purchase.approve"),
    "receive": Transition("purchase.received", (PurchaseStatus.APPROVED,), PurchaseStatus.RECEIVED,
                          "parts.purchase.receive"),
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

"""The bench's status machines (issue #10, item 3): the RMA itself, its quote and its replacement application.

Every status change goes through `app.core.status.move()` with a `Transition` from these tables;
the permission names are declared in `app/rma/manifest.py`.
"""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.status import Status, Transition


class RmaStatus(Status):
    RECEIVED = "received"
    INSPECTED = "inspected"
    REGISTERED = "registered"
    WAITING = "waiting"
    REPAIRING = "repairing"
    REPAIRED = "repaired"
    BURN_IN = "burn_in"
    READY_TO_SHIP = "ready_to_ship"
    SHIPPED = "shipped"
    DELIVERED = "delivered"
    CALLED_BACK = "called_back"
    CLOSED = "closed"


S = RmaStatus

LABELS = {
    S.RECEIVED: _l("Received"),
    S.INSPECTED: _l("Unboxed & inspected"),
    S.REGISTERED: _l("Registered, waiting for QC"),
    S.WAITING: _l("To-repair area"),
    S.REPAIRING: _l("Repairing"),
    S.REPAIRED: _l("Repaired"),
    S.BURN_IN: _l("Burn-in"),
    S.READY_TO_SHIP: _l("Ready to ship"),
    S.SHIPPED: _l("Shipped"),
    S.DELIVERED: _l("Delivered"),
    S.CALLED_BACK: _l("Called back"),
    S.CLOSED: _l("Closed"),
}

OPEN = tuple(str(s) for s in S if s != S.CLOSED)
# Units physically in the building (count for "in the bench" / ship-back rule).
ON_BENCH = ("received", "inspected", "registered", "waiting", "repairing", "repaired", "burn_in", "ready_to_ship")
CLOCK = ("waiting", "repairing")  # R-RMA-03 clock runs here
FINISHED = ("ready_to_ship", "shipped", "delivered", "called_back", "closed")
IN_REPAIR = ("waiting", "repairing", "repaired", "burn_in")  # a hand-over is possible

BENCH = "rma.bench"
SHIP = "rma.ship"

TRANSITIONS: dict[str, Transition] = {
    "unbox": Transition("unbox", (S.RECEIVED,), S.INSPECTED, BENCH, _l("Unbox & inspect")),
    "confirm": Transition("confirm", (S.INSPECTED,), S.REGISTERED, BENCH, _l("Confirmed with customer")),
    "qc": Transition("qc", (S.REGISTERED,), S.WAITING, BENCH, _l("QC: confirm fault")),
    "start": Transition("start", (S.WAITING,), S.REPAIRING, BENCH, _l("Start repair")),
    "ship-unrepaired": Transition("ship-unrepaired", (S.WAITING, S.REPAIRING), S.READY_TO_SHIP, BENCH, _l("Return unrepaired")),
    "repaired": Transition("repaired", (S.REPAIRING,), S.REPAIRED, BENCH, _l("Repaired")),
    "burn-in": Transition("burn-in", (S.REPAIRED,), S.BURN_IN, BENCH, _l("Start burn-in")),
    "final-test": Transition("final-test", (S.BURN_IN,), S.READY_TO_SHIP, BENCH, _l("Final test")),
    "final-test-fail": Transition("final-test", (S.BURN_IN,), S.REPAIRING, BENCH, _l("Final test")),  # failed: back to repair (rework)
    "ship": Transition("ship", (S.READY_TO_SHIP,), S.SHIPPED, SHIP, _l("Ship")),
    "deliver": Transition("deliver", (S.SHIPPED,), S.DELIVERED, SHIP, _l("Delivered")),
    "callback": Transition("callback", (S.DELIVERED,), S.CALLED_BACK, "rma.callback", _l("Callback done")),
    "close": Transition("close", (S.CALLED_BACK,), S.CLOSED, "rma.close", _l("Close")),
    # the manager's approved replacement (R-RMA-03); the permission is checked on the decision itself
    "replace": Transition("replace", CLOCK, S.READY_TO_SHIP, "rma.approve", _l("Replaced with a new unit")),
}

# The main "advance" action of each stage (the card's one-click button).
NEXT_ACTION = {"received": "unbox", "inspected": "confirm", "registered": "qc", "waiting": "start",
               "repairing": "repaired", "repaired": "burn-in", "burn_in": "final-test", "ready_to_ship": "ship",
               "shipped": "deliver", "delivered": "callback", "called_back": "close"}


class QuoteStatus(Status):
    COSTED = "costed"
    QUOTED = "quoted"
    ACCEPTED = "accepted"
    DECLINED = "declined"


QUOTE_LABELS = {QuoteStatus.COSTED: _l("Costed, to quote"), QuoteStatus.QUOTED: _l("Quoted, waiting for the customer"),
                QuoteStatus.ACCEPTED: _l("Accepted"), QuoteStatus.DECLINED: _l("Declined")}
QUOTE_TRANSITIONS = {
    "send": Transition("quote-send", (QuoteStatus.COSTED,), QuoteStatus.QUOTED, "rma.quote"),
    "accept": Transition("quote-accept", (QuoteStatus.QUOTED,), QuoteStatus.ACCEPTED, "rma.quote"),
    "decline": Transition("quote-decline", (QuoteStatus.QUOTED,), QuoteStatus.DECLINED, "rma.quote"),
}


class ReplacementStatus(Status):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


REPLACEMENT_LABELS = {ReplacementStatus.PENDING: _l("Waiting for approval"), ReplacementStatus.APPROVED: _l("Approved"),
                      ReplacementStatus.REJECTED: _l("Rejected")}
REPLACEMENT_TRANSITIONS = {
    "approve": Transition("replacement-approve", (ReplacementStatus.PENDING,), ReplacementStatus.APPROVED, "rma.approve"),
    "reject": Transition("replacement-reject", (ReplacementStatus.PENDING,), ReplacementStatus.REJECTED, "rma.approve"),
}

"""The loaners domain's states and moves (issue #10, item 3): loans and desk requests.

Every status change goes through `app.core.status.move()` with one of the transitions below;
plain versioned edits of a loan (notice recalled, case finished) through `update_versioned()`.
"""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.status import Status, Transition


class LoanStatus(Status):
    OUT = "out"
    RETURNED = "returned"
    CONVERTED = "converted"  # permanent replacement (R-SCR-01)


class RequestStatus(Status):
    OPEN = "open"
    FULFILLED = "fulfilled"
    CANCELLED = "cancelled"


OPEN_LOANS = frozenset({LoanStatus.OUT})
FINISHED_LOANS = frozenset({LoanStatus.RETURNED, LoanStatus.CONVERTED})
RECALLABLE = (LoanStatus.OUT, LoanStatus.RETURNED)  # a notice can be recalled until the unit became the customer's

LOAN_LABELS = {LoanStatus.OUT: _l("Out"), LoanStatus.RETURNED: _l("Returned"),
               LoanStatus.CONVERTED: _l("Permanent replacement")}
REQUEST_LABELS = {RequestStatus.OPEN: _l("Open"), RequestStatus.FULFILLED: _l("Fulfilled"),
                  RequestStatus.CANCELLED: _l("Cancelled")}

LOAN_TRANSITIONS = {
    "check_in": Transition("check_in", (LoanStatus.OUT,), LoanStatus.RETURNED, "loaners.keep"),
    "convert": Transition("convert", (LoanStatus.OUT,), LoanStatus.CONVERTED, "loaners.keep"),
}
# Requests: the keeper fulfils one with a check-out; the requester (or a keeper) cancels it. The
# permission is checked by the service (a requester may cancel only their own request).
REQUEST_TRANSITIONS = {
    "fulfil": Transition("fulfil", (RequestStatus.OPEN,), RequestStatus.FULFILLED, "loaners.keep"),
    "cancel": Transition("cancel", (RequestStatus.OPEN,), RequestStatus.CANCELLED, "loaners.request"),
}
TRANSITIONS = {**{f"loan.{k}": t for k, t in LOAN_TRANSITIONS.items()},
               **{f"request.{k}": t for k, t in REQUEST_TRANSITIONS.items()}}

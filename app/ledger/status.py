"""The ledger's states and moves (issue #10, item 3): slips, slip books, statements, extension requests.

Every status column of the ledger changes through `app.core.status.move()` with one of these
transitions (compare-and-set on id, status and version; a `status_change` history row)."""

from __future__ import annotations

from enum import StrEnum

from app.core.i18n import lazy_gettext as _l
from app.core.status import Transition


class SlipState(StrEnum):
    UNUSED = "unused"
    USED = "used"
    VOID = "void"
    TRANSFERRED = "transferred"
    RETURNED = "returned"


class BookStatus(StrEnum):
    STOCK = "stock"
    ISSUED = "issued"
    CLOSED = "closed"


class StatementStatus(StrEnum):
    DRAFT = "draft"
    REVIEWED = "reviewed"
    CHECKED = "checked"
    SENT = "sent"
    SETTLED = "settled"
    CANCELLED = "cancelled"


class ExtensionStatus(StrEnum):
    PENDING = "pending"
    APPROVED = "approved"
    REJECTED = "rejected"


# groups
SLIP_ACCOUNTED = frozenset({SlipState.USED, SlipState.VOID, SlipState.TRANSFERRED, SlipState.RETURNED})
STATEMENT_OPEN = frozenset({StatementStatus.DRAFT, StatementStatus.REVIEWED, StatementStatus.CHECKED, StatementStatus.SENT})
STATEMENT_FINISHED = frozenset({StatementStatus.SETTLED, StatementStatus.CANCELLED})

SLIP_LABELS = {
    SlipState.UNUSED: _l("Unused"),
    SlipState.USED: _l("Used"),
    SlipState.VOID: _l("Void"),
    SlipState.TRANSFERRED: _l("Transferred"),
    SlipState.RETURNED: _l("Returned unused"),
    "missing": _l("Missing"),  # shown for an unused number below a used one (a gap), not a stored state
}
BOOK_LABELS = {BookStatus.STOCK: _l("In stock"), BookStatus.ISSUED: _l("Issued"), BookStatus.CLOSED: _l("Closed")}
STATEMENT_LABELS = {
    StatementStatus.DRAFT: _l("Awaiting manager review"), StatementStatus.REVIEWED: _l("Awaiting finance check"),
    StatementStatus.CHECKED: _l("Ready to send"), StatementStatus.SENT: _l("Sent, awaiting payment"),
    StatementStatus.SETTLED: _l("Settled"), StatementStatus.CANCELLED: _l("Cancelled"),
}
EXTENSION_LABELS = {ExtensionStatus.PENDING: _l("Pending"), ExtensionStatus.APPROVED: _l("Approved"),
                    ExtensionStatus.REJECTED: _l("Rejected")}

SLIP_TRANSITIONS = {
    "void": Transition("void", (SlipState.UNUSED,), SlipState.VOID),
    "transfer": Transition("transfer", (SlipState.USED,), SlipState.TRANSFERRED, perm="ledger.slips.manage"),
    "use_backup": Transition("use_backup", (SlipState.UNUSED,), SlipState.USED, perm="ledger.slips.manage"),
}
BOOK_TRANSITIONS = {
    "issue": Transition("issue", (BookStatus.STOCK,), BookStatus.ISSUED, perm="ledger.slips.manage"),
    "hand_back": Transition("hand_back", (BookStatus.ISSUED,), BookStatus.CLOSED, perm="ledger.slips.manage"),
}
# statement verb → move (R-AR-02); who/when columns are stamped by the service
STATEMENT_TRANSITIONS = {
    "review": Transition("review", (StatementStatus.DRAFT,), StatementStatus.REVIEWED, perm="ledger.statements.review"),
    "check": Transition("check", (StatementStatus.REVIEWED,), StatementStatus.CHECKED, perm="ledger.receivables.manage"),
    "send": Transition("send", (StatementStatus.CHECKED,), StatementStatus.SENT, perm="ledger.receivables.manage"),
    "return_review": Transition("return_review", (StatementStatus.DRAFT,), StatementStatus.DRAFT,
                                perm="ledger.statements.review"),
    "return_check": Transition("return_check", (StatementStatus.REVIEWED,), StatementStatus.DRAFT,
                               perm="ledger.receivables.manage"),
    # desk or finance: checked in the service (a Transition names one permission)
    "cancel": Transition("cancel", (StatementStatus.DRAFT,), StatementStatus.CANCELLED),
}
STATEMENT_STAMPS = {"review": ("reviewed_by", "reviewed_at"), "check": ("checked_by", "checked_at"),
                    "send": ("sent_by", "sent_at")}
EXTENSION_TRANSITIONS = {
    "approve": Transition("approve", (ExtensionStatus.PENDING,), ExtensionStatus.APPROVED, perm="ledger.extensions.decide"),
    "reject": Transition("reject", (ExtensionStatus.PENDING,), ExtensionStatus.REJECTED, perm="ledger.extensions.decide"),
}

# the closed lists a receivable carries
ACCOUNT_CLASSES = ("monthly", "retail")
METHODS = ("cash", "transfer", "cheque", "other")

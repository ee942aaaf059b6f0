"""Ledger tables (mirror migrations/shouhou_2026_11_26t02_10_00_000000_ledger.py; used for reads/typing).

Money is integer fen (`*_fen`). Customers are denormalised (customer_id + customer_name +
account_class) until the customers domain links them.
"""

from piccolo.columns import BigInt, Boolean, Date, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class SlipBook(Table, tablename="slip_book"):
    """R-SLIP-01: a book of pre-numbered repair slips (kind regular, or the office's backup book)."""

    class Status:
        STOCK = "stock"
        ISSUED = "issued"
        CLOSED = "closed"

    id = Serial(primary_key=True)
    series = Varchar(length=20, default="WX")
    first_number = Integer()
    last_number = Integer()
    kind = Varchar(length=10, default="regular")
    status = Varchar(length=10, default="stock")
    holder_user_id = Integer(null=True, default=None)
    holder_name = Varchar(length=100, default="")
    issued_on = Date(null=True, default=None)
    closed_on = Date(null=True, default=None)
    note = Varchar(length=200, default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Slip(Table, tablename="slip"):
    """One number of a book and its state (R-SLIP-08)."""

    class State:
        UNUSED = "unused"
        USED = "used"
        VOID = "void"
        TRANSFERRED = "transferred"
        RETURNED = "returned"
        ACCOUNTED = ("used", "void", "transferred", "returned")

    id = Serial(primary_key=True)
    book_id = Integer()
    series = Varchar(length=20)
    number = Integer()
    state = Varchar(length=12, default="unused")
    holder_user_id = Integer(null=True, default=None)
    state_on = Date(null=True, default=None)
    used_at = Timestamptz(null=True, default=None)
    job_type = Varchar(length=30, default="")
    job_id = Varchar(length=40, default="")
    job_note = Varchar(length=200, default="")  # what the job was, when job_type is "other"
    amount_fen = BigInt(default=0)
    has_delay = Boolean(default=False)
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


class SlipVoid(Table, tablename="slip_void"):
    id = Serial(primary_key=True)
    slip_id = Integer(unique=True)
    reason = Varchar(length=300)
    handed_in_on = Date(null=True, default=None)
    recorded_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SlipTransfer(Table, tablename="slip_transfer"):
    id = Serial(primary_key=True)
    from_slip_id = Integer(unique=True)
    to_slip_id = Integer(unique=True)
    reason = Varchar(length=300, default="")
    signed_by = Varchar(length=100)
    signed_on = Date()
    recorded_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SlipDelay(Table, tablename="slip_delay"):
    id = Serial(primary_key=True)
    slip_id = Integer()
    reason = Varchar(length=300)
    delay_ref = Varchar(length=40, default="")
    new_due_on = Date(null=True, default=None)
    recorded_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SlipHandback(Table, tablename="slip_handback"):
    id = Serial(primary_key=True)
    book_id = Integer()
    user_id = Integer(null=True, default=None)
    from_number = Integer()
    to_number = Integer()
    count = Integer()
    reason = Varchar(length=300, default="")
    handed_on = Date()
    recorded_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class SalesConfirmation(Table, tablename="sales_confirmation"):
    """R-AR-01: 销售确认书, numbered from the `sales_confirmation` series."""

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    customer_id = Integer(null=True, default=None)
    customer_name = Varchar(length=200)
    account_class = Varchar(length=10)
    technician_user_id = Integer(null=True, default=None)
    description = Varchar(length=300, default="")
    amount_fen = BigInt()
    sold_on = Date()
    registered_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ArStatement(Table, tablename="ar_statement"):
    """R-AR-02: month-end statement: draft (desk) → reviewed (manager) → checked (finance) → sent → settled."""

    class Status:
        DRAFT = "draft"
        REVIEWED = "reviewed"
        CHECKED = "checked"
        SENT = "sent"
        SETTLED = "settled"
        CANCELLED = "cancelled"

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    customer_id = Integer(null=True, default=None)
    customer_name = Varchar(length=200)
    period_start = Date()
    period_end = Date()
    status = Varchar(length=10, default="draft")
    total_fen = BigInt(default=0)
    paid_fen = BigInt(default=0)
    due_on = Date(null=True, default=None)
    note = Varchar(length=300, default="")
    drafted_by = Integer(null=True, default=None)
    drafted_at = Timestamptz(null=True, default=None)
    reviewed_by = Integer(null=True, default=None)
    reviewed_at = Timestamptz(null=True, default=None)
    checked_by = Integer(null=True, default=None)
    checked_at = Timestamptz(null=True, default=None)
    sent_by = Integer(null=True, default=None)
    sent_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class Receivable(Table, tablename="receivable"):
    """A receivable line any domain posts (app.ledger.services.post_receivable)."""

    id = Serial(primary_key=True)
    source_type = Varchar(length=30, default="manual")
    source_id = Varchar(length=40, default="")
    customer_id = Integer(null=True, default=None)
    customer_name = Varchar(length=200)
    account_class = Varchar(length=10)
    technician_user_id = Integer(null=True, default=None)
    description = Varchar(length=300, default="")
    amount_fen = BigInt()
    paid_fen = BigInt(default=0)
    is_open = Boolean(default=True)
    posted_on = Date()
    due_date = Date(null=True, default=None)
    extended = Boolean(default=False)
    statement_id = Integer(null=True, default=None)
    followup_note = Varchar(length=300, default="")
    followup_at = Timestamptz(null=True, default=None)
    created_by = Integer(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ArStatementLine(Table, tablename="ar_statement_line"):
    id = Serial(primary_key=True)
    statement_id = Integer()
    receivable_id = Integer(unique=True)
    amount_fen = BigInt()
    description = Varchar(length=300, default="")
    posted_on = Date()


class ArPayment(Table, tablename="ar_payment"):
    id = Serial(primary_key=True)
    token = Varchar(length=64, unique=True)
    customer_id = Integer(null=True, default=None)
    customer_name = Varchar(length=200)
    statement_id = Integer(null=True, default=None)
    receivable_id = Integer(null=True, default=None)
    amount_fen = BigInt()
    received_on = Date()
    method = Varchar(length=12, default="transfer")
    reference = Varchar(length=100, default="")
    recorded_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class ArAllocation(Table, tablename="ar_allocation"):
    """Append-only: which receivable lines a payment settled, and how much."""

    id = Serial(primary_key=True)
    payment_id = Integer()
    receivable_id = Integer()
    amount_fen = BigInt()


class ArExtension(Table, tablename="ar_extension"):
    """R-AR-03: a late-payment extension request."""

    id = Serial(primary_key=True)
    receivable_id = Integer()
    reason = Varchar(length=300)
    old_due_date = Date(null=True, default=None)
    requested_due_date = Date()
    status = Varchar(length=10, default="pending")
    requested_by = Integer(null=True, default=None)
    decided_by = Integer(null=True, default=None)
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Varchar(length=300, default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())


class ArWeekCheck(Table, tablename="ar_week_check"):
    """R-AR-04: the weekly reconciliation of one technician's sales ledger."""

    id = Serial(primary_key=True)
    technician_user_id = Integer()
    week_start = Date()
    line_count = Integer(default=0)
    total_fen = BigInt(default=0)
    checked_by = Integer(null=True, default=None)
    note = Varchar(length=300, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class WorkCalendar(Table, tablename="work_calendar"):
    """Overrides of the Mon–Fri working week: public holidays (off) and make-up days (on)."""

    id = Serial(primary_key=True)
    day = Date(unique=True)
    is_working = Boolean(default=False)
    name = Varchar(length=100, default="")
    updated_at = Timestamptz(default=TimestamptzNow())


class LedgerRevision(Table, tablename="ledger_revision"):
    """One row (id 1): stamped by every ledger write; the report cache keys on it (app.ledger.common.cached)."""

    id = Integer(primary_key=True)
    updated_at = Timestamptz(default=TimestamptzNow())


ALL = [SlipBook, Slip, SlipVoid, SlipTransfer, SlipDelay, SlipHandback, SalesConfirmation, ArStatement, Receivable,
       ArStatementLine, ArPayment, ArAllocation, ArExtension, ArWeekCheck, WorkCalendar, LedgerRevision]

"""Piccolo mirrors of the RMA DDL (migrations/shouhou_2026_11_26t02_20_00_000000_rma.py).

Used for reads and typing; every write goes through app.rma.services.
"""

from piccolo.columns import BigInt, Boolean, Date, Integer, Serial, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Rma(Table, tablename="rma"):
    """One returned unit on the bench (R-RMA-01); status + version are the compare-and-set pair."""

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    status = Varchar(length=20, default="received")
    version = Integer(default=1)
    device_id = Integer(null=True, default=None)
    customer_id = Integer(null=True, default=None)
    office_id = Integer(null=True, default=None)
    region = Varchar(length=100, default="")
    serial = Varchar(length=80)
    model = Varchar(length=100, default="")
    product_name = Varchar(length=200, default="")
    customer_name = Varchar(length=200, default="")
    contact_phone = Varchar(length=40, default="")
    address = Varchar(length=300, default="")
    in_warranty = Boolean(default=True)
    warranty_end = Date(null=True, default=None)
    fault_reported = Varchar(length=1000, default="")
    ticket_number = Varchar(length=40, default="")  # the service ticket it came from (#13)
    appearance = Varchar(length=10, default="")
    accessories = Varchar(length=300, default="")
    photos = Varchar(length=500, default="")
    damage_call = Varchar(length=500, default="")
    damage_cause = Varchar(length=500, default="")
    confirm_note = Varchar(length=500, default="")
    fault_code = Varchar(length=60, default="")
    fault_found = Varchar(length=1000, default="")
    exception_number = Varchar(length=40, default="")
    replacement_proposed = Boolean(default=False)
    technician_id = Integer(null=True, default=None)
    technician_name = Varchar(length=100, default="")
    burn_in_hours = Integer(default=0)
    burn_in_started_at = Timestamptz(null=True, default=None)
    rework_count = Integer(default=0)
    outcome = Varchar(length=12, default="")
    carrier = Varchar(length=60, default="")
    tracking_no = Varchar(length=60, default="")
    customer_told_on = Date(null=True, default=None)
    delivered_on = Date(null=True, default=None)
    received_at = Timestamptz(default=TimestamptzNow())
    qc_at = Timestamptz(null=True, default=None)
    repaired_at = Timestamptz(null=True, default=None)
    completed_at = Timestamptz(null=True, default=None)
    shipped_at = Timestamptz(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    moved_at = Timestamptz(default=TimestamptzNow())
    moved_by = Varchar(length=100, default="")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class RmaTransition(Table, tablename="rma_transition"):
    """Append-only: who moved which RMA from which stage to which, when (R-RMA-01)."""

    id = Serial(primary_key=True)
    rma_id = Integer()
    version = Integer()
    from_status = Varchar(length=20, default="")
    to_status = Varchar(length=20)
    action = Varchar(length=30, default="")
    note = Varchar(length=1000, default="")
    user_id = Integer(null=True, default=None)
    username = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RmaExceptionSlip(Table, tablename="rma_exception_slip"):
    id = Serial(primary_key=True)
    rma_id = Integer(unique=True)
    number = Varchar(length=40, unique=True)
    fault_code = Varchar(length=60, default="")
    fault_confirmed = Varchar(length=1000, default="")
    test_note = Varchar(length=1000, default="")
    unresolvable = Boolean(default=False)
    user_id = Integer(null=True, default=None)
    username = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RmaQuote(Table, tablename="rma_quote"):
    id = Serial(primary_key=True)
    rma_id = Integer(unique=True)
    status = Varchar(length=12, default="costed")
    fault = Varchar(length=1000, default="")
    amount_fen = BigInt()
    costed_by = Varchar(length=100, default="")
    costed_at = Timestamptz(default=TimestamptzNow())
    quoted_by = Varchar(length=100, default="")
    quoted_at = Timestamptz(null=True, default=None)
    decided_by = Varchar(length=100, default="")
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Varchar(length=500, default="")
    receivable_id = Integer(null=True, default=None)
    paid_at = Timestamptz(null=True, default=None)
    paid_by = Varchar(length=100, default="")
    version = Integer(default=1)


class RmaReplacement(Table, tablename="rma_replacement"):
    id = Serial(primary_key=True)
    rma_id = Integer(unique=True)
    status = Varchar(length=12, default="pending")
    reason = Varchar(length=500, default="")
    raised_at = Timestamptz(default=TimestamptzNow())
    decided_by = Varchar(length=100, default="")
    decided_at = Timestamptz(null=True, default=None)
    note = Varchar(length=500, default="")
    new_serial = Varchar(length=100, default="")
    version = Integer(default=1)


class RmaHandover(Table, tablename="rma_handover"):
    id = Serial(primary_key=True)
    rma_id = Integer()
    from_name = Varchar(length=100, default="")
    to_user_id = Integer(null=True, default=None)
    to_name = Varchar(length=100, default="")
    note = Varchar(length=1000, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RmaConsultation(Table, tablename="rma_consultation"):
    id = Serial(primary_key=True)
    rma_id = Integer()
    answer = Varchar(length=10)
    note = Varchar(length=1000, default="")
    username = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RmaPartUse(Table, tablename="rma_part_use"):
    id = Serial(primary_key=True)
    rma_id = Integer()
    part_id = Integer()
    qty = Integer()
    serial = Varchar(length=100, default="")
    move_id = Integer(null=True, default=None)
    username = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RmaCallback(Table, tablename="rma_callback"):
    id = Serial(primary_key=True)
    rma_id = Integer(unique=True)
    due_at = Timestamptz(default=TimestamptzNow())
    status = Varchar(length=10, default="open")
    note = Varchar(length=1000, default="")
    done_by = Varchar(length=100, default="")
    done_at = Timestamptz(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class RmaBurnIn(Table, tablename="rma_burn_in"):
    id = Serial(primary_key=True)
    model = Varchar(length=100, unique=True)
    hours = Integer()


class RmaPhoto(Table, tablename="rma_photo"):
    id = Serial(primary_key=True)
    rma_id = Integer()
    stored_name = Varchar(length=80, unique=True)
    original_name = Varchar(length=200, default="")
    content_type = Varchar(length=40)
    size = Integer()
    username = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


ALL = [RmaPhoto, Rma, RmaTransition, RmaExceptionSlip, RmaQuote, RmaReplacement, RmaHandover, RmaConsultation, RmaPartUse,
       RmaCallback, RmaBurnIn]

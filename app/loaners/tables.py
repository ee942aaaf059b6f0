"""Piccolo mirrors of migrations/shouhou_2026_11_26t02_25_00_000000_loaners.py (reads/typing only).

Every write goes through app.loaners.services.
"""

from piccolo.columns import Date, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Loan(Table, tablename="loan"):
    """R-LOAN-01/03: one loan = one spare-replacement notice (故障处理备品替换通知)."""

    class Status:
        OUT = "out"
        RETURNED = "returned"
        CONVERTED = "converted"  # permanent replacement (R-SCR-01)
        ALL = ("out", "returned", "converted")

    class CaseType:
        RMA = "rma"
        TICKET = "ticket"
        STANDALONE = "standalone"
        ALL = ("rma", "ticket", "standalone")

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    status = Varchar(length=12, default="out")
    serial_unit_id = Integer()
    part_id = Integer()
    serial = Varchar(length=100)
    model = Varchar(length=100, default="")
    customer_id = Integer()
    customer_name = Varchar(length=200, default="")
    case_type = Varchar(length=12)
    case_id = Integer(null=True, default=None)
    case_ref = Varchar(length=60, default="")
    reason = Text(default="")
    device_serial = Varchar(length=100, default="")
    device_model = Varchar(length=100, default="")
    request_id = Integer(null=True, default=None)
    out_at = Timestamptz()
    expected_return = Date()
    condition_out = Varchar(length=500)
    out_by = Integer(null=True, default=None)
    out_by_name = Varchar(length=60, default="")
    returned_at = Timestamptz(null=True, default=None)
    condition_in = Varchar(length=500, default="")
    test_result = Varchar(length=8, default="")
    test_note = Varchar(length=500, default="")
    returned_to = Varchar(length=12, default="")
    in_by = Integer(null=True, default=None)
    in_by_name = Varchar(length=60, default="")
    case_finished_at = Timestamptz(null=True, default=None)
    recall_ref = Varchar(length=60, default="")
    recalled_at = Timestamptz(null=True, default=None)
    converted_at = Timestamptz(null=True, default=None)
    conversion_ref = Varchar(length=60, default="")
    conversion_note = Varchar(length=500, default="")
    converted_by_name = Varchar(length=60, default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class LoanRequest(Table, tablename="loan_request"):
    """The desk asks for a loaner; the keeper fulfils it with a check-out."""

    class Status:
        OPEN = "open"
        FULFILLED = "fulfilled"
        CANCELLED = "cancelled"

    id = Serial(primary_key=True)
    status = Varchar(length=12, default="open")
    customer_id = Integer()
    case_type = Varchar(length=12)
    case_id = Integer(null=True, default=None)
    case_ref = Varchar(length=60, default="")
    part_id = Integer(null=True, default=None)
    model = Varchar(length=100, default="")
    trigger_rule = Varchar(length=30, default="")
    reason = Text(default="")
    needed_by = Date(null=True, default=None)
    requested_by = Integer(null=True, default=None)
    requested_by_name = Varchar(length=60, default="")
    loan_id = Integer(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class LoanFormToken(Table, tablename="loan_form_token"):
    id = Serial(primary_key=True)
    token = Varchar(length=64, unique=True)
    user_id = Integer(null=True, default=None)
    loan_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


class LoanTrigger(Table, tablename="loan_trigger"):
    """R-LOAN-02: a rule that entitled a case to a free loaner, recorded when it fired."""

    id = Serial(primary_key=True)
    case_type = Varchar(length=12)
    case_id = Integer(null=True, default=None)
    case_ref = Varchar(length=60, default="")
    rule = Varchar(length=30)
    fired_at = Timestamptz()
    due_at = Timestamptz(null=True, default=None)
    detail = Text(default="")
    customer_id = Integer(null=True, default=None)
    recorded_by = Integer(null=True, default=None)
    recorded_by_name = Varchar(length=60, default="")
    created_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES = [LoanRequest, Loan, LoanFormToken, LoanTrigger]

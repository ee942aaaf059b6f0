"""Piccolo mirrors of migrations/shouhou_2026_11_29t18_10_00_000000_tickets.py (reads/typing only).

Every write goes through app.tickets.services (raw SQL compare-and-set through app.core.status)."""

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class TechProfile(Table, tablename="tech_profile"):
    """R-TKT-03: what dispatch needs to know of a technician: office, skills (system types), resident post."""

    id = Serial(primary_key=True)
    user_id = Integer(unique=True)
    office_id = Integer(null=True, default=None)
    skills = Varchar(length=200, default="")
    resident = Boolean(default=False)
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


class Ticket(Table, tablename="ticket"):
    """售后服务单: one customer request (R-TKT-01), its entitlement snapshot (R-TKT-02), dispatch
    (R-TKT-03/04) and SLA deadlines (R-TKT-05)."""

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    status = Varchar(length=12, default="new")
    customer_id = Integer()
    customer_name = Varchar(length=200, default="")
    office_id = Integer(null=True, default=None)
    device_id = Integer(null=True, default=None)
    device_serial = Varchar(length=80, default="")
    device_model = Varchar(length=100, default="")
    channel = Varchar(length=10)
    contact_name = Varchar(length=100, default="")
    contact_phone = Varchar(length=40, default="")
    requested_service = Text(default="")
    current_state = Text(default="")
    fault_at = Timestamptz(null=True, default=None)
    nature = Varchar(length=20, default="")
    category = Varchar(length=20, default="")
    fault_code = Varchar(length=60, default="")
    location = Varchar(length=200, default="")
    impact = Varchar(length=10, default="partial")
    tried = Text(default="")
    entitlement = Varchar(length=12, default="none")
    contract_id = Integer(null=True, default=None)
    contract_number = Varchar(length=40, default="")
    warranty_end = Date(null=True, default=None)
    billing = Varchar(length=12, default="chargeable")
    area = Varchar(length=10, default="city")
    service_mode = Varchar(length=10, default="mobile")
    assignee_id = Integer(null=True, default=None)
    dispatch_number = Varchar(length=40, null=True, default=None)
    cause = Text(default="")
    spares = Text(default="")
    tools = Text(default="")
    dispatched_at = Timestamptz(null=True, default=None)
    respond_due = Timestamptz(null=True, default=None)
    responded_at = Timestamptz(null=True, default=None)
    depart_due = Timestamptz(null=True, default=None)
    departed_at = Timestamptz(null=True, default=None)
    onsite_due = Timestamptz(null=True, default=None)
    arrived_at = Timestamptz(null=True, default=None)
    fix_due = Timestamptz(null=True, default=None)
    fixed_at = Timestamptz(null=True, default=None)
    cannot_solve_at = Timestamptz(null=True, default=None)
    loaner_due = Timestamptz(null=True, default=None)
    sla_due = Timestamptz(null=True, default=None)
    paused_at = Timestamptz(null=True, default=None)
    pause_reason = Varchar(length=12, default="")
    paused_seconds = Integer(default=0)
    repeat_of = Integer(null=True, default=None)
    result = Varchar(length=16, default="")
    bench_ref = Varchar(length=60, default="")
    created_by = Integer(null=True, default=None)
    closed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TicketVisit(Table, tablename="ticket_visit"):
    """A child slip (R-TKT-07): one technician's trip, with ETA call, times, result and sign-off (R-TKT-04/06/08)."""

    id = Serial(primary_key=True)
    ticket_id = Integer()
    seq = Integer()
    status = Varchar(length=12, default="planned")
    technician_id = Integer()
    called_at = Timestamptz(null=True, default=None)
    eta_at = Timestamptz(null=True, default=None)
    call_note = Varchar(length=300, default="")
    departed_at = Timestamptz(null=True, default=None)
    arrived_at = Timestamptz(null=True, default=None)
    finished_at = Timestamptz(null=True, default=None)
    work_done = Text(default="")
    result = Varchar(length=16, default="")
    work_stopped = Boolean(default=False)
    slip_number = Integer(null=True, default=None)
    amount_fen = BigInt(default=0)
    signer = Varchar(length=100, default="")
    satisfaction = Varchar(length=12, default="")
    score = Integer(null=True, default=None)
    unhappy_reason = Varchar(length=12, default="")
    comment = Text(default="")
    accessories = Varchar(length=4, default="")
    signature_file = Varchar(length=80, default="")
    signed_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class TicketVisitPart(Table, tablename="ticket_visit_part"):
    """A part a visit used, consumed from the technician's own stock through the parts ledger."""

    id = Serial(primary_key=True)
    visit_id = Integer()
    ticket_id = Integer()
    part_id = Integer()
    part_no = Varchar(length=60, default="")
    part_name = Varchar(length=200, default="")
    qty = Integer()
    serial = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class TicketPause(Table, tablename="ticket_pause"):
    """R-TKT-05: the SLA clock stopped while waiting for the customer or parts."""

    id = Serial(primary_key=True)
    ticket_id = Integer()
    reason = Varchar(length=12)
    note = Varchar(length=300, default="")
    started_at = Timestamptz()
    started_by = Integer(null=True, default=None)
    ended_at = Timestamptz(null=True, default=None)
    ended_by = Integer(null=True, default=None)


class TicketBreach(Table, tablename="ticket_breach"):
    """R-TKT-05: one row per (ticket, clock), stamped with the deadline that was missed."""

    id = Serial(primary_key=True)
    ticket_id = Integer()
    clock = Varchar(length=10)
    breached_at = Timestamptz()
    technician_id = Integer(null=True, default=None)
    office_id = Integer(null=True, default=None)
    noticed_at = Timestamptz(default=TimestamptzNow())


class TicketFormToken(Table, tablename="ticket_form_token"):
    id = Serial(primary_key=True)
    token = Varchar(length=60, unique=True)
    user_id = Integer(null=True, default=None)
    ticket_id = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())


ALL_TABLES = [TechProfile, Ticket, TicketVisit, TicketVisitPart, TicketPause, TicketBreach, TicketFormToken]

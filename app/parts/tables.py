"""Piccolo mirrors of the parts DDL (migrations/shouhou_2026_11_26t02_00_00_000000_parts.py).

Used for reads and typing; every stock write goes through app.parts.services.
"""

from piccolo.columns import Boolean, Integer, Serial, Text, Timestamptz, Varchar, BigInt
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class Part(Table, tablename="part"):
    """R-INV-01 catalogue entry."""

    class Category:
        PART = "part"
        CONSUMABLE = "consumable"
        DEVICE = "device"
        ALL = ("part", "consumable", "device")

    id = Serial(primary_key=True)
    part_no = Varchar(length=60, unique=True)
    name = Varchar(length=200)
    model = Varchar(length=100, default="")
    category = Varchar(length=20, default="part")
    unit = Varchar(length=20, default="个")
    cost_fen = BigInt(default=0)
    supplier = Varchar(length=200, default="")
    serialised = Boolean(default=False)
    discontinued = Boolean(default=False)
    note = Text(default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PartSubstitute(Table, tablename="part_substitute"):
    id = Serial(primary_key=True)
    part_id = Integer()
    substitute_id = Integer()


class StockLocation(Table, tablename="stock_location"):
    """R-INV-02. `kind` groups; the six system locations have fixed codes."""

    class Kind:
        CENTRAL = "central"
        EMERGENCY = "emergency"
        OFFICE = "office"
        TECHNICIAN = "technician"
        BENCH = "bench"
        LOANER_POOL = "loaner_pool"
        QUARANTINE = "quarantine"
        CUSTOMER = "customer"
        ALL = ("central", "emergency", "office", "technician", "bench", "loaner_pool", "quarantine", "customer")

    id = Serial(primary_key=True)
    code = Varchar(length=40, unique=True)
    name = Varchar(length=100)
    kind = Varchar(length=20)
    keeper_user_id = Integer(null=True, default=None)
    office = Varchar(length=60, default="")
    sort = Integer(default=100)
    active = Boolean(default=True)
    created_at = Timestamptz(default=TimestamptzNow())


class StockLevel(Table, tablename="stock_level"):
    id = Serial(primary_key=True)
    part_id = Integer()
    location_id = Integer()
    on_hand = Integer(default=0)
    installed_qty = Integer(default=0)
    min_qty = Integer(default=0)
    min_manual = Boolean(default=False)
    reserved = Integer(default=0)  # R-TKT-04: held for documents; available = on_hand - reserved
    updated_at = Timestamptz(default=TimestamptzNow())


class SerialUnit(Table, tablename="serial_unit"):
    id = Serial(primary_key=True)
    part_id = Integer()
    serial = Varchar(length=100)
    location_id = Integer(null=True, default=None)
    status = Varchar(length=20, default="in_stock")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StockMove(Table, tablename="stock_move"):
    """R-INV-03: append-only ledger row (the database refuses UPDATE/DELETE)."""

    id = Serial(primary_key=True)
    created_at = Timestamptz(default=TimestamptzNow())
    kind = Varchar(length=20)
    part_id = Integer()
    serial_unit_id = Integer(null=True, default=None)
    serial = Varchar(length=100, default="")
    qty = Integer()
    from_location_id = Integer(null=True, default=None)
    to_location_id = Integer(null=True, default=None)
    document_type = Varchar(length=40, default="")
    document_id = Varchar(length=60, default="")
    user_id = Integer(null=True, default=None)
    username = Varchar(length=60, default="")
    reason = Varchar(length=500, default="")


class PartsFormToken(Table, tablename="parts_form_token"):
    id = Serial(primary_key=True)
    token = Varchar(length=64, unique=True)
    user_id = Integer(null=True, default=None)
    ref = Varchar(length=100, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class PurchaseRequest(Table, tablename="purchase_request"):
    class Status:
        REQUESTED = "requested"
        APPROVED = "approved"
        REJECTED = "rejected"
        RECEIVED = "received"
        CANCELLED = "cancelled"
        OPEN = ("requested", "approved")

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    status = Varchar(length=20, default="requested")
    location_id = Integer()
    supplier = Varchar(length=200, default="")
    note = Text(default="")
    requested_by = Integer(null=True, default=None)
    requested_by_name = Varchar(length=60, default="")
    decided_by = Integer(null=True, default=None)
    decided_by_name = Varchar(length=60, default="")
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")
    received_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class PurchaseRequestLine(Table, tablename="purchase_request_line"):
    id = Serial(primary_key=True)
    request_id = Integer()
    part_id = Integer()
    qty = Integer()
    received_qty = Integer(default=0)
    cost_fen = BigInt(default=0)


class EmergencyRequest(Table, tablename="emergency_request"):
    class Status:
        REQUESTED = "requested"
        APPROVED = "approved"
        REJECTED = "rejected"
        ISSUED = "issued"
        CANCELLED = "cancelled"
        OPEN = ("requested", "approved")

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    status = Varchar(length=20, default="requested")
    customer_id = Integer(null=True, default=None)
    customer_name = Varchar(length=200)
    reason = Text()
    engineer_id = Integer(null=True, default=None)
    engineer_name = Varchar(length=100, default="")
    requested_by = Integer(null=True, default=None)
    requested_by_name = Varchar(length=60, default="")
    decided_by = Integer(null=True, default=None)
    decided_by_name = Varchar(length=60, default="")
    decided_at = Timestamptz(null=True, default=None)
    decision_note = Text(default="")
    issued_by = Integer(null=True, default=None)
    issued_by_name = Varchar(length=60, default="")
    issued_at = Timestamptz(null=True, default=None)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class EmergencyRequestLine(Table, tablename="emergency_request_line"):
    id = Serial(primary_key=True)
    request_id = Integer()
    part_id = Integer()
    qty = Integer()
    serials = Varchar(length=1000, default="")


class Stocktake(Table, tablename="stocktake"):
    class Status:
        COUNTING = "counting"
        SUBMITTED = "submitted"
        APPROVED = "approved"
        REJECTED = "rejected"
        CANCELLED = "cancelled"

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    location_id = Integer()
    status = Varchar(length=20, default="counting")
    created_by = Integer(null=True, default=None)
    created_by_name = Varchar(length=60, default="")
    decided_by = Integer(null=True, default=None)
    decided_by_name = Varchar(length=60, default="")
    decided_at = Timestamptz(null=True, default=None)
    reason = Text(default="")
    version = Integer(default=1)
    blind = Boolean(default=False)  # #12.1: the counter does not see the book quantities
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class StocktakeLine(Table, tablename="stocktake_line"):
    id = Serial(primary_key=True)
    stocktake_id = Integer()
    part_id = Integer()
    expected_qty = Integer()
    counted_qty = Integer(null=True, default=None)


class StocktakeUnit(Table, tablename="stocktake_unit"):
    """#12.1: a serialised unit the sheet expected at the location (snapshot) or a scan found there."""

    id = Serial(primary_key=True)
    stocktake_id = Integer()
    part_id = Integer()
    serial_unit_id = Integer(null=True, default=None)
    serial = Varchar(length=100)
    expected = Boolean(default=False)
    present = Boolean(default=False)


class StockReservation(Table, tablename="stock_reservation"):
    """R-TKT-04: parts held at a location for a document (a ticket's number) until used or released."""

    id = Serial(primary_key=True)
    part_id = Integer()
    location_id = Integer()
    qty = Integer()  # still held
    reserved_qty = Integer()  # as first reserved
    document_type = Varchar(length=40)
    document_id = Varchar(length=60)
    status = Varchar(length=10, default="open")
    created_by = Integer(null=True, default=None)
    created_at = Timestamptz(default=TimestamptzNow())
    closed_at = Timestamptz(null=True, default=None)


ALL_TABLES = [Part, PartSubstitute, StockLocation, StockLevel, SerialUnit, StockMove, PartsFormToken,
              PurchaseRequest, PurchaseRequestLine, EmergencyRequest, EmergencyRequestLine, Stocktake, StocktakeLine,
              StocktakeUnit, StockReservation]

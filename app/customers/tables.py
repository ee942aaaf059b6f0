"""Piccolo tables mirroring migrations/shouhou_2026_11_26t02_05_00_000000_customers.py (reads/typing only)."""

from decimal import Decimal
from enum import Enum

from piccolo.columns import BigInt, Boolean, Date, ForeignKey, Integer, Numeric, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class ServiceOffice(Table, tablename="service_office"):
    id = Serial(primary_key=True)
    code = Varchar(length=20, unique=True)
    name = Varchar(length=100)
    city = Varchar(length=60, default="")
    address = Varchar(length=300, default="")
    phone = Varchar(length=40, default="")
    is_active = Boolean(default=True)


class Customer(Table, tablename="customer"):
    """R-CUS-01: the customer archive."""

    class Class(str, Enum):
        key = "key"  # 大客户, monthly-settled
        retail = "retail"  # 零散

    id = Serial(primary_key=True)
    name = Varchar(length=200)
    customer_class = Varchar(length=10, default="retail", choices=Class)
    office_id = ForeignKey(references=ServiceOffice, null=False)
    address = Varchar(length=300, default="")
    area = Varchar(length=10, default="city")  # city / suburb: picks the on-site SLA (R-TKT-05)
    distance_km = Numeric(digits=(8, 1), default=Decimal("0"))
    phone = Varchar(length=40, default="")
    notes = Text(default="")
    search_text = Text(default="")
    device_count = Integer(default=0)
    is_active = Boolean(default=True)
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class CustomerContact(Table, tablename="customer_contact"):
    id = Serial(primary_key=True)
    customer_id = ForeignKey(references=Customer, null=False)
    name = Varchar(length=100)
    phone = Varchar(length=40, default="")
    role = Varchar(length=100, default="")
    sort = Integer(default=0)


class Contract(Table, tablename="contract"):
    """R-CUS-02: contract with SLA and billing policy fields other domains read."""

    class Type(str, Enum):
        warranty = "warranty"  # 保内
        annual = "annual"  # 按年合同
        per_visit = "per_visit"  # 按次合同
        liaison = "liaison"  # 联络函服务

    class Stage(str, Enum):
        Q = "Q"  # sign
        Y = "Y"  # accept & archive
        B = "B"  # warranty service
        S = "S"  # follow-up / renew

    id = Serial(primary_key=True)
    number = Varchar(length=40, unique=True)
    customer_id = ForeignKey(references=Customer, null=False)
    contract_type = Varchar(length=12, choices=Type)
    title = Varchar(length=200, default="")
    start_date = Date()
    end_date = Date()
    status = Varchar(length=12, default="active")  # active / terminated
    stage = Varchar(length=1, default="Q", choices=Stage)
    response_hours = Integer(default=1)
    onsite_hours_city = Integer(default=2)
    onsite_hours_suburb = Integer(default=12)
    warranty_months = Integer(default=36)
    tariff_policy = Varchar(length=30, default="standard")
    amount_fen = BigInt(default=0)
    notes = Text(default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class ContractStageChange(Table, tablename="contract_stage_change"):
    id = Serial(primary_key=True)
    contract_id = ForeignKey(references=Contract, null=False)
    from_stage = Varchar(length=1, default="")
    to_stage = Varchar(length=1)
    note = Varchar(length=500, default="")
    user_id = Integer(null=True, default=None)
    username = Varchar(length=60, default="")
    changed_at = Timestamptz(default=TimestamptzNow())


class Device(Table, tablename="device"):
    """R-CUS-04: an installed device; warranty_end is computed by services.compute_warranty."""

    id = Serial(primary_key=True)
    serial = Varchar(length=80, unique=True)
    brand = Varchar(length=60, default="")
    product_name = Varchar(length=200, default="")
    model = Varchar(length=100, default="")
    system = Varchar(length=20, default="other")
    kind = Varchar(length=30, default="")
    capacity = Integer(null=True, default=None)
    customer_id = ForeignKey(references=Customer, null=False)
    contract_id = ForeignKey(references=Contract, null=True)
    site = Varchar(length=200, default="")
    install_date = Date(null=True, default=None)
    acceptance_date = Date(null=True, default=None)
    warranty_months = Integer(null=True, default=None)
    warranty_end = Date(null=True, default=None)
    extension_events = Integer(default=0)
    replacement_proposed = Boolean(default=False)
    notes = Text(default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class DeviceEvent(Table, tablename="device_event"):
    """Append-only failure / repair history of a device (R-CUS-05, R-CUS-06)."""

    id = Serial(primary_key=True)
    device_id = ForeignKey(references=Device, null=False)
    event_type = Varchar(length=12)
    fault_code = Varchar(length=60, default="")
    unresolvable = Boolean(default=False)
    occurred_on = Date()
    description = Varchar(length=1000, default="")
    source_type = Varchar(length=30, default="")
    source_id = Varchar(length=60, default="")
    user_id = Integer(null=True, default=None)
    username = Varchar(length=60, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class RenewalNotice(Table, tablename="renewal_notice"):
    id = Serial(primary_key=True)
    subject_type = Varchar(length=10)
    subject_id = Integer()
    customer_id = ForeignKey(references=Customer, null=False)
    end_date = Date()
    sent_on = Date()
    method = Varchar(length=20)
    note = Varchar(length=500, default="")
    user_id = Integer(null=True, default=None)
    username = Varchar(length=60, default="")
    created_at = Timestamptz(default=TimestamptzNow())


class PriceItem(Table, tablename="price_item"):
    id = Serial(primary_key=True)
    code = Varchar(length=30, unique=True)
    system = Varchar(length=20)
    name_en = Varchar(length=100)
    name_zh = Varchar(length=100)
    unit_en = Varchar(length=20, default="")
    unit_zh = Varchar(length=20, default="")
    basis = Varchar(length=10, default="qty")
    sort = Integer(default=0)


class PriceTier(Table, tablename="price_tier"):
    id = Serial(primary_key=True)
    item_id = ForeignKey(references=PriceItem, null=False)
    min_value = Integer(default=0)
    price_fen = BigInt()
    note = Varchar(length=300, default="")
    version = Integer(default=1)
    updated_at = Timestamptz(default=TimestamptzNow())


class CustomerDocument(Table, tablename="customer_document"):
    id = Serial(primary_key=True)
    customer_id = ForeignKey(references=Customer, null=False)
    contract_id = ForeignKey(references=Contract, null=True)
    kind = Varchar(length=20, default="other")
    title = Varchar(length=200, default="")
    original_name = Varchar(length=255)
    stored_name = Varchar(length=80, unique=True)
    content_type = Varchar(length=100)
    size_bytes = Integer()
    sha256 = Varchar(length=64)
    is_deleted = Boolean(default=False)
    user_id = Integer(null=True, default=None)
    username = Varchar(length=60, default="")
    created_at = Timestamptz(default=TimestamptzNow())


TABLES = [ServiceOffice, Customer, CustomerContact, Contract, ContractStageChange, Device, DeviceEvent,
          RenewalNotice, PriceItem, PriceTier, CustomerDocument]

"""Customers, contracts, installed devices, warranty, renewals (R-CUS-01…08).

Service API for other domains (all async; reads need no transaction; writes join the
caller's write transaction when there is one, else open their own):

* `lookup_device(serial)` → device dict (with customer name) or None.
* `warranty_status(device_id=…, serial=…, on=date)` → WarrantyStatus or None.
* `record_failure(actor, device_id, fault_code, unresolvable, source_type, source_id)`
  → FailureResult (R-CUS-05 extension, R-CUS-06 replacement proposal).
* `record_repair(actor, device_id, fault_code, source_type, source_id)`.
* `customer_entitlement(customer_id, on=date)` → Entitlement (R-TKT-02: which contract
  decides billing, with its SLA and tariff policy).
* `get_customer(customer_id)`, `search_customers(q)` for pickers.
"""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.audit.services import Actor, record
from app.core.dates import as_date, parse_date, today  # noqa: F401 (re-exported for this domain)
from app.core.db import atomic, fetch, is_sqlite, is_unique_violation, utcnow
from app.core.errors import DomainError, Stale, fix, not_found
from app.core.i18n import _, lazy_gettext as _l
from app.core.money import MoneyError, from_fen, parse_money, to_fen
from app.core.numbers import attach_entity, next_number
from app.core.settings import setting
from app.core.status import move, update_versioned
from app.customers import warranty as engine
from app.customers.status import CONTRACT_STATUS_LABELS, STAGE_LABELS, TRANSITIONS
from app.customers.warranty import Event, Warranty, compute_warranty

CLASSES = {"key": _l("Key account (monthly-settled)"), "retail": _l("Retail")}
AREAS = {"city": _l("City"), "suburb": _l("Suburb")}
CONTRACT_TYPES = {
    "warranty": _l("In warranty"),
    "annual": _l("Annual maintenance"),
    "per_visit": _l("Per-visit"),
    "liaison": _l("Liaison letter"),
}
# Which contract decides billing first when a customer holds several (R-TKT-02).
ENTITLEMENT_ORDER = ("warranty", "annual", "per_visit", "liaison")
STAGES = STAGE_LABELS
CONTRACT_STATUSES = CONTRACT_STATUS_LABELS
CONTRACT_STATES = {"pending": _l("Not started"), "active": _l("Active"), "expired": _l("Expired"),
                   "terminated": _l("Terminated")}
# Billing policies the ticket and ledger domains apply (R-TKT-11, R-TKT-12, 003 #11).
TARIFF_POLICIES = {
    "standard": _l("Standard tariff (visit fee by distance, parts and repairs per price formulas)"),
    "warranty_free": _l("In warranty: labour and parts free"),
    "key_account": _l("Key account: labour free, parts charged"),
    "out_of_warranty": _l("Out of warranty: labour free, parts at cost"),
    "retail": _l("Retail: visit and install fees added"),
    "annual_included": _l("Annual contract: visits included, parts charged"),
}
SYSTEMS = {
    "cctv": _l("CCTV"), "intrusion": _l("Intrusion alarm"), "network": _l("Network"), "telephone": _l("Telephone"),
    "broadcast": _l("Broadcast"), "onecard": _l("One-card / access"), "other": _l("Other"),
}
EVENT_TYPES = {"failure": _l("Failure"), "repair": _l("Repair"), "replacement": _l("Replacement"), "note": _l("Note")}
NOTICE_METHODS = {"letter": _l("Letter"), "fax": _l("Fax"), "email": _l("E-mail"), "phone": _l("Phone"),
                  "visit": _l("Visit")}
SERIAL_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-_./#:]{0,79}$")
MAX_CONTACTS = 10


# Callers not yet on the kit (rma, loaners) still write `except customers.CustomerError`: the same class.
CustomerError = DomainError


async def _edit(table: str, row_id: int, version: int | None, sets: dict[str, Any], stale: str) -> dict:
    """A versioned edit (core `update_versioned`), keeping this domain's own 409 message."""
    try:
        return await update_versioned(table, row_id, version, sets)
    except Stale as exc:
        raise Stale(exc.current, stale) from exc


def normalize_serial(serial: Any) -> str:
    return re.sub(r"\s+", "", str(serial or "")).upper()


# --------------------------------------------------------------------------- offices

async def list_offices(active_only: bool = True) -> list[dict]:
    sql = "SELECT * FROM service_office"
    if active_only:
        sql += " WHERE is_active = true"
    return await fetch(sql + " ORDER BY code")


@dataclass
class OfficeInput:
    code: str = ""
    name: str = ""
    city: str = ""
    address: str = ""
    phone: str = ""
    is_active: bool = True

    def clean(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        self.code = self.code.strip().upper()
        for name in ("name", "city", "address", "phone"):
            setattr(self, name, str(getattr(self, name) or "").strip())
        if not re.match(r"^[A-Z0-9_-]{1,20}$", self.code):
            errors["code"] = _("Letters, digits, - and _ only (at most 20).")
        if not self.name:
            errors["name"] = _("Enter the office's name.")
        for name, limit in (("name", 100), ("city", 60), ("address", 300), ("phone", 40)):
            if len(getattr(self, name)) > limit:
                errors[name] = _("At most %(n)s characters.", n=limit)
        return errors


async def save_office(actor: Actor, data: OfficeInput, office_id: int | None = None) -> int:
    """Create or update a service office (R-CUS-01 region). Side effects: service_office row;
    audit `office.created` / `office.updated`. The code is unique."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    after = {"code": data.code, "name": data.name, "city": data.city, "address": data.address, "phone": data.phone,
             "is_active": data.is_active}
    async with atomic():
        clash = await fetch("SELECT id FROM service_office WHERE code = {}", data.code)
        if clash and clash[0]["id"] != office_id:
            raise fix(code=_("This code is taken."))
        if office_id is None:
            rows = await fetch("INSERT INTO service_office (code, name, city, address, phone, is_active) "
                               "VALUES ({}, {}, {}, {}, {}, {}) RETURNING id", data.code, data.name, data.city,
                               data.address, data.phone, data.is_active)
            office_id = rows[0]["id"]
            await record(actor, "office.created", "service_office", office_id, after=after)
        else:
            before = await fetch("SELECT code, name, city, address, phone, is_active FROM service_office WHERE id = {}", office_id)
            if not before:
                raise not_found(_("No such office."))
            await fetch("UPDATE service_office SET code = {}, name = {}, city = {}, address = {}, phone = {}, is_active = {} "
                        "WHERE id = {}", data.code, data.name, data.city, data.address, data.phone, data.is_active, office_id)
            await record(actor, "office.updated", "service_office", office_id, before=before[0], after=after)
    return office_id


# --------------------------------------------------------------------------- customers

@dataclass
class ContactInput:
    name: str = ""
    phone: str = ""
    role: str = ""


@dataclass
class CustomerInput:
    name: str = ""
    customer_class: str = "retail"
    office_id: str = ""
    address: str = ""
    area: str = "city"
    distance_km: str = "0"
    phone: str = ""
    notes: str = ""
    contacts: list[ContactInput] = field(default_factory=list)

    def clean(self) -> dict[str, str]:
        """Normalise in place; return {field: message} for what is wrong (R-CUS-01)."""
        errors: dict[str, str] = {}
        self.name = self.name.strip()
        self.address = self.address.strip()
        self.phone = self.phone.strip()
        if not self.name:
            errors["name"] = _("Enter the customer's name.")
        elif len(self.name) > 200:
            errors["name"] = _("At most %(n)s characters.", n=200)
        if self.customer_class not in CLASSES:
            errors["customer_class"] = _("Choose a customer class.")
        if self.area not in AREAS:
            errors["area"] = _("Choose city or suburb.")
        try:
            int(str(self.office_id))
        except ValueError:
            errors["office_id"] = _("Choose the service office.")
        try:
            distance = Decimal(str(self.distance_km or "0").strip().replace("km", "").strip() or "0")
            if not distance.is_finite() or distance < 0:
                errors["distance_km"] = _("The distance cannot be negative.")
            elif distance > Decimal("10000"):
                errors["distance_km"] = _("At most %(n)s km.", n=10000)
            else:
                self.distance_km = str(distance.quantize(Decimal("0.1")))
        except InvalidOperation:
            errors["distance_km"] = _("Enter the distance in km, e.g. 12.5.")
        if len(self.address) > 300:
            errors["address"] = _("At most %(n)s characters.", n=300)
        if len(self.phone) > 40:
            errors["phone"] = _("At most %(n)s characters.", n=40)
        contacts = []
        for contact in self.contacts:
            contact.name, contact.phone, contact.role = contact.name.strip(), contact.phone.strip(), contact.role.strip()
            if not (contact.name or contact.phone or contact.role):
                continue
            if not contact.name:
                errors["contacts"] = _("Every contact needs a name.")
            if len(contact.name) > 100 or len(contact.phone) > 40 or len(contact.role) > 100:
                errors["contacts"] = _("A contact field is too long.")
            contacts.append(contact)
        if len(contacts) > MAX_CONTACTS:
            errors["contacts"] = _("At most %(n)s contacts.", n=MAX_CONTACTS)
        self.contacts = contacts
        return errors


def _search_text(data: CustomerInput) -> str:
    parts = [data.name, data.phone, data.address] + [f"{c.name} {c.phone} {c.role}" for c in data.contacts]
    return " ".join(p for p in parts if p).lower()


def _customer_public(data: CustomerInput) -> dict:
    return {"name": data.name, "customer_class": data.customer_class, "office_id": int(data.office_id),
            "address": data.address, "area": data.area, "distance_km": data.distance_km, "phone": data.phone,
            "notes": data.notes, "contacts": [c.__dict__ for c in data.contacts]}


async def _check_office(office_id: str) -> None:
    if not await fetch("SELECT id FROM service_office WHERE id = {}", int(office_id)):
        raise fix(office_id=_("Choose the service office."))


async def _write_contacts(customer_id: int, contacts: list[ContactInput]) -> None:
    await fetch("DELETE FROM customer_contact WHERE customer_id = {}", customer_id)
    for sort, contact in enumerate(contacts):
        await fetch("INSERT INTO customer_contact (customer_id, name, phone, role, sort) VALUES ({}, {}, {}, {}, {})",
                    customer_id, contact.name, contact.phone, contact.role, sort)


async def create_customer(actor: Actor, data: CustomerInput) -> int:
    """R-CUS-01. Side effects: customer + contacts rows; audit `customer.created`."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    async with atomic():
        await _check_office(data.office_id)
        now = utcnow()
        rows = await fetch(
            "INSERT INTO customer (name, customer_class, office_id, address, area, distance_km, phone, notes, search_text, "
            "device_count, is_active, version, created_at, updated_at) "
            "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, 0, true, 1, {}, {}) RETURNING id",
            data.name, data.customer_class, int(data.office_id), data.address, data.area, Decimal(data.distance_km),
            data.phone, data.notes, _search_text(data), now, now,
        )
        customer_id = rows[0]["id"]
        await _write_contacts(customer_id, data.contacts)
        await record(actor, "customer.created", "customer", customer_id, after=_customer_public(data))
    return customer_id


async def update_customer(actor: Actor, customer_id: int, data: CustomerInput, *, version: int | None = None) -> None:
    """Side effects: customer row (compare-and-set on version), contacts replaced; audit `customer.updated`."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    async with atomic():
        before = await get_customer(customer_id)
        if before is None:
            raise not_found(_("No such customer."))
        await _check_office(data.office_id)
        await _edit("customer", customer_id, version, {
            "name": data.name, "customer_class": data.customer_class, "office_id": int(data.office_id),
            "address": data.address, "area": data.area, "distance_km": Decimal(data.distance_km), "phone": data.phone,
            "notes": data.notes, "search_text": _search_text(data)},
            _("Someone else changed this customer meanwhile; reload and try again."))
        await _write_contacts(customer_id, data.contacts)
        old = {k: before[k] for k in ("name", "customer_class", "office_id", "address", "area", "phone", "notes")}
        old["distance_km"] = str(before["distance_km"])
        old["contacts"] = [{"name": c["name"], "phone": c["phone"], "role": c["role"]} for c in before["contacts"]]
        await record(actor, "customer.updated", "customer", customer_id, before=old, after=_customer_public(data))


async def get_customer(customer_id: int) -> dict | None:
    rows = await fetch(
        "SELECT c.*, o.name AS office_name, o.code AS office_code, o.phone AS office_phone, o.address AS office_address "
        "FROM customer c JOIN service_office o ON o.id = c.office_id WHERE c.id = {}", customer_id)
    if not rows:
        return None
    row = rows[0]
    row["distance_km"] = Decimal(str(row["distance_km"])).quantize(Decimal("0.1"))
    row["contacts"] = await fetch("SELECT * FROM customer_contact WHERE customer_id = {} ORDER BY sort, id", customer_id)
    return row


@dataclass
class CustomerFilter:
    q: str = ""
    office_id: int | None = None
    customer_class: str = ""
    contract_type: str = ""


def _like_escape(text: str) -> str:
    return text.replace("%", "").replace("_", "").replace("\\", "")


def _customer_where(flt: CustomerFilter, on: dt.date) -> tuple[list[str], list[Any]]:
    where, args = [], []
    q = flt.q.strip()
    if q:
        needle = _like_escape(q.lower())
        serial = normalize_serial(_like_escape(q))
        clause = "c.search_text LIKE {}"
        args.append(f"%{needle}%")
        raw_serial = normalize_serial(q)
        if len(raw_serial) >= 3 and SERIAL_RE.match(raw_serial):
            # Device serials: prefix search on the indexed serial column. SQLite's LIKE (and, in this
            # build, GLOB) scans the table; a byte range [prefix, prefix + U+10FFFF) is the same set
            # under BINARY collation and searches the unique index. PostgreSQL's LIKE 'X%' uses the
            # text_pattern_ops index.
            if is_sqlite():
                clause += " OR c.id IN (SELECT d.customer_id FROM device d WHERE d.serial >= {} AND d.serial < {})"
                args += [raw_serial, raw_serial + chr(0x10FFFF)]
            else:
                clause += " OR c.id IN (SELECT d.customer_id FROM device d WHERE d.serial LIKE {})"
                args.append(serial + "%")
        where.append(f"({clause})")
    if flt.office_id:
        where.append("c.office_id = {}")
        args.append(flt.office_id)
    if flt.customer_class in CLASSES:
        where.append("c.customer_class = {}")
        args.append(flt.customer_class)
    if flt.contract_type in CONTRACT_TYPES:
        where.append("EXISTS (SELECT 1 FROM contract k WHERE k.customer_id = c.id AND k.contract_type = {} "
                     "AND k.status = 'active' AND k.start_date <= {} AND k.end_date >= {})")
        args += [flt.contract_type, on, on]
    elif flt.contract_type == "none":
        where.append("NOT EXISTS (SELECT 1 FROM contract k WHERE k.customer_id = c.id "
                     "AND k.status = 'active' AND k.start_date <= {} AND k.end_date >= {})")
        args += [on, on]
    return where, args


async def list_customers(flt: CustomerFilter, *, after: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    """Ordered by name (keyset on (name, id); `after` is the last id shown). No COUNT(*)."""
    on = today()
    where, args = _customer_where(flt, on)
    if after:
        cursor = await fetch("SELECT name, id FROM customer WHERE id = {}", after)
        if cursor:
            where.append("(c.name > {} OR (c.name = {} AND c.id > {}))")
            args += [cursor[0]["name"], cursor[0]["name"], after]
    sql = ("SELECT c.id, c.name, c.customer_class, c.phone, c.address, c.area, c.distance_km, c.device_count, "
           "o.name AS office_name, "
           "(SELECT cc.name FROM customer_contact cc WHERE cc.customer_id = c.id ORDER BY cc.sort, cc.id LIMIT 1) AS contact_name, "
           "(SELECT cc.phone FROM customer_contact cc WHERE cc.customer_id = c.id ORDER BY cc.sort, cc.id LIMIT 1) AS contact_phone "
           "FROM customer c JOIN service_office o ON o.id = c.office_id")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY c.name, c.id LIMIT {int(limit) + 1}"
    rows = await fetch(sql, *args)
    page = rows[:limit]
    if page:
        ids = [r["id"] for r in page]
        marks = ", ".join("{}" for _ in ids)
        contracts = await fetch(
            f"SELECT customer_id, contract_type FROM contract WHERE customer_id IN ({marks}) AND status = 'active' "
            "AND start_date <= {} AND end_date >= {}", *ids, on, on)
        by_customer: dict[int, set[str]] = {}
        for c in contracts:
            by_customer.setdefault(c["customer_id"], set()).add(c["contract_type"])
        for r in page:
            types = by_customer.get(r["id"], set())
            r["contract_types"] = [t for t in ENTITLEMENT_ORDER if t in types]
    cursor_id = rows[limit - 1]["id"] if len(rows) > limit else None
    return page, cursor_id


async def search_customers(q: str, limit: int = 10) -> list[dict]:
    """For pickers in other domains: name / phone / contact / device serial."""
    rows, _cursor = await list_customers(CustomerFilter(q=q), limit=limit)
    return rows


# --------------------------------------------------------------------------- contracts

@dataclass
class ContractInput:
    contract_type: str = "annual"
    title: str = ""
    start_date: str = ""
    end_date: str = ""
    status: str = "active"
    stage: str = "Q"
    response_hours: str = "1"
    onsite_hours_city: str = "2"
    onsite_hours_suburb: str = "12"
    warranty_months: str = "36"
    tariff_policy: str = "standard"
    amount: str = "0"
    notes: str = ""
    # parsed
    start: dt.date | None = None
    end: dt.date | None = None
    ints: dict[str, int] = field(default_factory=dict)
    amount_fen: int = 0

    def clean(self) -> dict[str, str]:
        """R-CUS-02: type, dates (end ≥ start), SLA hours (R-TKT-05 defaults), warranty months, tariff policy."""
        errors: dict[str, str] = {}
        self.title = self.title.strip()
        if self.contract_type not in CONTRACT_TYPES:
            errors["contract_type"] = _("Choose the contract type.")
        if self.status not in CONTRACT_STATUSES:
            errors["status"] = _("Choose a status.")
        if self.stage not in STAGES:
            errors["stage"] = _("Choose a stage.")
        if self.tariff_policy not in TARIFF_POLICIES:
            errors["tariff_policy"] = _("Choose a billing policy.")
        if len(self.title) > 200:
            errors["title"] = _("At most %(n)s characters.", n=200)
        for name in ("start_date", "end_date"):
            try:
                value = parse_date(getattr(self, name))
                if value is None:
                    errors[name] = _("Enter a date (YYYY-MM-DD).")
                setattr(self, "start" if name == "start_date" else "end", value)
            except ValueError:
                errors[name] = _("Enter a date (YYYY-MM-DD).")
        if self.start and self.end and self.end < self.start:
            errors["end_date"] = _("The end date cannot be before the start date.")
        limits = {"response_hours": (1, 720), "onsite_hours_city": (1, 720), "onsite_hours_suburb": (1, 720),
                  "warranty_months": (0, 240)}
        for name, (low, high) in limits.items():
            try:
                value = int(str(getattr(self, name)).strip())
                if not low <= value <= high:
                    raise ValueError
                self.ints[name] = value
            except ValueError:
                errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=low, high=high)
        try:
            amount = parse_money(self.amount or "0")
            if amount < 0:
                errors["amount"] = _("The amount cannot be negative.")
            self.amount_fen = to_fen(amount)
        except MoneyError:
            errors["amount"] = _("Enter an amount, e.g. 1200.00.")
        return errors

    def public(self) -> dict:
        return {"contract_type": self.contract_type, "title": self.title, "start_date": self.start, "end_date": self.end,
                "status": self.status, "tariff_policy": self.tariff_policy, "amount_fen": self.amount_fen,
                "notes": self.notes, **self.ints}


def contract_state(row: dict, on: dt.date | None = None) -> str:
    """pending / active / expired / terminated (derived from status and dates)."""
    on = on or today()
    if row["status"] == "terminated":
        return "terminated"
    if as_date(row["start_date"]) > on:
        return "pending"
    if as_date(row["end_date"]) < on:
        return "expired"
    return "active"


async def create_contract(actor: Actor, customer_id: int, data: ContractInput) -> int:
    """Side effects: contract row with a gapless number (series `contract`), the first stage-history
    row, audit `contract.created`."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    async with atomic():
        if not await fetch("SELECT id FROM customer WHERE id = {}", customer_id):
            raise not_found(_("No such customer."))
        number = await next_number("contract", entity_type="contract", today=today())
        now = utcnow()
        rows = await fetch(
            "INSERT INTO contract (number, customer_id, contract_type, title, start_date, end_date, status, stage, "
            "response_hours, onsite_hours_city, onsite_hours_suburb, warranty_months, tariff_policy, amount_fen, notes, "
            "version, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 1, {}, {}) "
            "RETURNING id",
            number.formatted, customer_id, data.contract_type, data.title, data.start, data.end, data.status, data.stage,
            data.ints["response_hours"], data.ints["onsite_hours_city"], data.ints["onsite_hours_suburb"],
            data.ints["warranty_months"], data.tariff_policy, data.amount_fen, data.notes, now, now,
        )
        contract_id = rows[0]["id"]
        await attach_entity("contract", number.formatted, contract_id)
        await fetch("INSERT INTO contract_stage_change (contract_id, from_stage, to_stage, note, user_id, username, changed_at) "
                    "VALUES ({}, '', {}, {}, {}, {}, {})", contract_id, data.stage, "", actor.user_id, actor.username, now)
        await record(actor, "contract.created", "contract", contract_id,
                     after={"number": number.formatted, "customer_id": customer_id, "stage": data.stage, **data.public()})
    return contract_id


async def update_contract(actor: Actor, contract_id: int, data: ContractInput, *, version: int | None = None) -> None:
    """Side effects: contract row (compare-and-set); warranty of its devices recomputed when the
    term changed; audit `contract.updated`."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    async with atomic():
        before = await get_contract(contract_id)
        if before is None:
            raise not_found(_("No such contract."))
        await _edit("contract", contract_id, version, {
            "contract_type": data.contract_type, "title": data.title, "start_date": data.start, "end_date": data.end,
            "status": data.status, **data.ints, "tariff_policy": data.tariff_policy, "amount_fen": data.amount_fen,
            "notes": data.notes},
            _("Someone else changed this contract meanwhile; reload and try again."))
        if before["warranty_months"] != data.ints["warranty_months"]:
            for device in await fetch("SELECT id FROM device WHERE contract_id = {} AND warranty_months IS NULL", contract_id):
                await _recompute_device(device["id"])
        keys = ("contract_type", "title", "start_date", "end_date", "status", "response_hours", "onsite_hours_city",
                "onsite_hours_suburb", "warranty_months", "tariff_policy", "amount_fen", "notes")
        await record(actor, "contract.updated", "contract", contract_id,
                     before={k: before[k] for k in keys}, after=data.public())


async def change_stage(actor: Actor, contract_id: int, to_stage: str, *, note: str = "", version: int | None = None) -> None:
    """R-CUS-02 QYBS stage: compare-and-set on (id, stage, version); the change is kept in
    contract_stage_change (append-only). A stale second click gets 409."""
    if to_stage not in STAGES:
        raise fix(stage=_("Choose a stage."))
    note = note.strip()[:500]
    async with atomic():
        row = await get_contract(contract_id)
        if row is None:
            raise not_found(_("No such contract."))
        if row["stage"] == to_stage:
            raise DomainError(_("The contract is already in this stage."), field="stage", status=409)
        try:
            await move("contract", contract_id, version, TRANSITIONS[f"stage_{to_stage}"], actor=actor, column="stage",
                       note=note, labels=STAGES)
        except Stale as exc:
            raise Stale(exc.current, _("Someone else changed this contract meanwhile; reload and try again.")) from exc
        await fetch("INSERT INTO contract_stage_change (contract_id, from_stage, to_stage, note, user_id, username, changed_at) "
                    "VALUES ({}, {}, {}, {}, {}, {}, {})", contract_id, row["stage"], to_stage, note, actor.user_id,
                    actor.username, utcnow())
        await record(actor, "contract.stage_changed", "contract", contract_id,
                     before={"stage": row["stage"]}, after={"stage": to_stage, "note": note})


async def get_contract(contract_id: int) -> dict | None:
    rows = await fetch("SELECT k.*, c.name AS customer_name FROM contract k JOIN customer c ON c.id = k.customer_id "
                       "WHERE k.id = {}", contract_id)
    if not rows:
        return None
    row = rows[0]
    row["state"] = contract_state(row)
    row["amount"] = from_fen(row["amount_fen"])
    return row


async def contract_history(contract_id: int) -> list[dict]:
    return await fetch("SELECT * FROM contract_stage_change WHERE contract_id = {} ORDER BY id", contract_id)


async def customer_contracts(customer_id: int) -> list[dict]:
    rows = await fetch("SELECT * FROM contract WHERE customer_id = {} ORDER BY end_date DESC, id DESC", customer_id)
    on = today()
    for row in rows:
        row["state"] = contract_state(row, on)
        row["amount"] = from_fen(row["amount_fen"])
    return rows


@dataclass(frozen=True)
class Entitlement:
    """R-TKT-02: the customer's contract status at intake; decides billing."""

    customer_id: int
    status: str  # warranty / annual / per_visit / liaison / none
    contract_id: int | None = None
    contract_number: str = ""
    end_date: dt.date | None = None
    response_hours: int | None = None
    onsite_hours_city: int | None = None
    onsite_hours_suburb: int | None = None
    onsite_hours: int | None = None  # for this customer's area
    warranty_months: int | None = None
    tariff_policy: str = "standard"
    customer_class: str = "retail"
    area: str = "city"
    distance_km: Decimal = Decimal("0")
    contracts: tuple[dict, ...] = ()

    @property
    def label(self) -> str:
        return str(CONTRACT_TYPES.get(self.status, _("No contract")))


async def customer_entitlement(customer_id: int, on: dt.date | None = None) -> Entitlement | None:
    """The active contract that decides billing (order: in warranty, annual, per-visit,
    liaison letter), with its SLA and tariff policy; status 'none' without one.
    None when the customer does not exist."""
    on = on or today()
    customer = await fetch("SELECT id, customer_class, area, distance_km FROM customer WHERE id = {}", customer_id)
    if not customer:
        return None
    c = customer[0]
    rows = await fetch(
        "SELECT * FROM contract WHERE customer_id = {} AND status = 'active' AND start_date <= {} AND end_date >= {} "
        "ORDER BY end_date DESC, id", customer_id, on, on)
    base = dict(customer_id=customer_id, customer_class=c["customer_class"], area=c["area"],
                distance_km=Decimal(str(c["distance_km"])).quantize(Decimal("0.1")))
    if not rows:
        return Entitlement(status="none", **base)
    rows.sort(key=lambda r: ENTITLEMENT_ORDER.index(r["contract_type"]))
    best = rows[0]
    onsite = best["onsite_hours_suburb"] if c["area"] == "suburb" else best["onsite_hours_city"]
    return Entitlement(status=best["contract_type"], contract_id=best["id"], contract_number=best["number"],
                       end_date=as_date(best["end_date"]), response_hours=best["response_hours"],
                       onsite_hours_city=best["onsite_hours_city"], onsite_hours_suburb=best["onsite_hours_suburb"],
                       onsite_hours=onsite, warranty_months=best["warranty_months"], tariff_policy=best["tariff_policy"],
                       contracts=tuple(rows), **base)


# --------------------------------------------------------------------------- devices

@dataclass
class DeviceInput:
    serial: str = ""
    brand: str = ""
    product_name: str = ""
    model: str = ""
    system: str = "other"
    kind: str = ""
    capacity: str = ""
    customer_id: str = ""
    contract_id: str = ""
    site: str = ""
    install_date: str = ""
    acceptance_date: str = ""
    warranty_months: str = ""
    notes: str = ""
    # parsed
    values: dict[str, Any] = field(default_factory=dict)

    def clean(self) -> dict[str, str]:
        """R-CUS-04: serial (unique, upper-case), model, customer, site, install and acceptance dates."""
        errors: dict[str, str] = {}
        self.serial = normalize_serial(self.serial)
        for name in ("brand", "product_name", "model", "site", "kind"):
            setattr(self, name, str(getattr(self, name) or "").strip())
        if not self.serial:
            errors["serial"] = _("Enter the serial number.")
        elif not SERIAL_RE.match(self.serial):
            errors["serial"] = _("Letters, digits and - _ . / # : only (at most 80).")
        if not self.model and not self.product_name:
            errors["model"] = _("Enter the model or the product name.")
        for name, limit in (("brand", 60), ("product_name", 200), ("model", 100), ("site", 200), ("kind", 30)):
            if len(getattr(self, name)) > limit:
                errors[name] = _("At most %(n)s characters.", n=limit)
        if self.system not in SYSTEMS:
            errors["system"] = _("Choose the system.")
        try:
            self.values["customer_id"] = int(str(self.customer_id))
        except ValueError:
            errors["customer_id"] = _("Choose the customer.")
        try:
            self.values["contract_id"] = int(self.contract_id) if str(self.contract_id or "").strip() else None
        except ValueError:
            errors["contract_id"] = _("Choose a contract of this customer.")
        for name in ("install_date", "acceptance_date"):
            try:
                self.values[name] = parse_date(str(getattr(self, name) or "").strip().split(" ")[0])  # a cell may carry a time
            except ValueError:
                errors[name] = _("Enter a date (YYYY-MM-DD).")
        inst, acc = self.values.get("install_date"), self.values.get("acceptance_date")
        if inst and acc and acc < inst:
            errors["acceptance_date"] = _("Acceptance cannot be before installation.")
        for name, high in (("warranty_months", 240), ("capacity", 100000)):
            raw = str(getattr(self, name) or "").strip()
            if not raw:
                self.values[name] = None
                continue
            try:
                value = int(raw)
                if not 0 <= value <= high:
                    raise ValueError
                self.values[name] = value
            except ValueError:
                errors[name] = _("Enter a whole number from %(low)s to %(high)s.", low=0, high=high)
        return errors

    def public(self) -> dict:
        return {"serial": self.serial, "brand": self.brand, "product_name": self.product_name, "model": self.model,
                "system": self.system, "kind": self.kind, "site": self.site, "notes": self.notes, **self.values}


async def _check_device_refs(data: DeviceInput, device_id: int | None = None) -> None:
    customer_id = data.values["customer_id"]
    if not await fetch("SELECT id FROM customer WHERE id = {}", customer_id):
        raise fix(customer_id=_("Choose the customer."))
    contract_id = data.values.get("contract_id")
    if contract_id and not await fetch("SELECT id FROM contract WHERE id = {} AND customer_id = {}", contract_id, customer_id):
        raise fix(contract_id=_("Choose a contract of this customer."))
    clash = await fetch("SELECT id FROM device WHERE serial = {}", data.serial)
    if clash and clash[0]["id"] != device_id:
        raise fix(serial=_("A device with serial %(serial)s is already registered.", serial=data.serial))


async def create_device(actor: Actor, data: DeviceInput) -> int:
    """R-CUS-04. Side effects: device row (warranty computed), customer.device_count + 1;
    audit `device.created`. A duplicate serial is refused (also under a race: unique index)."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    try:
        return await _create_device(actor, data)
    except Exception as exc:
        if is_unique_violation(exc):  # two desks registering the same serial at the same moment
            raise fix(serial=_("A device with serial %(serial)s is already registered.", serial=data.serial)) from exc
        raise


async def _create_device(actor: Actor, data: DeviceInput) -> int:
    async with atomic():
        await _check_device_refs(data)
        now = utcnow()
        v = data.values
        rows = await fetch(
            "INSERT INTO device (serial, brand, product_name, model, system, kind, capacity, customer_id, contract_id, site, "
            "install_date, acceptance_date, warranty_months, extension_events, replacement_proposed, notes, version, "
            "created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 0, false, {}, 1, {}, {}) "
            "RETURNING id",
            data.serial, data.brand, data.product_name, data.model, data.system, data.kind, v["capacity"],
            v["customer_id"], v["contract_id"], data.site, v["install_date"], v["acceptance_date"], v["warranty_months"],
            data.notes, now, now,
        )
        device_id = rows[0]["id"]
        await fetch("UPDATE customer SET device_count = device_count + 1 WHERE id = {}", v["customer_id"])
        await _recompute_device(device_id)
        await record(actor, "device.created", "device", device_id, after=data.public())
    return device_id


async def update_device(actor: Actor, device_id: int, data: DeviceInput, *, version: int | None = None) -> None:
    """Side effects: device row (compare-and-set), warranty recomputed, device counts moved when
    the customer changes; audit `device.updated`."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    async with atomic():
        before = await get_device(device_id)
        if before is None:
            raise not_found(_("No such device."))
        await _check_device_refs(data, device_id)
        v = data.values
        await _edit("device", device_id, version, {
            "serial": data.serial, "brand": data.brand, "product_name": data.product_name, "model": data.model,
            "system": data.system, "kind": data.kind, "capacity": v["capacity"], "customer_id": v["customer_id"],
            "contract_id": v["contract_id"], "site": data.site, "install_date": v["install_date"],
            "acceptance_date": v["acceptance_date"], "warranty_months": v["warranty_months"], "notes": data.notes},
            _("Someone else changed this device meanwhile; reload and try again."))
        if before["customer_id"] != v["customer_id"]:
            await fetch("UPDATE customer SET device_count = device_count - 1 WHERE id = {}", before["customer_id"])
            await fetch("UPDATE customer SET device_count = device_count + 1 WHERE id = {}", v["customer_id"])
        await _recompute_device(device_id)
        keys = ("serial", "brand", "product_name", "model", "system", "kind", "capacity", "customer_id", "contract_id",
                "site", "install_date", "acceptance_date", "warranty_months", "notes")
        await record(actor, "device.updated", "device", device_id, before={k: before[k] for k in keys}, after=data.public())


async def get_device(device_id: int) -> dict | None:
    rows = await fetch(
        "SELECT d.*, c.name AS customer_name, c.customer_class, k.number AS contract_number, "
        "k.contract_type, k.warranty_months AS contract_warranty_months "
        "FROM device d JOIN customer c ON c.id = d.customer_id LEFT JOIN contract k ON k.id = d.contract_id "
        "WHERE d.id = {}", device_id)
    return rows[0] if rows else None


async def lookup_device(serial: str) -> dict | None:
    """Exact serial (case and spaces ignored) → the device with its customer, or None."""
    serial = normalize_serial(serial)
    if not serial:
        return None
    rows = await fetch("SELECT id FROM device WHERE serial = {}", serial)
    return await get_device(rows[0]["id"]) if rows else None


async def device_events(device_id: int) -> list[dict]:
    return await fetch("SELECT * FROM device_event WHERE device_id = {} ORDER BY occurred_on, id", device_id)


def _events(rows: list[dict]) -> list[Event]:
    return [Event(event_type=r["event_type"], fault_code=r["fault_code"], day=as_date(r["occurred_on"]),
                  unresolvable=bool(r["unresolvable"])) for r in rows]


async def _term_for(device: dict) -> int:
    """Device override → its contract's term → setting (R-CUS-04: default 36 months)."""
    if device.get("warranty_months") is not None:
        return int(device["warranty_months"])
    if device.get("contract_id"):
        rows = await fetch("SELECT warranty_months FROM contract WHERE id = {}", device["contract_id"])
        if rows:
            return int(rows[0]["warranty_months"])
    return await setting("customers.default_warranty_months")


async def warranty_for(device: dict, events: list[dict] | None = None) -> Warranty:
    events = await device_events(device["id"]) if events is None else events
    failures = [as_date(e["occurred_on"]) for e in events if e["event_type"] == "failure" and e["unresolvable"]]
    return compute_warranty(as_date(device["acceptance_date"]), await _term_for(device), failures,
                            await setting("customers.warranty_extension_days"))


async def _recompute_device(device_id: int) -> tuple[Warranty, engine.ReplacementCheck]:
    """Store the engine's result on the device row (for indexes and lists). Inside a write tx."""
    device = (await fetch("SELECT * FROM device WHERE id = {}", device_id))[0]
    events = await device_events(device_id)
    warranty = await warranty_for(device, events)
    check = engine.replacement_check(_events(events))
    await fetch("UPDATE device SET warranty_end = {}, extension_events = {}, replacement_proposed = {} WHERE id = {}",
                warranty.end, len(warranty.counted), check.due, device_id)
    return warranty, check


@dataclass(frozen=True)
class WarrantyStatus:
    """What `GET /devices/lookup` shows: in warranty until X / expired on Y, and why."""

    device: dict
    warranty: Warranty
    on: dt.date
    state: str
    replacement_proposed: bool
    replacement_faults: tuple[str, ...] = ()

    @property
    def in_warranty(self) -> bool:
        return self.state == engine.IN_WARRANTY

    @property
    def end(self) -> dt.date | None:
        return self.warranty.end

    @property
    def headline(self) -> str:
        if self.state == engine.IN_WARRANTY:
            return _("In warranty until %(end)s", end=self.warranty.end.isoformat())
        if self.state == engine.EXPIRED:
            return _("Warranty expired on %(end)s", end=self.warranty.end.isoformat())
        if self.warranty.start and self.on < self.warranty.start:
            return _("Warranty starts on %(start)s", start=self.warranty.start.isoformat())
        return _("Not accepted yet: the warranty has not started")


async def warranty_status(device_id: int | str | None = None, serial: str | None = None, *, on: dt.date | None = None) -> WarrantyStatus | None:
    """R-CUS-04/05/06 for one device (by id or serial) on a date (default today).
    `warranty_status("DS2024…")` with a serial as the first argument works too."""
    if isinstance(device_id, str):
        device_id, serial = (int(device_id), serial) if device_id.isdigit() else (None, device_id)
    device = await get_device(device_id) if device_id else await lookup_device(serial or "")
    if device is None:
        return None
    on = on or today()
    events = await device_events(device["id"])
    warranty = await warranty_for(device, events)
    check = engine.replacement_check(_events(events))
    return WarrantyStatus(device=device, warranty=warranty, on=on, state=warranty.state(on),
                          replacement_proposed=check.due, replacement_faults=tuple(check.fault_codes))


@dataclass(frozen=True)
class FailureResult:
    event_id: int
    warranty: Warranty
    extended: bool
    replacement_proposed: bool
    replacement_faults: tuple[str, ...]


def _clean_event(fault_code: str, description: str, source_type: str, source_id: Any) -> tuple[str, str, str, str]:
    fault_code = (fault_code or "").strip().upper()
    if not fault_code:
        raise fix(fault_code=_("Enter the fault (code or short name)."))
    if len(fault_code) > 60:
        raise fix(fault_code=_("At most %(n)s characters.", n=60))
    return fault_code, (description or "").strip()[:1000], (source_type or "")[:30], str(source_id or "")[:60]


def _event_day(occurred_on: dt.date | None) -> dt.date:
    """The day a failure or repair happened: today by default, never in the future (whoever calls)."""
    day = occurred_on or today()
    if day > today():
        raise fix(occurred_on=_("The date cannot be in the future."))
    return day


async def _lock_device(device_id: int) -> dict:
    """Serialise writers on one device: a no-op UPDATE takes the row lock (PostgreSQL);
    SQLite already holds the database write lock."""
    rows = await fetch("UPDATE device SET updated_at = {} WHERE id = {} RETURNING id, customer_id",
                       utcnow(), device_id)
    if not rows:
        raise not_found(_("No such device."))
    return rows[0]


async def record_failure(actor: Actor, device_id: int, fault_code: str, unresolvable: bool = False,
                         source_type: str = "", source_id: Any = "", *, occurred_on: dt.date | None = None,
                         description: str = "") -> FailureResult:
    """A failure of an installed device (called by tickets / bench, or from the device page).

    R-CUS-05: `unresolvable` (could not be cleared and stopped the customer's work) extends
    the warranty by 60 days when the device is covered on that day.
    R-CUS-06: the same fault failing again after two repairs sets `replacement_proposed`.
    Side effects: device_event row (append-only), device warranty fields; audit `device.failure_recorded`.
    Joins the caller's write transaction if there is one.
    """
    fault_code, description, source_type, source_id = _clean_event(fault_code, description, source_type, source_id)
    occurred_on = _event_day(occurred_on)
    async with atomic():
        await _lock_device(device_id)
        before_end = (await fetch("SELECT warranty_end FROM device WHERE id = {}", device_id))[0]["warranty_end"]
        rows = await fetch(
            "INSERT INTO device_event (device_id, event_type, fault_code, unresolvable, occurred_on, description, "
            "source_type, source_id, user_id, username, created_at) VALUES ({}, 'failure', {}, {}, {}, {}, {}, {}, {}, {}, {}) "
            "RETURNING id", device_id, fault_code, bool(unresolvable), occurred_on, description, source_type, source_id,
            actor.user_id, actor.username, utcnow())
        warranty, check = await _recompute_device(device_id)
        extended = bool(unresolvable) and occurred_on in warranty.counted
        await record(actor, "device.failure_recorded", "device", device_id,
                     before={"warranty_end": as_date(before_end)},
                     after={"fault_code": fault_code, "unresolvable": bool(unresolvable), "occurred_on": occurred_on,
                            "source": f"{source_type}:{source_id}", "warranty_end": warranty.end, "extended": extended,
                            "replacement_proposed": check.due})
    return FailureResult(event_id=rows[0]["id"], warranty=warranty, extended=extended,
                         replacement_proposed=check.due, replacement_faults=tuple(check.fault_codes))


async def record_repair(actor: Actor, device_id: int, fault_code: str, source_type: str = "", source_id: Any = "", *,
                        occurred_on: dt.date | None = None, description: str = "", replaced: bool = False) -> int:
    """A repair (or, `replaced=True`, a replacement with a new unit) in the device's history.
    Side effects: device_event row, device fields recomputed; audit `device.repair_recorded`."""
    if replaced and not (fault_code or "").strip():
        fault_code = "REPLACED"
    fault_code, description, source_type, source_id = _clean_event(fault_code, description, source_type, source_id)
    occurred_on = _event_day(occurred_on)
    kind = "replacement" if replaced else "repair"
    async with atomic():
        await _lock_device(device_id)
        rows = await fetch(
            "INSERT INTO device_event (device_id, event_type, fault_code, unresolvable, occurred_on, description, "
            "source_type, source_id, user_id, username, created_at) VALUES ({}, {}, {}, false, {}, {}, {}, {}, {}, {}, {}) "
            "RETURNING id", device_id, kind, fault_code, occurred_on, description, source_type, source_id,
            actor.user_id, actor.username, utcnow())
        await _recompute_device(device_id)
        await record(actor, f"device.{kind}_recorded", "device", device_id,
                     after={"fault_code": fault_code, "occurred_on": occurred_on, "source": f"{source_type}:{source_id}"})
    return rows[0]["id"]


@dataclass
class DeviceFilter:
    q: str = ""
    customer_id: int | None = None
    contract_id: int | None = None
    system: str = ""
    warranty: str = ""  # in / expired / ending / not_started
    replacement: bool = False


async def list_devices(flt: DeviceFilter, *, before: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    """Newest first (keyset on id). `q`: serial prefix, or model / product name text."""
    on = today()
    where, args = [], []
    q = flt.q.strip()
    if q:
        serial = normalize_serial(_like_escape(q))
        text = _like_escape(q)
        clauses = []
        if serial and SERIAL_RE.match(serial):
            clauses.append("d.serial LIKE {}")
            args.append(serial + "%")
        clauses.append("d.model LIKE {}")
        args.append(f"%{text}%")
        clauses.append("d.product_name LIKE {}")
        args.append(f"%{text}%")
        where.append("(" + " OR ".join(clauses) + ")")
    if flt.customer_id:
        where.append("d.customer_id = {}")
        args.append(flt.customer_id)
    if flt.contract_id:
        where.append("d.contract_id = {}")
        args.append(flt.contract_id)
    if flt.system in SYSTEMS:
        where.append("d.system = {}")
        args.append(flt.system)
    if flt.warranty == "in":
        where.append("d.warranty_end >= {} AND d.acceptance_date <= {}")
        args += [on, on]
    elif flt.warranty == "expired":
        where.append("d.warranty_end < {}")
        args.append(on)
    elif flt.warranty == "ending":
        where.append("d.warranty_end >= {} AND d.warranty_end <= {}")
        args += [on, on + dt.timedelta(days=await setting("customers.renewal_days"))]
    elif flt.warranty == "not_started":
        where.append("d.warranty_end IS NULL")
    if flt.replacement:
        where.append("d.replacement_proposed = true")
    if before:
        where.append("d.id < {}")
        args.append(before)
    sql = ("SELECT d.id, d.serial, d.brand, d.product_name, d.model, d.system, d.site, d.acceptance_date, d.warranty_end, "
           "d.extension_events, d.replacement_proposed, d.customer_id, c.name AS customer_name "
           "FROM device d JOIN customer c ON c.id = d.customer_id")
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY d.id DESC LIMIT {int(limit) + 1}"
    rows = await fetch(sql, *args)
    for row in rows:
        row["warranty_state"] = _state_of(row, on)
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], cursor


def _state_of(row: dict, on: dt.date) -> str:
    end, start = as_date(row.get("warranty_end")), as_date(row.get("acceptance_date"))
    if end is None or start is None or on < start:
        return engine.NOT_STARTED
    return engine.IN_WARRANTY if on <= end else engine.EXPIRED


async def contracts_for_picker(customer_id: int) -> list[dict]:
    return await fetch("SELECT id, number, contract_type, end_date FROM contract WHERE customer_id = {} ORDER BY end_date DESC",
                       customer_id)

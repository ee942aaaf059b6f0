"""Service offices and customers (R-CUS-01)."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass, field
from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.audit.services import Actor, record
from app.core.dates import today
from app.core.db import atomic, fetch, is_sqlite, utcnow
from app.core.errors import fix, not_found
from app.core.i18n import _
from app.core.rows import insert, update
from app.customers.tables import Customer, CustomerContact, ServiceOffice
from app.customers.services._common import (
    CLASSES,
    AREAS,
    CONTRACT_TYPES,
    ENTITLEMENT_ORDER,
    SERIAL_RE,
    MAX_CONTACTS,
    _edit,
    normalize_serial,
    _like_escape,
    plain_text_errors,
)


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
        errors = plain_text_errors(self, ("code", "name", "city", "address", "phone"))
        if errors:
            return errors
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
            office_id = await insert(ServiceOffice, returning=ServiceOffice.id, code=data.code, name=data.name,
                                     city=data.city, address=data.address, phone=data.phone, is_active=data.is_active)
            await record(actor, "office.created", "service_office", office_id, after=after)
        else:
            before = await fetch("SELECT code, name, city, address, phone, is_active FROM service_office WHERE id = {}", office_id)
            if not before:
                raise not_found(_("No such office."))
            await update(ServiceOffice, ServiceOffice.id == office_id, code=data.code, name=data.name, city=data.city,
                         address=data.address, phone=data.phone, is_active=data.is_active)
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
        errors = plain_text_errors(self, ("name", "customer_class", "office_id", "address", "area", "distance_km",
                                          "phone", "notes"), multiline=("notes",))
        if any(plain_text_errors(c, ("name", "phone", "role")) for c in self.contacts):
            errors["contacts"] = _("Contains control characters; type plain text.")
        if errors:
            return errors
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
        await insert(CustomerContact, customer_id=customer_id, name=contact.name, phone=contact.phone, role=contact.role,
                     sort=sort)


async def create_customer(actor: Actor, data: CustomerInput) -> int:
    """R-CUS-01. Side effects: customer + contacts rows; audit `customer.created`."""
    errors = data.clean()
    if errors:
        raise fix(**errors)
    async with atomic():
        await _check_office(data.office_id)
        now = utcnow()
        customer_id = await insert(
            Customer, returning=Customer.id, name=data.name, customer_class=data.customer_class,
            office_id=int(data.office_id), address=data.address, area=data.area, distance_km=Decimal(data.distance_km),
            phone=data.phone, notes=data.notes, search_text=_search_text(data), device_count=0, is_active=True,
            version=1, created_at=now, updated_at=now)
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

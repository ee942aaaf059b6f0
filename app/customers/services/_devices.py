"""Installed devices, warranty, failures and repairs (R-CUS-04…06)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from typing import Any

from app.core import faults
from app.core.audit.services import Actor, record
from app.core.dates import as_date, parse_date, today
from app.core.db import atomic, fetch, is_unique_violation, utcnow
from app.core.errors import fix, not_found
from app.core.i18n import _
from app.core.settings import setting
from app.core.rows import insert, update
from app.customers.tables import Device, DeviceEvent
from app.customers import warranty as engine
from app.customers.warranty import Event, Warranty, compute_warranty
from app.customers.services._common import SYSTEMS, SERIAL_RE, _edit, normalize_serial, _like_escape, plain_text_errors


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
        errors = plain_text_errors(self, ("serial", "brand", "product_name", "model", "system", "kind", "capacity",
                                          "customer_id", "contract_id", "site", "install_date", "acceptance_date",
                                          "warranty_months", "notes"), multiline=("notes",))
        if errors:
            return errors
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
        device_id = await insert(
            Device, returning=Device.id, serial=data.serial, brand=data.brand, product_name=data.product_name,
            model=data.model, system=data.system, kind=data.kind, capacity=v["capacity"], customer_id=v["customer_id"],
            contract_id=v["contract_id"], site=data.site, install_date=v["install_date"],
            acceptance_date=v["acceptance_date"], warranty_months=v["warranty_months"], extension_events=0,
            replacement_proposed=False, notes=data.notes, version=1, created_at=now, updated_at=now)
        # raw-sql: device_count = device_count + 1 in one statement
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
            # raw-sql: relative counter moves in one statement each
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
    """The device's history, oldest first; `person` is the recorder's name (read-only join to app_user)."""
    return await fetch("SELECT e.*, COALESCE(u.full_name, '') AS person FROM device_event e "
                       "LEFT JOIN app_user u ON u.id = e.user_id WHERE e.device_id = {} ORDER BY e.occurred_on, e.id",
                       device_id)


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
    check = engine.replacement_check(_events(events), await setting("customers.repeat_repair_count"))
    await update(Device, Device.id == device_id, warranty_end=warranty.end, extension_events=len(warranty.counted),
                 replacement_proposed=check.due)
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
    repairs_before_replacement: int = engine.REPAIRS_BEFORE_REPLACEMENT

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
    repairs = await setting("customers.repeat_repair_count")
    check = engine.replacement_check(_events(events), repairs)
    return WarrantyStatus(device=device, warranty=warranty, on=on, state=warranty.state(on),
                          replacement_proposed=check.due, replacement_faults=tuple(check.fault_codes),
                          repairs_before_replacement=repairs)


@dataclass(frozen=True)
class FailureResult:
    event_id: int
    warranty: Warranty
    extended: bool
    replacement_proposed: bool
    replacement_faults: tuple[str, ...]


def _clean_event(fault_code: str, description: str, source_type: str, source_id: Any) -> tuple[str, str, str, str]:
    fault_code = faults.to_code(fault_code or "")  # a catalogue name is stored as its code
    fault_code = fault_code.upper() if fault_code.isascii() else fault_code
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
    rows = await update(Device, Device.id == device_id, returning=(Device.id, Device.customer_id), updated_at=utcnow())
    if not rows:
        raise not_found(_("No such device."))
    return rows[0]


async def record_failure(actor: Actor, device_id: int, fault_code: str, unresolvable: bool = False,
                         source_type: str = "", source_id: Any = "", *, occurred_on: dt.date | None = None,
                         description: str = "") -> FailureResult:
    """A failure of an installed device (called by tickets / bench, or from the device page).

    R-CUS-05: `unresolvable` (could not be cleared and stopped the customer's work) extends
    the warranty by 60 days when the device is covered on that day.
    R-CUS-06: the same fault failing again after `customers.repeat_repair_count` (2) repairs sets
    `replacement_proposed`.
    Side effects: device_event row (append-only), device warranty fields; audit `device.failure_recorded`.
    Joins the caller's write transaction if there is one.
    """
    fault_code, description, source_type, source_id = _clean_event(fault_code, description, source_type, source_id)
    occurred_on = _event_day(occurred_on)
    async with atomic():
        await _lock_device(device_id)
        before_end = (await fetch("SELECT warranty_end FROM device WHERE id = {}", device_id))[0]["warranty_end"]
        event_id = await insert(
            DeviceEvent, returning=DeviceEvent.id, device_id=device_id, event_type="failure", fault_code=fault_code,
            unresolvable=bool(unresolvable), occurred_on=occurred_on, description=description, source_type=source_type,
            source_id=source_id, user_id=actor.user_id, username=actor.username, created_at=utcnow())
        warranty, check = await _recompute_device(device_id)
        extended = bool(unresolvable) and occurred_on in warranty.counted
        await record(actor, "device.failure_recorded", "device", device_id,
                     before={"warranty_end": as_date(before_end)},
                     after={"fault_code": fault_code, "unresolvable": bool(unresolvable), "occurred_on": occurred_on,
                            "source": f"{source_type}:{source_id}", "warranty_end": warranty.end, "extended": extended,
                            "replacement_proposed": check.due})
    return FailureResult(event_id=event_id, warranty=warranty, extended=extended,
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
        event_id = await insert(
            DeviceEvent, returning=DeviceEvent.id, device_id=device_id, event_type=kind, fault_code=fault_code,
            unresolvable=False, occurred_on=occurred_on, description=description, source_type=source_type,
            source_id=source_id, user_id=actor.user_id, username=actor.username, created_at=utcnow())
        await _recompute_device(device_id)
        await record(actor, f"device.{kind}_recorded", "device", device_id,
                     after={"fault_code": fault_code, "occurred_on": occurred_on, "source": f"{source_type}:{source_id}"})
    return event_id


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

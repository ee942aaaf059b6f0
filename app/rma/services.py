"""Return repair — the bench pipeline (R-RMA-01…08).

One function per transition; each goes through `app.core.status.move()` with a `Transition`
from `app/rma/status.py`: one compare-and-set on (id, status, version), so of twenty clicks on
one card exactly one moves it; the others get `Stale` (409, "already moved by X at HH:MM").
Every transition writes one append-only `rma_transition` row (UNIQUE (rma_id, version)) and
one audit event, in the same transaction.

Rules:
* R-RMA-01 stages (STATUSES) with who/when on every transition.
* R-RMA-02 FIFO: the board lists each stage by `received_at, id`.
* R-RMA-03 3-day clock from QC (`rma.repair_days`): `sweep_three_day()` raises exactly
  one replacement application (UNIQUE rma_id) for an intact in-warranty unit still in the
  to-repair area or on the bench; `decide_replacement()` (manager) issues a new unit from
  stock through the parts ledger and moves the faulty one to QUARANTINE.
* R-RMA-04 out of warranty: bench costs → desk quotes → customer accepts/declines →
  finance records payment (ledger receivable); `start_repair()` refuses until the
  receivable is paid; declined → `ship_unrepaired()`.
* R-RMA-05/07 consultations and hand-overs are recorded.
* R-RMA-06 burn-in hours per model (`rma_burn_in`, default `rma.burn_in_hours` = 24):
  a passing final test is refused before they elapse; a failed one sends the unit back to
  repair and counts as rework; completed units must ship within `rma.ship_days` (2).
* Closing asks `app.core.hooks.close_blockers("rma", id)` (a loaner still out, issue #6).

Read API for other domains (loaners): `get_rma(rma_id)`, `rma_options_for_loan(q)`.
"""

from __future__ import annotations

import datetime as dt
import json
import re
import statistics
from dataclasses import dataclass, field
from typing import Any

from app.core.actor import Actor
from app.core.audit.services import SYSTEM, record
from app.core.dates import as_date, parse_date, today  # noqa: F401 (as_date, today: re-exported for this domain)
from app.core.db import fetch, is_unique_violation, utcnow, write_transaction
from app.core.errors import DomainError, Stale, fix, not_found
from app.core.forms import FieldError, Version
from app.core.hooks import case_finished, close_blockers
from app.core.i18n import _, tz
from app.core.i18n import lazy_gettext as _l
from app.core.money import MoneyError, from_fen, parse_money, to_fen
from app.core.numbers import attach_entity, next_number
from app.core.permissions import require
from app.core.settings import setting
from app.core.status import Transition, move, update_versioned
import app.customers.api as customers
import app.ledger.api as ledger
import app.parts.api as parts
from app.rma.status import (CLOCK, FINISHED, IN_REPAIR, LABELS, NEXT_ACTION, ON_BENCH, OPEN, QUOTE_LABELS,  # noqa: F401
                            QUOTE_TRANSITIONS, REPLACEMENT_LABELS, REPLACEMENT_TRANSITIONS, TRANSITIONS)

# --------------------------------------------------------------------------- stages

STATUSES: dict[str, Any] = {str(code): label for code, label in LABELS.items()}
OPEN_STATUSES = OPEN
BENCH_STATUSES = ON_BENCH  # units physically in the building (count for "in the bench" / ship-back rule)
CLOCK_STATUSES = CLOCK  # R-RMA-03 clock runs here
FINISHED_STATUSES = FINISHED


@dataclass(frozen=True)
class Action:
    """A board/detail button: one transition, its label, and the permission name that may press it."""

    code: str
    label: Any
    sources: tuple[str, ...]
    perm: str
    needs_form: bool  # inline inputs asked in the card


_INLINE = {"unbox", "qc", "ship-unrepaired", "repaired", "burn-in", "final-test", "ship", "deliver", "callback"}
ACTIONS: dict[str, Action] = {code: Action(code, t.label, t.frm, t.perm or "", code in _INLINE)
                              for code, t in TRANSITIONS.items() if code not in ("final-test-fail", "replace")}

APPEARANCE = {"ok": _l("Intact"), "damaged": _l("Damaged")}
OUTCOMES = {"repaired": _l("Repaired"), "unrepaired": _l("Returned unrepaired"), "replaced": _l("Replaced with a new unit")}
QUOTE_STATUSES = {str(code): label for code, label in QUOTE_LABELS.items()}
ANSWERS = {"continue": _l("Continue the repair"), "stop": _l("Stop, return the unit")}
REPLACEMENT_STATUSES = {str(code): label for code, label in REPLACEMENT_LABELS.items()}
SERIAL_RE = re.compile(r"^[A-Za-z0-9][A-Za-z0-9\-_./#:]{0,79}$")


def _as_domain(exc: BaseException) -> DomainError | None:
    """Another domain's refusal as a DomainError. Once every domain raises DomainError this is the identity;
    until then (parallel migration, issue #10) their own error classes carry the same message/errors/status."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(exc, Exception) and isinstance(getattr(exc, "message", None), str) and hasattr(exc, "errors"):
        return DomainError(exc.message, errors=dict(getattr(exc, "errors") or {}), status=int(getattr(exc, "status", 400)),
                           link=getattr(exc, "link", "") or None)
    return None


RmaError = DomainError  # deprecated alias, only for tests/loaners/test_rma_integration.py (owned by loaners)


# --------------------------------------------------------------------------- small helpers

def as_dt(value: Any) -> dt.datetime | None:
    """Timestamps come back as datetime (PostgreSQL, SQLite typed columns) or text (SQLite expressions)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    text = str(value).replace("T", " ")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def hhmm(value: Any) -> str:
    moment = as_dt(value)
    return moment.astimezone(tz()).strftime("%H:%M") if moment else ""


def _clean(value: Any, limit: int) -> str:
    return str(value or "").strip()[:limit]


async def rules() -> dict[str, int]:
    """The editable numbers (app_setting, specs in the manifest): burn-in default hours, repair days, ship days."""
    return {"burn_in_hours": await setting("rma.burn_in_hours"), "repair_days": await setting("rma.repair_days"),
            "ship_days": await setting("rma.ship_days")}


async def burn_in_hours_for(model: str) -> int:
    """R-RMA-06 / issue: burn-in per product (rma_burn_in by model), default `rma.burn_in_hours`."""
    if model:
        rows = await fetch("SELECT hours FROM rma_burn_in WHERE model = {}", model)
        if rows:
            return int(rows[0]["hours"])
    return (await rules())["burn_in_hours"]


async def set_burn_in_hours(actor: Actor, model: str, hours: Any) -> None:
    require(actor, "rma.burn_in.edit")
    model = _clean(model, 100)
    try:
        value = int(str(hours).strip())
    except ValueError:
        raise fix(hours=_("Enter a whole number of hours.")) from None
    if not model:
        raise fix(model=_("Enter the model."))
    if not 1 <= value <= 720:
        raise fix(hours=_("Between 1 and 720 hours."))
    async with write_transaction():
        done = await fetch("UPDATE rma_burn_in SET hours = {} WHERE model = {} RETURNING id", value, model)
        if not done:
            await fetch("INSERT INTO rma_burn_in (model, hours) VALUES ({}, {})", model, value)
        await record(actor, "rma.burn_in_set", "rma_burn_in", model, after={"model": model, "hours": value})


async def burn_in_table() -> list[dict]:
    return await fetch("SELECT model, hours FROM rma_burn_in ORDER BY model")


# --------------------------------------------------------------------------- reads

async def get_rma(rma_id: int) -> dict | None:
    """One RMA (all columns) plus the keys other domains rely on: number, customer_id,
    customer_name, device_serial, model, status, status_label, is_finished."""
    try:
        rid = int(rma_id)
    except (TypeError, ValueError):
        return None
    rows = await fetch("SELECT * FROM rma WHERE id = {}", rid)
    if not rows:
        return None
    row = rows[0]
    row["device_serial"] = row["serial"]
    row["status_label"] = str(STATUSES.get(row["status"], row["status"]))
    row["is_finished"] = row["status"] in FINISHED_STATUSES
    return row


async def rma_options_for_loan(q: str = "", limit: int = 20) -> list[dict]:
    """Open RMAs whose number or serial contains `q` (a picker for the loaners domain)."""
    q = (q or "").strip().upper()
    args: list[Any] = []
    where = "status <> 'closed'"
    if q:
        where += " AND (UPPER(number) LIKE {} OR serial LIKE {})"
        args += [f"%{q}%", f"%{q}%"]
    rows = await fetch(
        f"SELECT id, number, serial, model, customer_id, customer_name, status FROM rma WHERE {where} "
        f"ORDER BY id DESC LIMIT {int(limit)}", *args)
    for row in rows:
        row["label"] = f"{row['number']} · {row['serial']} · {row['customer_name']}"
        row["status_label"] = str(STATUSES.get(row["status"], row["status"]))
    return rows


async def find_by_scan(q: str) -> dict | None:
    """A scanned serial or typed RMA number → the newest RMA for it (open ones first)."""
    q = (q or "").strip()
    if not q:
        return None
    rows = await fetch(
        "SELECT id, status FROM rma WHERE serial = {} OR serial = {} OR number = {} OR number = {} "
        "ORDER BY CASE WHEN status = 'closed' THEN 1 ELSE 0 END, id DESC LIMIT 1",
        q, q.upper(), q, q.upper())
    return rows[0] if rows else None


async def timeline(rma_id: int) -> list[dict]:
    return await fetch("SELECT * FROM rma_transition WHERE rma_id = {} ORDER BY version, id", rma_id)


async def detail_extras(rma_id: int) -> dict:
    """Everything the detail page shows besides the RMA row."""
    return {
        "transitions": await timeline(rma_id),
        "slip": (await fetch("SELECT * FROM rma_exception_slip WHERE rma_id = {}", rma_id) or [None])[0],
        "quote": await get_quote(rma_id),
        "replacement": (await fetch("SELECT * FROM rma_replacement WHERE rma_id = {}", rma_id) or [None])[0],
        "handovers": await fetch("SELECT * FROM rma_handover WHERE rma_id = {} ORDER BY id", rma_id),
        "consultations": await fetch("SELECT * FROM rma_consultation WHERE rma_id = {} ORDER BY id", rma_id),
        "parts": await fetch(
            "SELECT u.*, p.part_no, p.name AS part_name, p.unit FROM rma_part_use u JOIN part p ON p.id = u.part_id "
            "WHERE u.rma_id = {} ORDER BY u.id", rma_id),
        "callback": (await fetch("SELECT * FROM rma_callback WHERE rma_id = {}", rma_id) or [None])[0],
        "photo_rows": await photos(rma_id),
    }


async def get_quote(rma_id: int) -> dict | None:
    rows = await fetch(
        "SELECT q.*, r.amount_fen AS receivable_fen, r.paid_fen AS receivable_paid_fen, r.is_open AS receivable_open "
        "FROM rma_quote q LEFT JOIN receivable r ON r.id = q.receivable_id WHERE q.rma_id = {}", rma_id)
    if not rows:
        return None
    quote = rows[0]
    quote["amount"] = from_fen(quote["amount_fen"])
    quote["is_paid"] = bool(quote["receivable_id"]) and quote["receivable_open"] is not None and not quote["receivable_open"]
    return quote


async def bench_users() -> list[dict]:
    rows = await fetch("SELECT id, username, full_name, roles FROM app_user WHERE is_active = true ORDER BY username")
    return [r for r in rows if {"bench", "qc"} & set(str(r["roles"]).replace(",", " ").split())]


# --------------------------------------------------------------------------- intake

@dataclass
class IntakeInput:
    serial: str = ""
    model: str = ""
    product_name: str = ""
    customer_name: str = ""
    contact_phone: str = ""
    address: str = ""
    fault_reported: str = ""
    appearance: str = ""  # '' = not unboxed yet (stays "received")
    accessories: str = ""
    photos: str = ""
    damage_call: str = ""
    damage_cause: str = ""


def _check_unbox(appearance: str, damage_call: str, damage_cause: str, *, required: bool) -> dict[str, str]:
    errors: dict[str, str] = {}
    if appearance not in APPEARANCE and (required or appearance):
        errors["appearance"] = _("Choose intact or damaged.")
    if appearance == "damaged":
        # R-RMA-01: damage → the customer is phoned and the cause recorded
        if not damage_call.strip():
            errors["damage_call"] = _("Record the call to the customer about the damage.")
        if not damage_cause.strip():
            errors["damage_cause"] = _("Record the cause of the damage.")
    return errors


async def receive(actor: Actor, data: IntakeInput) -> tuple[int, str]:
    """/bench/receive: a returned unit arrives. The serial fills device, customer and warranty
    from the customers service; with the unboxing check filled the RMA starts as "inspected".

    Side effects: rma row (number RMA-…), transition rows, audit `rma.received`.
    """
    require(actor, "rma.receive")
    serial = re.sub(r"\s+", "", data.serial or "").upper()
    errors: dict[str, str] = {}
    if not serial:
        errors["serial"] = _("Scan or type the serial number.")
    elif not SERIAL_RE.match(serial):
        errors["serial"] = _("Letters, digits and - _ . / # : only, at most 80 characters.")
    device = await customers.lookup_device(serial) if serial and "serial" not in errors else None
    if device is None and not data.customer_name.strip() and "serial" not in errors:
        errors["customer_name"] = _("Unknown serial: enter the customer.")
    if not data.fault_reported.strip():
        errors["fault_reported"] = _("Describe the fault the customer reported.")
    errors.update(_check_unbox(data.appearance, data.damage_call, data.damage_cause, required=False))
    if errors:
        raise fix(**errors)
    open_rows = await fetch("SELECT number FROM rma WHERE serial = {} AND status IN ("
                            + ", ".join(f"'{s}'" for s in BENCH_STATUSES) + ") LIMIT 1", serial)
    if open_rows:
        raise fix(serial=_("This unit is already on the bench as %(number)s.", number=open_rows[0]["number"]))
    in_warranty, warranty_end, customer_id, office_id, region = True, None, None, None, ""
    model, product, name = data.model.strip(), data.product_name.strip(), data.customer_name.strip()
    phone, address = data.contact_phone.strip(), data.address.strip()
    if device is not None:
        status = await customers.warranty_status(device_id=device["id"])
        if status is not None:
            in_warranty, warranty_end = status.in_warranty, status.end
        customer = await customers.get_customer(device["customer_id"]) or {}
        customer_id = device["customer_id"]
        office_id = customer.get("office_id")
        model = model or device.get("model") or ""
        product = product or device.get("product_name") or ""
        name = name or device.get("customer_name") or ""
        phone = phone or customer.get("phone") or ""
        address = address or customer.get("address") or ""
        region = customer.get("office_name") or ""
        contacts = customer.get("contacts") or []
        if not phone and contacts:
            phone = contacts[0].get("phone") or ""
    now = utcnow()
    appearance = data.appearance if data.appearance in APPEARANCE else ""
    status_now = "inspected" if appearance else "received"
    try:
        return await _insert_rma(actor, data, device, serial, status_now, appearance, in_warranty, warranty_end,
                                 customer_id, office_id, region, model, product, name, phone, address, now)
    except Exception as exc:  # the partial UNIQUE index: the same unit received twice at once
        text = str(exc)
        if "rma_one_open_per_serial" in text or "rma.serial" in text:  # PostgreSQL names the index, SQLite the column
            raise fix(serial=_("This unit is already on the bench.")) from exc
        raise


async def _insert_rma(actor: Actor, data: IntakeInput, device: dict | None, serial: str, status_now: str, appearance: str,
                      in_warranty: bool, warranty_end: Any, customer_id: Any, office_id: Any, region: str, model: str,
                      product: str, name: str, phone: str, address: str, now: dt.datetime) -> tuple[int, str]:
    async with write_transaction():
        number = await next_number("rma", entity_type="rma")
        rows = await fetch(
            "INSERT INTO rma (number, status, version, device_id, customer_id, office_id, region, serial, model, "
            "product_name, customer_name, contact_phone, address, in_warranty, warranty_end, fault_reported, appearance, "
            "accessories, photos, damage_call, damage_cause, received_at, moved_at, moved_by, created_by, created_at, "
            "updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
            "{}, {}, {}, {}, {}) RETURNING id",
            number.formatted, status_now, 2 if appearance else 1, device["id"] if device else None, customer_id, office_id,
            region[:100], serial, model[:100], product[:200], name[:200], phone[:40], address[:300], in_warranty,
            warranty_end, _clean(data.fault_reported, 1000), appearance, _clean(data.accessories, 300),
            _clean(data.photos, 500), _clean(data.damage_call, 500), _clean(data.damage_cause, 500), now, now,
            actor.username, actor.user_id, now, now)
        rma_id = rows[0]["id"]
        await attach_entity("rma", number.formatted, rma_id)
        await _transition_row(actor, rma_id, 1, "", "received", "receive", _clean(data.fault_reported, 1000), now)
        if appearance:
            await _transition_row(actor, rma_id, 2, "received", "inspected", "unbox",
                                  str(APPEARANCE[appearance]), now)
        await record(actor, "rma.received", "rma", rma_id,
                     after={"number": number.formatted, "serial": serial, "device_id": device["id"] if device else None,
                            "in_warranty": in_warranty, "status": status_now, "appearance": appearance})
    return rma_id, number.formatted


# --------------------------------------------------------------------------- the compare-and-set core

async def _transition_row(actor: Actor, rma_id: int, version: int, from_status: str, to_status: str, action: str,
                          note: str, now: dt.datetime) -> None:
    await fetch(
        "INSERT INTO rma_transition (rma_id, version, from_status, to_status, action, note, user_id, username, created_at) "
        "VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
        rma_id, version, from_status, to_status, action, (note or "")[:1000], actor.user_id, actor.username, now)


async def _refuse_move(rma_id: int, t: Transition, version: int | None, cause: DomainError) -> DomainError:
    """Why the compare-and-set matched nothing, in the bench's words: moved meanwhile (409 Stale,
    "already moved by X at HH:MM") or illegal from here (409 with the stage)."""
    rows = await fetch("SELECT id, number, status, version, moved_by, moved_at FROM rma WHERE id = {}", rma_id)
    if not rows:
        return not_found(_("No such return."))
    row = rows[0]
    stage = str(STATUSES.get(row["status"], row["status"]))
    if version is not None and int(row["version"]) != int(version) or isinstance(cause, Stale):
        return Stale(row, _("Already moved by %(who)s at %(at)s (now: %(stage)s).", who=row["moved_by"] or "?",
                            at=hhmm(row["moved_at"]), stage=stage))
    return DomainError(_("%(action)s is not possible: the unit is at “%(stage)s”.", action=str(t.label or t.action),
                         stage=stage), status=409, current=row)


_RETURNING = "id, number, status, version, device_id, customer_id, customer_name, serial, model, fault_code, in_warranty, " \
             "technician_id"


async def _move(actor: Actor, rma_id: int, action_code: str, version: int | None, *, sets: dict[str, Any] | None = None,
                note: str = "", now: dt.datetime | None = None, check_perm: bool = True) -> dict:
    """One RMA transition (TRANSITIONS[action_code]) through core.status.move(), stamped with who moved it,
    plus the `rma_transition` row the timeline shows and the audit event. Runs in the caller's write
    transaction; returns the updated row with `from_status`."""
    t = TRANSITIONS[action_code]
    now = now or utcnow()
    values = {**(sets or {}), "moved_at": now, "moved_by": actor.display[:100]}
    try:
        row = await move("rma", int(rma_id), version, t, actor=actor, sets=values, note=note[:1000], labels=STATUSES,
                         now=now, returning=_RETURNING, check_perm=check_perm)
    except DomainError as exc:
        if exc.status != 409:
            raise
        raise await _refuse_move(int(rma_id), t, version, exc) from None
    from_status, new_version = str(row["from_status"]), int(row["version"])
    await _transition_row(actor, rma_id, new_version, from_status, t.to, t.action, note, now)
    await record(actor, "rma.moved", "rma", rma_id, before={"status": from_status, "version": new_version - 1},
                 after={"status": t.to, "version": new_version, "action": t.action, "note": note[:200],
                        **{k: v for k, v in (sets or {}).items() if k not in ("updated_at",)}})
    row["status"] = t.to
    return row


def _version(value: Any) -> int:
    """The version the form showed: required (a missing or unreadable one is a 400, never "no check")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(Version().parse(value))
    except FieldError:
        raise DomainError(_("This form has expired; reload the page."), status=400) from None


# --------------------------------------------------------------------------- transitions (one function each)

async def unbox(actor: Actor, rma_id: int, version: Any, *, appearance: str, accessories: str = "", photos: str = "",
                damage_call: str = "", damage_cause: str = "") -> dict:
    """received → inspected: the unboxing check (R-RMA-01); damage needs the call and the cause."""
    require(actor, "rma.bench")
    errors = _check_unbox(appearance, damage_call, damage_cause, required=True)
    if errors:
        raise fix(**errors)
    async with write_transaction():
        return await _move(actor, rma_id, "unbox", _version(version), note=str(APPEARANCE[appearance]), sets={
            "appearance": appearance, "accessories": _clean(accessories, 300), "photos": _clean(photos, 500),
            "damage_call": _clean(damage_call, 500), "damage_cause": _clean(damage_cause, 500)})


async def confirm(actor: Actor, rma_id: int, version: Any, *, note: str = "", contact_phone: str = "",
                  address: str = "") -> dict:
    """inspected → registered: customer, phone, address, model and serial confirmed with the customer
    (a corrected phone or address given here replaces the one from the archive)."""
    sets: dict[str, Any] = {"confirm_note": _clean(note, 500)}
    if contact_phone.strip():
        sets["contact_phone"] = _clean(contact_phone, 40)
    if address.strip():
        sets["address"] = _clean(address, 300)
    async with write_transaction():
        return await _move(actor, rma_id, "confirm", _version(version), note=_clean(note, 500), sets=sets)


async def qc(actor: Actor, rma_id: int, version: Any, *, fault_code: str, fault_confirmed: str, test_note: str = "",
             unresolvable: bool = False) -> dict:
    """registered → waiting: QC confirms the fault and opens the numbered exception slip (异常处理单).
    The 3-day clock (R-RMA-03) starts now. The failure goes into the device history
    (R-CUS-05: `unresolvable` extends the warranty 60 days; R-CUS-06 may propose a replacement)."""
    require(actor, "rma.bench")
    code = _clean(fault_code, 200).upper()
    errors = {}
    if not code:
        errors["fault_code"] = _("Enter the fault (code or short name).")
    elif len(code) > 60:
        errors["fault_code"] = _("At most %(n)s characters.", n=60)
    if not fault_confirmed.strip():
        errors["fault_confirmed"] = _("Describe the confirmed fault.")
    if errors:
        raise fix(**errors)
    now = utcnow()
    async with write_transaction():
        row = await _move(actor, rma_id, "qc", _version(version), note=code, now=now,
                          sets={"fault_code": code, "qc_at": now})
        slip = await next_number("exception", entity_type="rma", entity_id=rma_id)
        await fetch(
            "INSERT INTO rma_exception_slip (rma_id, number, fault_code, fault_confirmed, test_note, unresolvable, user_id, "
            "username, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {})",
            rma_id, slip.formatted, code, _clean(fault_confirmed, 1000), _clean(test_note, 1000), bool(unresolvable),
            actor.user_id, actor.username, now)
        proposed = False
        if row["device_id"]:
            try:
                result = await customers.record_failure(actor, row["device_id"], code, bool(unresolvable), "rma", rma_id,
                                                        description=_clean(fault_confirmed, 1000))
            except Exception as exc:  # the customers domain's refusal, shown on this form's fault field
                refusal = _as_domain(exc)
                if refusal is None:
                    raise
                raise DomainError(refusal.message, errors={"fault_code": next(iter(refusal.errors.values()), refusal.message)}) from exc
            proposed = result.replacement_proposed
        await fetch("UPDATE rma SET exception_number = {}, replacement_proposed = {} WHERE id = {}",
                    slip.formatted, proposed, rma_id)
        await record(actor, "rma.exception_opened", "rma_exception_slip", slip.formatted,
                     after={"rma_id": rma_id, "fault_code": code, "unresolvable": bool(unresolvable)})
    row["exception_number"] = slip.formatted
    row["replacement_proposed"] = proposed
    return row


async def payment_gate(rma: dict) -> str | None:
    """R-RMA-04: why repair may not start yet (None = may start). Enforced, not advised."""
    if rma["in_warranty"]:
        return None
    quote = await get_quote(rma["id"])
    if quote is None:
        return _("Out of warranty: the bench must enter the fault and cost first.")
    if quote["status"] == "declined":
        return _("The customer declined the quote: return the unit unrepaired.")
    if quote["status"] != "accepted":
        return _("Out of warranty: the customer has not accepted the quote yet.")
    if not quote["is_paid"]:
        return _("Out of warranty: repair starts only after finance has recorded the payment.")
    return None


async def start_repair(actor: Actor, rma_id: int, version: Any) -> dict:
    """waiting → repairing (the acting technician takes the unit). Out of warranty: refused
    until the quote is accepted and paid (R-RMA-04)."""
    require(actor, "rma.bench")
    async with write_transaction():
        rma = await get_rma(rma_id)
        if rma is None:
            raise not_found(_("No such return."))
        if rma["status"] == "waiting":
            reason = await payment_gate(rma)
            if reason:
                raise DomainError(reason, status=409, link=f"/bench/{rma_id}")
        return await _move(actor, rma_id, "start", _version(version),
                           sets={"technician_id": actor.user_id, "technician_name": actor.username[:100]})


async def ship_unrepaired(actor: Actor, rma_id: int, version: Any, *, note: str = "") -> dict:
    """waiting/repairing → ready_to_ship without repair: the customer declined the quote (R-RMA-04)
    or, consulted on a long repair, chose to stop (R-RMA-05)."""
    require(actor, "rma.bench")
    async with write_transaction():
        quote = await get_quote(rma_id)
        stop = await fetch("SELECT answer FROM rma_consultation WHERE rma_id = {} ORDER BY id DESC LIMIT 1", rma_id)
        declined = quote is not None and quote["status"] == "declined"
        if not declined and not (stop and stop[0]["answer"] == "stop"):
            raise DomainError(_("Only a unit whose customer declined the quote or asked to stop is returned unrepaired."),
                           status=409)
        now = utcnow()
        return await _move(actor, rma_id, "ship-unrepaired", _version(version), now=now,
                           note=_clean(note, 500), sets={"outcome": "unrepaired", "completed_at": now})


async def use_part(actor: Actor, rma_id: int, *, part_no: str, qty: Any = 1, serial: str = "", in_tx: bool = False) -> int:
    """A part used on the bench: consumed from the BENCH location through the parts ledger."""
    require(actor, "rma.bench")
    part_no = (part_no or "").strip()
    if not part_no:
        raise fix(part_no=_("Enter the part number."))
    part = await parts.part_by_no(part_no)
    if part is None:
        raise fix(part_no=_("Unknown part number %(no)s.", no=part_no))
    try:
        n = int(str(qty).strip() or "1")
    except ValueError:
        raise fix(qty=_("Enter a whole number greater than zero.")) from None
    if n <= 0 or n > 1000:
        raise fix(qty=_("Enter a whole number greater than zero."))

    async def book() -> int:
        rma = await fetch("SELECT status FROM rma WHERE id = {}", rma_id)
        if not rma:
            raise not_found(_("No such return."))
        if rma[0]["status"] not in ("repairing", "waiting"):
            raise DomainError(_("Parts are booked while the unit is being repaired."), status=409)
        try:
            move = await parts.issue_to(actor, part["id"], n, "BENCH", "rma", rma_id, serial=serial.strip() or None,
                                        reason=_("Used on the bench"), check_roles=False)
        except Exception as exc:  # the stock ledger's refusal, put on this form's field
            refusal = _as_domain(exc)
            if refusal is None:
                raise
            field = "qty" if "qty" in refusal.errors else ("serial" if "serial" in refusal.errors else "part_no")
            raise DomainError(refusal.message, errors={field: refusal.message},
                              status=refusal.status if refusal.status in (400, 409) else 400) from exc
        rows = await fetch(
            "INSERT INTO rma_part_use (rma_id, part_id, qty, serial, move_id, username, created_at) "
            "VALUES ({}, {}, {}, {}, {}, {}, {}) RETURNING id",
            rma_id, part["id"], n, (serial or "").strip()[:100], move.id, actor.username, utcnow())
        await record(actor, "rma.part_used", "rma", rma_id, after={"part_no": part_no, "qty": n, "serial": serial})
        return rows[0]["id"]

    if in_tx:
        return await book()
    async with write_transaction():
        return await book()


async def repaired(actor: Actor, rma_id: int, version: Any, *, fault_found: str, part_no: str = "", qty: Any = "",
                   serial: str = "") -> dict:
    """repairing → repaired: the fault found, optionally one part used (consumed from BENCH);
    the repair goes into the device history."""
    require(actor, "rma.bench")
    if not fault_found.strip():
        raise fix(fault_found=_("Describe the fault found and what was done."))
    now = utcnow()
    async with write_transaction():
        if part_no.strip():
            await use_part(actor, rma_id, part_no=part_no, qty=qty or 1, serial=serial, in_tx=True)
        row = await _move(actor, rma_id, "repaired", _version(version), now=now,
                          note=_clean(fault_found, 500), sets={"fault_found": _clean(fault_found, 1000), "repaired_at": now})
        if row["device_id"]:
            await customers.record_repair(actor, row["device_id"], row["fault_code"] or "REPAIR", "rma", rma_id,
                                          description=_clean(fault_found, 1000))
    return row


async def start_burn_in(actor: Actor, rma_id: int, version: Any, *, hours: Any = "") -> dict:
    """repaired → burn_in for the required hours (per model, default 24 h); more may be set, not fewer."""
    require(actor, "rma.bench")
    rma = await get_rma(rma_id)
    if rma is None:
        raise not_found(_("No such return."))
    required = await burn_in_hours_for(rma["model"])
    text = str(hours or "").strip()
    try:
        value = int(text) if text else required
    except ValueError:
        raise fix(hours=_("Enter a whole number of hours.")) from None
    if value < required:
        raise fix(hours=_("At least %(n)s hours for this model.", n=required))
    if value > 720:
        raise fix(hours=_("Between 1 and 720 hours."))
    now = utcnow()
    async with write_transaction():
        return await _move(actor, rma_id, "burn-in", _version(version), now=now,
                           note=_("%(n)s h", n=value), sets={"burn_in_hours": value, "burn_in_started_at": now})


def burn_in_ends(rma: dict) -> dt.datetime | None:
    start = as_dt(rma.get("burn_in_started_at"))
    return start + dt.timedelta(hours=int(rma.get("burn_in_hours") or 0)) if start else None


async def final_test(actor: Actor, rma_id: int, version: Any, *, result: str, note: str = "",
                     now: dt.datetime | None = None) -> dict:
    """burn_in → ready_to_ship (pass) or → repairing (fail: counted as rework).
    A pass is refused before the burn-in time has elapsed (R-RMA-06 / issue #5)."""
    require(actor, "rma.bench")
    if result not in ("pass", "fail"):
        raise fix(result=_("Choose passed or failed."))
    if result == "fail" and not note.strip():
        raise fix(note=_("Describe what failed."))
    now = now or utcnow()
    async with write_transaction():
        rma = await get_rma(rma_id)
        if rma is None:
            raise not_found(_("No such return."))
        if result == "pass" and rma["status"] == "burn_in":
            ends = burn_in_ends(rma)
            if ends is not None and now < ends:
                left = ends - now
                hours = int(left.total_seconds() // 3600)
                minutes = int(left.total_seconds() % 3600 // 60)
                raise DomainError(_("Burn-in is not finished: %(h)s h %(m)s min left (until %(at)s).", h=hours, m=minutes,
                                 at=ends.astimezone(tz()).strftime("%m-%d %H:%M")), errors={"result": _("Burn-in not finished.")},
                               status=409)
        if result == "pass":
            return await _move(actor, rma_id, "final-test", _version(version), now=now,
                               note=_("Passed") + (f": {note.strip()}" if note.strip() else ""),
                               sets={"completed_at": now, "outcome": "repaired"})
        row = await _move(actor, rma_id, "final-test-fail", _version(version), now=now,
                          note=_("Failed") + f": {note.strip()}"[:900], sets={"burn_in_started_at": None})
        await fetch("UPDATE rma SET rework_count = rework_count + 1 WHERE id = {}", rma_id)
        return row


async def ship(actor: Actor, rma_id: int, version: Any, *, carrier: str, tracking_no: str, customer_told_on: Any) -> dict:
    """ready_to_ship → shipped (R-RMA-06): carrier, tracking number, the day the customer was told.
    A callback to-do is created (R-CB-01: 24–72 h after the service)."""
    errors = {}
    if not carrier.strip():
        errors["carrier"] = _("Enter the carrier.")
    if not tracking_no.strip():
        errors["tracking_no"] = _("Enter the tracking number.")
    try:
        told = parse_date(customer_told_on)
        if told is None:
            errors["customer_told_on"] = _("Enter the date the customer was told.")
        elif told > today():
            errors["customer_told_on"] = _("The date cannot be in the future.")
    except (ValueError, OverflowError):
        told = None
        errors["customer_told_on"] = _("Enter a date such as 2026-03-01.")
    require(actor, "rma.ship")
    if errors:
        raise fix(**errors)
    now = utcnow()
    async with write_transaction():
        row = await _move(actor, rma_id, "ship", _version(version), now=now,
                          note=f"{carrier.strip()} {tracking_no.strip()}"[:500],
                          sets={"carrier": _clean(carrier, 60), "tracking_no": _clean(tracking_no, 60),
                                "customer_told_on": told, "shipped_at": now})
        await fetch("INSERT INTO rma_callback (rma_id, due_at, status, created_at) VALUES ({}, {}, 'open', {}) "
                    "ON CONFLICT (rma_id) DO NOTHING", rma_id, now + dt.timedelta(hours=24), now)
        # The repaired unit is on its way back: a loaner still out for this case must come home (issue #6).
        await case_finished("rma", int(rma_id))
    return row


async def deliver(actor: Actor, rma_id: int, version: Any, *, delivered_on: Any) -> dict:
    """shipped → delivered, with the delivery date."""
    require(actor, "rma.ship")
    try:
        day = parse_date(delivered_on)
    except (ValueError, OverflowError):
        raise fix(delivered_on=_("Enter a date such as 2026-03-01.")) from None
    if day is None:
        raise fix(delivered_on=_("Enter the delivery date."))
    if day > today():
        raise fix(delivered_on=_("The date cannot be in the future."))
    rma = await get_rma(rma_id)
    if rma and rma["shipped_at"] and day < as_dt(rma["shipped_at"]).astimezone(tz()).date():
        raise fix(delivered_on=_("Delivered before it was shipped?"))
    async with write_transaction():
        return await _move(actor, rma_id, "deliver", _version(version), note=day.isoformat(),
                           sets={"delivered_on": day})


async def callback(actor: Actor, rma_id: int, version: Any, *, note: str) -> dict:
    """delivered → called_back: the desk's callback (R-CB-01) is done."""
    require(actor, "rma.callback")
    if not note.strip():
        raise fix(note=_("Record what the customer said."))
    now = utcnow()
    async with write_transaction():
        row = await _move(actor, rma_id, "callback", _version(version), now=now, note=_clean(note, 1000))
        await fetch("UPDATE rma_callback SET status = 'done', note = {}, done_by = {}, done_at = {} WHERE rma_id = {}",
                    _clean(note, 1000), actor.username, now, rma_id)
        await fetch("INSERT INTO rma_callback (rma_id, due_at, status, note, done_by, done_at, created_at) "
                    "VALUES ({}, {}, 'done', {}, {}, {}, {}) ON CONFLICT (rma_id) DO NOTHING",
                    rma_id, now, _clean(note, 1000), actor.username, now, now)
    return row


async def close(actor: Actor, rma_id: int, version: Any, *, note: str = "") -> dict:
    """called_back → closed; refused while another domain holds the case open (a loaner still
    at the customer, issue #6), with the blocker's message and link."""
    require(actor, "rma.close")
    blockers = await close_blockers("rma", int(rma_id))
    if blockers:
        raise DomainError(blockers[0].message, status=409, link=blockers[0].url or None)
    now = utcnow()
    async with write_transaction():
        return await _move(actor, rma_id, "close", _version(version), now=now, note=_clean(note, 500),
                           sets={"closed_at": now})


# --------------------------------------------------------------------------- side actions

async def hand_over(actor: Actor, rma_id: int, *, to_user_id: Any, note: str) -> None:
    """R-RMA-07: a technician who cannot fix the unit hands it to the group lead, recorded."""
    require(actor, "rma.bench")
    errors = {}
    try:
        uid = int(str(to_user_id))
    except ValueError:
        uid = 0
    users = await fetch("SELECT id, username, full_name, roles FROM app_user WHERE id = {} AND is_active = true", uid)
    if not users or not ({"bench", "qc"} & set(str(users[0]["roles"]).replace(",", " ").split())):
        errors["to_user_id"] = _("Choose a bench colleague.")
    if not note.strip():
        errors["note"] = _("Say why you hand it over.")
    if errors:
        raise fix(**errors)
    target = users[0]
    now = utcnow()
    async with write_transaction():
        rows = await fetch(
            "UPDATE rma SET technician_id = {}, technician_name = {}, updated_at = {} WHERE id = {} AND status IN "
            "('waiting', 'repairing', 'repaired', 'burn_in') RETURNING id, technician_name", target["id"], target["username"],
            now, rma_id)
        if not rows:
            raise DomainError(_("Only a unit in repair can be handed over."), status=409)
        await fetch("INSERT INTO rma_handover (rma_id, from_name, to_user_id, to_name, note, created_at) "
                    "VALUES ({}, {}, {}, {}, {}, {})", rma_id, actor.username, target["id"], target["username"],
                    _clean(note, 1000), now)
        await record(actor, "rma.handed_over", "rma", rma_id, after={"to": target["username"], "note": _clean(note, 200)})


async def consult(actor: Actor, rma_id: int, *, answer: str, note: str = "") -> None:
    """R-RMA-05: the desk asked the customer whether to continue a long repair; the answer is recorded."""
    require(actor, "rma.consult")
    if answer not in ANSWERS:
        raise fix(answer=_("Choose the customer's answer."))
    rma = await get_rma(rma_id)
    if rma is None:
        raise not_found(_("No such return."))
    if rma["status"] in FINISHED_STATUSES:
        raise DomainError(_("The unit is no longer in repair."), status=409)
    async with write_transaction():
        await fetch("INSERT INTO rma_consultation (rma_id, answer, note, username, created_at) VALUES ({}, {}, {}, {}, {})",
                    rma_id, answer, _clean(note, 1000), actor.username, utcnow())
        await record(actor, "rma.consulted", "rma", rma_id, after={"answer": answer, "note": _clean(note, 200)})


async def cost_quote(actor: Actor, rma_id: int, *, fault: str, amount: Any) -> int:
    """R-RMA-04 step 1: the bench enters the fault and the repair cost of an out-of-warranty unit."""
    require(actor, "rma.bench")
    errors = {}
    if not fault.strip():
        errors["fault"] = _("Describe the fault.")
    try:
        fen = to_fen(parse_money(amount))
        if fen <= 0:
            errors["amount"] = _("The amount must be greater than zero.")
    except MoneyError:
        fen = 0
        errors["amount"] = _("Enter an amount such as 1234.50.")
    if errors:
        raise fix(**errors)
    rma = await get_rma(rma_id)
    if rma is None:
        raise not_found(_("No such return."))
    if rma["in_warranty"]:
        raise DomainError(_("The unit is in warranty: no quote is needed."), status=409)
    if rma["status"] not in ("registered", "waiting"):
        raise DomainError(_("Costs are entered after QC, before the repair starts."), status=409)
    now = utcnow()
    async with write_transaction():
        rows = await fetch(
            "INSERT INTO rma_quote (rma_id, status, fault, amount_fen, costed_by, costed_at, version) "
            "VALUES ({}, 'costed', {}, {}, {}, {}, 1) ON CONFLICT (rma_id) DO NOTHING RETURNING id",
            rma_id, _clean(fault, 1000), fen, actor.username, now)
        if not rows:  # costed before: re-cost while it is not sent yet
            existing = await fetch("SELECT id FROM rma_quote WHERE rma_id = {}", rma_id)
            try:
                rows = [await update_versioned("rma_quote", existing[0]["id"], None, {
                    "fault": _clean(fault, 1000), "amount_fen": fen, "costed_by": actor.username, "costed_at": now},
                    stamp=False, returning="id", where="status = 'costed'")]
            except DomainError as exc:
                if exc.status not in (404, 409):
                    raise
                raise DomainError(_("The quote was already sent to the customer."), status=409) from None
        await record(actor, "rma.costed", "rma", rma_id, after={"fault": _clean(fault, 200), "amount": str(from_fen(fen))})
    return rows[0]["id"]


async def _move_quote(actor: Actor, rma_id: int, key: str, sets: dict[str, Any], refused_message: str,
                      returning: str) -> dict:
    """The RMA's quote from one state to the next (QUOTE_TRANSITIONS[key]); `refused_message` (409) when it is
    not in the state the step starts from, or there is no quote."""
    found = await fetch("SELECT id FROM rma_quote WHERE rma_id = {}", rma_id)
    if not found:
        raise DomainError(refused_message, status=409)
    try:
        return await move("rma_quote", int(found[0]["id"]), None, QUOTE_TRANSITIONS[key], actor=actor, sets=sets,
                          labels=QUOTE_STATUSES, stamp=False, returning=returning)
    except DomainError as exc:
        if exc.status not in (404, 409):
            raise
        raise DomainError(refused_message, status=409) from None


async def send_quote(actor: Actor, rma_id: int) -> None:
    """R-RMA-04 step 2: the desk quotes the customer."""
    require(actor, "rma.quote")
    async with write_transaction():
        row = await _move_quote(actor, rma_id, "send", {"quoted_by": actor.username, "quoted_at": utcnow()},
                                _("There is no costed quote to send."), "id, amount_fen")
        await record(actor, "rma.quoted", "rma", rma_id, after={"amount": str(from_fen(row["amount_fen"]))})


async def customer_decision(actor: Actor, rma_id: int, *, accept: bool, note: str = "") -> None:
    """R-RMA-04 step 3: the customer accepts (→ the charge is posted to receivables, finance
    records the payment) or declines (→ the unit goes back unrepaired)."""
    require(actor, "rma.quote")
    now = utcnow()
    async with write_transaction():
        quote = await _move_quote(actor, rma_id, "accept" if accept else "decline",
                                  {"decided_by": actor.username, "decided_at": now, "decision_note": _clean(note, 500)},
                                  _("The quote is not waiting for the customer's answer."), "id, amount_fen, fault")
        receivable_id = None
        if accept:
            rma = await get_rma(rma_id)
            klass = "retail"
            if rma["customer_id"]:
                c = await customers.get_customer(rma["customer_id"]) or {}
                klass = "monthly" if c.get("customer_class") == "key" else "retail"
            try:
                receivable_id = await ledger.post_receivable(
                    actor, "rma", rma["number"], rma["customer_id"], rma["customer_name"] or rma["serial"], klass,
                    from_fen(quote["amount_fen"]), _("Return repair %(number)s: %(fault)s", number=rma["number"],
                                                     fault=quote["fault"])[:300], rma["technician_id"])
            except Exception as exc:  # the ledger's refusal (a DomainError once ledger is migrated)
                refusal = _as_domain(exc)
                if refusal is None:
                    raise
                raise DomainError(refusal.message, errors=refusal.errors) from exc
            await fetch("UPDATE rma_quote SET receivable_id = {} WHERE id = {}", receivable_id, quote["id"])
        await record(actor, "rma.quote_accepted" if accept else "rma.quote_declined", "rma", rma_id,
                     after={"receivable_id": receivable_id, "note": _clean(note, 200)})


async def record_payment(actor: Actor, rma_id: int, *, token: str, amount: Any, received_on: Any, method: str,
                         reference: str = "") -> None:
    """R-RMA-04 step 4: finance records the customer's payment against the RMA's receivable
    (through the ledger, so statements and ageing agree). Repair may start once it is paid."""
    require(actor, "rma.pay")
    quote = await get_quote(rma_id)
    if quote is None or quote["status"] != "accepted" or not quote["receivable_id"]:
        raise DomainError(_("There is no accepted quote to pay."), status=409)
    try:
        day = parse_date(received_on)
    except (ValueError, OverflowError):
        raise fix(received_on=_("Enter a date such as 2026-03-01.")) from None
    try:
        await ledger.record_payment(actor, token, amount=amount, received_on=day, method=method, reference=reference,
                             receivable_id=quote["receivable_id"])
    except Exception as exc:  # the ledger's refusal (a DomainError once ledger is migrated)
        refusal = _as_domain(exc)
        if refusal is None or refusal is exc:
            raise
        raise refusal from exc
    async with write_transaction():
        paid = await fetch("SELECT is_open FROM receivable WHERE id = {}", quote["receivable_id"])
        if paid and not paid[0]["is_open"]:
            await fetch("UPDATE rma_quote SET paid_at = {}, paid_by = {} WHERE id = {} AND paid_at IS NULL",
                        utcnow(), actor.username, quote["id"])
        await record(actor, "rma.payment_recorded", "rma", rma_id, after={"amount": str(amount), "method": method})


# --------------------------------------------------------------------------- R-RMA-03 replacement

async def sweep_three_day(now: dt.datetime | None = None) -> list[int]:
    """Raise one replacement application per intact in-warranty unit still unrepaired
    `rma.repair_days` after QC. Idempotent (UNIQUE rma_id, ON CONFLICT DO NOTHING): however
    often and concurrently it runs, an RMA gets exactly one application. Returns new RMA ids."""
    now = now or utcnow()
    days = (await rules())["repair_days"]
    cutoff = now - dt.timedelta(days=days)
    candidates = await fetch(
        "SELECT r.id FROM rma r WHERE r.status IN ('waiting', 'repairing') AND r.qc_at IS NOT NULL AND r.qc_at < {} "
        "AND r.appearance = 'ok' AND r.in_warranty = true "
        "AND NOT EXISTS (SELECT 1 FROM rma_replacement x WHERE x.rma_id = r.id) ORDER BY r.id LIMIT 500", cutoff)
    if not candidates:
        return []
    reason = _("Not repaired within %(n)s days of QC; appearance intact.", n=days)
    ids: list[int] = []
    async with write_transaction():
        for cand in candidates:
            rows = await fetch(
                "INSERT INTO rma_replacement (rma_id, status, reason, raised_at, version) VALUES ({}, 'pending', {}, {}, 1) "
                "ON CONFLICT (rma_id) DO NOTHING RETURNING rma_id", cand["id"], reason, now)
            if rows:
                ids.append(int(rows[0]["rma_id"]))
                await record(SYSTEM, "rma.replacement_raised", "rma", cand["id"], after={"days": days})
    return ids


_last_sweep: dict[str, dt.datetime] = {}


async def sweep_if_due(every_seconds: int = 60) -> None:
    """Run the 3-day sweep at most once a minute per process (called by pages that show it)."""
    now = utcnow()
    last = _last_sweep.get("at")
    if last is None or (now - last).total_seconds() >= every_seconds:
        _last_sweep["at"] = now
        await sweep_three_day(now)


async def list_replacements(status: str = "pending", limit: int = 200) -> list[dict]:
    """Applications with, for pending ones, up to 5 in-stock serials of the same model (one query for all)."""
    rows = await fetch(
        "SELECT x.*, r.number, r.serial, r.model, r.customer_name, r.qc_at, r.status AS rma_status, r.version AS rma_version "
        "FROM rma_replacement x JOIN rma r ON r.id = x.rma_id WHERE x.status = {} ORDER BY x.raised_at, x.id "
        f"LIMIT {int(limit)}", status)
    models = sorted({r["model"] for r in rows if r["model"]})
    stock: dict[str, list[str]] = {}
    if status == "pending" and models:
        units = await fetch(
            "SELECT p.model, su.serial FROM serial_unit su JOIN part p ON p.id = su.part_id "
            "JOIN stock_location l ON l.id = su.location_id WHERE l.kind IN ('central', 'emergency', 'office', 'bench') "
            "AND p.model IN (" + ", ".join("{}" for _m in models) + ") ORDER BY p.model, su.id", *models)
        for unit in units:
            stock.setdefault(unit["model"], []).append(unit["serial"])
    for row in rows:
        row["stock_serials"] = stock.get(row["model"], [])[:5]
    return rows


async def decide_replacement(actor: Actor, replacement_id: int, *, approve: bool, new_serial: str = "", note: str = "") -> None:
    """The manager decides a replacement application (R-RMA-03). Approved: the new unit (by
    serial, from stock) is issued to the customer through the parts ledger, the faulty unit
    moves to QUARANTINE, the RMA goes to ready-to-ship as "replaced", the device history notes
    the replacement. All in one transaction."""
    require(actor, "rma.approve")
    new_serial = (new_serial or "").strip()
    if approve and not new_serial:
        raise fix(new_serial=_("Scan the serial of the new unit from stock."))
    if not approve and not note.strip():
        raise fix(note=_("Give the reason for rejecting."))
    now = utcnow()
    async with write_transaction():
        try:
            decided = await move("rma_replacement", int(replacement_id), None,
                                 REPLACEMENT_TRANSITIONS["approve" if approve else "reject"], actor=actor,
                                 sets={"decided_by": actor.username, "decided_at": now, "note": _clean(note, 500),
                                       "new_serial": new_serial[:100]},
                                 labels=REPLACEMENT_STATUSES, stamp=False, now=now, returning="rma_id")
        except DomainError as exc:
            if exc.status not in (404, 409):
                raise
            raise DomainError(_("This application was already decided."), status=409) from None
        rma_id = int(decided["rma_id"])
        await record(actor, "rma.replacement_" + ("approved" if approve else "rejected"), "rma", rma_id,
                     after={"replacement_id": replacement_id, "new_serial": new_serial, "note": _clean(note, 200)})
        if not approve:
            return
        rma = await get_rma(rma_id)
        units = await fetch(
            "SELECT su.id, su.part_id, su.serial, l.kind FROM serial_unit su JOIN stock_location l ON l.id = su.location_id "
            "WHERE su.serial = {} AND l.kind IN ('central', 'emergency', 'office', 'bench')", new_serial)
        if not units:
            raise fix(new_serial=_("No unit with serial %(serial)s in stock.", serial=new_serial))
        unit = units[0]
        try:
            await parts.move_serial_unit(actor, int(unit["id"]), "CUSTOMER", kind="issue", document_type="rma",
                                         document_id=rma_id, reason=_("Replacement for %(number)s", number=rma["number"]),
                                         check_roles=False)
            faulty = await fetch("SELECT id FROM serial_unit WHERE serial = {} ORDER BY id LIMIT 1", rma["serial"])
            reason = _("Faulty unit replaced under %(number)s", number=rma["number"])
            if faulty:
                await parts.move_serial_unit(actor, int(faulty[0]["id"]), "QUARANTINE", kind="quarantine",
                                             document_type="rma", document_id=rma_id, reason=reason, check_roles=False)
            else:
                await parts.receive(actor, int(unit["part_id"]), 1, "QUARANTINE", serials=[rma["serial"]],
                                    document_type="rma", document_id=rma_id, reason=reason, check_roles=False)
        except Exception as exc:  # the stock ledger's refusal, put on the new serial
            refusal = _as_domain(exc)
            if refusal is None:
                raise
            raise DomainError(refusal.message, errors={"new_serial": refusal.message},
                              status=refusal.status if refusal.status in (400, 409) else 400) from exc
        await _move(actor, rma_id, "replace", None, now=now, check_perm=False,
                    note=_("Replaced by %(serial)s", serial=new_serial), sets={"outcome": "replaced", "completed_at": now})
        if rma["device_id"]:
            await customers.record_repair(actor, rma["device_id"], rma["fault_code"] or "REPLACED", "rma", rma_id,
                                          description=_("Replaced by %(serial)s", serial=new_serial), replaced=True)


# --------------------------------------------------------------------------- unboxing photos (R-RMA-01)

PHOTO_TYPES = {"jpg": ("image/jpeg", b"\xff\xd8\xff"), "jpeg": ("image/jpeg", b"\xff\xd8\xff"),
               "png": ("image/png", b"\x89PNG\r\n\x1a\n")}


def photo_dir() -> "Path":
    import os
    from pathlib import Path

    from app.core.config import BASE_DIR

    root = Path(os.environ.get("SHOUHOU_UPLOAD_DIR") or (BASE_DIR / "var" / "uploads"))
    path = root / "rma"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def add_photo(actor: Actor, rma_id: int, filename: str, data: bytes) -> int:
    """A JPEG or PNG of the unit as unpacked: the extension and the file's first bytes must agree;
    stored under a random name (the original name is data only). Side effects: file, rma_photo row, audit."""
    import secrets

    require(actor, "rma.receive")
    name = (filename or "").strip().replace("\\", "/").split("/")[-1][:200]
    ext = name.rsplit(".", 1)[-1].lower() if "." in name else ""
    if ext not in PHOTO_TYPES:
        raise fix(photo=_("Photos are JPEG or PNG files."))
    content_type, magic = PHOTO_TYPES[ext]
    if not data:
        raise fix(photo=_("Choose a photo."))
    if not data.startswith(magic):
        raise fix(photo=_("This file is not a JPEG or PNG image."))
    limit = await setting("rma.photo_max_mb")
    if len(data) > limit * 1024 * 1024:
        raise fix(photo=_("At most %(n)s MB per photo.", n=limit))
    if await get_rma(rma_id) is None:
        raise not_found(_("No such return."))
    stored = f"{secrets.token_hex(16)}.{'jpg' if ext == 'jpeg' else ext}"
    path = photo_dir() / stored
    path.write_bytes(data)
    try:
        async with write_transaction():
            rows = await fetch(
                "INSERT INTO rma_photo (rma_id, stored_name, original_name, content_type, size, username, created_at) "
                "VALUES ({}, {}, {}, {}, {}, {}, {}) RETURNING id", rma_id, stored, name, content_type, len(data),
                actor.username, utcnow())
            await record(actor, "rma.photo_added", "rma", rma_id, after={"photo": name, "size": len(data)})
    except Exception:
        path.unlink(missing_ok=True)
        raise
    return rows[0]["id"]


async def photos(rma_id: int) -> list[dict]:
    return await fetch("SELECT * FROM rma_photo WHERE rma_id = {} ORDER BY id", rma_id)


async def get_photo(photo_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM rma_photo WHERE id = {}", photo_id)
    return rows[0] if rows else None


# --------------------------------------------------------------------------- the board

@dataclass
class Card:
    row: dict
    age_days: float
    clock_left_h: float | None = None  # R-RMA-03: hours left of the repair window (negative = breached)
    burn_in_left_h: float | None = None
    ship_overdue: bool = False
    late: bool = False
    received_label: str = ""
    next_action: str = ""
    flags: list[str] = field(default_factory=list)


def make_card(row: dict, now: dt.datetime, rule: dict[str, int]) -> Card:
    received = as_dt(row["received_at"]) or now
    card = Card(row=row, age_days=(now - received).total_seconds() / 86400, next_action=NEXT_ACTION.get(row["status"], ""))
    qc_at = as_dt(row.get("qc_at"))
    if qc_at and row["status"] in CLOCK_STATUSES:
        deadline = qc_at + dt.timedelta(days=rule["repair_days"])
        card.clock_left_h = (deadline - now).total_seconds() / 3600
    if row["status"] == "burn_in":
        ends = burn_in_ends(row)
        if ends:
            card.burn_in_left_h = (ends - now).total_seconds() / 3600
    completed = as_dt(row.get("completed_at"))
    if row["status"] == "ready_to_ship" and completed:
        card.ship_overdue = now > completed + dt.timedelta(days=rule["ship_days"])
    if row["status"] == "waiting" and row.get("quote_status") == "declined":
        card.next_action = "ship-unrepaired"  # R-RMA-04: declined → back unrepaired
    elif row["status"] == "waiting" and not row["in_warranty"] and row.get("quote_status") != "accepted":
        card.next_action = ""  # R-RMA-04: the quote comes first (detail page)
    card.late = card.ship_overdue or (card.clock_left_h is not None and card.clock_left_h < 0)
    card.received_label = received.astimezone(_TZ).strftime("%m-%d %H:%M")
    return card


_TZ = tz()

CARD_COLUMNS = ("r.id, r.number, r.status, r.version, r.serial, r.model, r.customer_name, r.region, r.in_warranty, "
                "r.appearance, r.fault_code, r.technician_id, r.technician_name, r.rework_count, r.received_at, r.qc_at, "
                "r.burn_in_hours, r.burn_in_started_at, r.completed_at, r.moved_at, r.moved_by, r.outcome, "
                "r.replacement_proposed, x.status AS replacement_status, q.status AS quote_status")


async def board(*, technician_id: int | None = None, per_column: int = 60, now: dt.datetime | None = None) -> dict:
    """The board in a constant number of queries: counts per stage, then the first `per_column`
    cards of every stage in FIFO order (R-RMA-02), whatever the number of cards."""
    now = now or utcnow()
    rule = await rules()
    where, args = "r.status IN (" + ", ".join(f"'{s}'" for s in OPEN_STATUSES) + ")", []
    if technician_id:
        where += " AND r.technician_id = {}"
        args.append(technician_id)
    counts_rows = await fetch(f"SELECT r.status, COUNT(*) AS n FROM rma r WHERE {where} GROUP BY r.status", *args)
    counts = {s: 0 for s in OPEN_STATUSES}
    counts.update({r["status"]: int(r["n"]) for r in counts_rows})
    rows = await fetch(
        f"SELECT * FROM (SELECT {CARD_COLUMNS}, ROW_NUMBER() OVER (PARTITION BY r.status ORDER BY r.received_at, r.id) AS rn "
        f"FROM rma r LEFT JOIN rma_replacement x ON x.rma_id = r.id LEFT JOIN rma_quote q ON q.rma_id = r.id "
        f"WHERE {where}) t WHERE rn <= {int(per_column)} ORDER BY received_at, id", *args)
    columns: dict[str, list[Card]] = {s: [] for s in OPEN_STATUSES}
    for row in rows:
        columns[row["status"]].append(make_card(row, now, rule))
    return {"counts": counts, "columns": columns, "rules": rule, "per_column": per_column}


async def column(status: str, *, technician_id: int | None = None, per_column: int = 60) -> tuple[list[Card], int]:
    """One stage's cards and count (the out-of-band swap after a card moves in)."""
    if status not in OPEN_STATUSES:
        return [], 0
    now, rule = utcnow(), await rules()
    where, args = "r.status = {}", [status]
    if technician_id:
        where += " AND r.technician_id = {}"
        args.append(technician_id)
    rows = await fetch(
        f"SELECT {CARD_COLUMNS} FROM rma r LEFT JOIN rma_replacement x ON x.rma_id = r.id "
        f"LEFT JOIN rma_quote q ON q.rma_id = r.id WHERE {where} ORDER BY r.received_at, r.id LIMIT {int(per_column)}", *args)
    count = await fetch(f"SELECT COUNT(*) AS n FROM rma r WHERE {where}", *args)
    return [make_card(r, now, rule) for r in rows], int(count[0]["n"])


async def card(rma_id: int) -> Card | None:
    rows = await fetch(
        f"SELECT {CARD_COLUMNS} FROM rma r LEFT JOIN rma_replacement x ON x.rma_id = r.id "
        "LEFT JOIN rma_quote q ON q.rma_id = r.id WHERE r.id = {}", rma_id)
    return make_card(rows[0], utcnow(), await rules()) if rows else None


async def count_of(status: str, technician_id: int | None = None) -> int:
    sql, args = "SELECT COUNT(*) AS n FROM rma WHERE status = {}", [status]
    if technician_id:
        sql += " AND technician_id = {}"
        args.append(technician_id)
    return int((await fetch(sql, *args))[0]["n"])


# --------------------------------------------------------------------------- lists for panels

async def overdue_repairs(limit: int = 100, technician_id: int | None = None) -> list[dict]:
    """R-RMA-03: units in the to-repair area or on the bench past the repair window."""
    rule = await rules()
    cutoff = utcnow() - dt.timedelta(days=rule["repair_days"])
    sql = ("SELECT id, number, serial, model, customer_name, status, qc_at, technician_name FROM rma "
           "WHERE status IN ('waiting', 'repairing') AND qc_at IS NOT NULL AND qc_at < {}")
    args: list[Any] = [cutoff]
    if technician_id:
        sql += " AND technician_id = {}"
        args.append(technician_id)
    return await fetch(sql + f" ORDER BY qc_at, id LIMIT {int(limit)}", *args)


async def overdue_shipments(limit: int = 100) -> list[dict]:
    """R-RMA-06: completed units still in the building more than `rma.ship_days` after completion."""
    rule = await rules()
    cutoff = utcnow() - dt.timedelta(days=rule["ship_days"])
    return await fetch(
        "SELECT id, number, serial, model, customer_name, completed_at, outcome FROM rma WHERE status = 'ready_to_ship' "
        f"AND completed_at < {{}} ORDER BY completed_at, id LIMIT {int(limit)}", cutoff)


async def quotes_to_send(limit: int = 50) -> list[dict]:
    return await fetch(
        "SELECT r.id, r.number, r.customer_name, q.status, q.amount_fen FROM rma_quote q JOIN rma r ON r.id = q.rma_id "
        f"WHERE q.status IN ('costed', 'quoted') ORDER BY q.costed_at, q.id LIMIT {int(limit)}")


async def callbacks_due(limit: int = 50) -> list[dict]:
    return await fetch(
        "SELECT r.id, r.number, r.customer_name, c.due_at FROM rma_callback c JOIN rma r ON r.id = c.rma_id "
        f"WHERE c.status = 'open' AND r.status = 'delivered' ORDER BY c.due_at LIMIT {int(limit)}")


# --------------------------------------------------------------------------- R-RMA-08 monthly report

def month_bounds(month: str) -> tuple[dt.datetime, dt.datetime]:
    """'2026-11' → [start, end) in UTC for the business time zone's calendar month."""
    year, mon = (int(x) for x in month.split("-"))
    start = dt.datetime(year, mon, 1, tzinfo=tz())
    end = dt.datetime(year + (mon == 12), 1 if mon == 12 else mon + 1, 1, tzinfo=tz())
    return start.astimezone(dt.timezone.utc), end.astimezone(dt.timezone.utc)


def percentile(values: list[float], p: float) -> float | None:
    """Nearest-rank percentile (p in 0..100)."""
    if not values:
        return None
    ordered = sorted(values)
    k = max(0, min(len(ordered) - 1, int(-(-p * len(ordered) // 100)) - 1))
    return ordered[k]


async def monthly_report(month: str) -> dict:
    """R-RMA-08: returns received by region; units completed in the month: repaired vs not,
    turnaround (days from receipt to completion, median and 90th percentile), rework rate;
    parts used by supplier with how many of those repairs needed rework (quality signal)."""
    start, end = month_bounds(month)
    by_region = await fetch(
        "SELECT CASE WHEN region = '' THEN '—' ELSE region END AS region, COUNT(*) AS received, "
        "SUM(CASE WHEN in_warranty THEN 1 ELSE 0 END) AS in_warranty "
        "FROM rma WHERE received_at >= {} AND received_at < {} GROUP BY 1 ORDER BY 2 DESC, 1", start, end)
    done = await fetch(
        "SELECT id, region, outcome, received_at, completed_at, rework_count FROM rma "
        "WHERE completed_at >= {} AND completed_at < {}", start, end)
    regions: dict[str, dict] = {}
    for row in by_region:
        regions[row["region"]] = {"region": row["region"], "received": int(row["received"]),
                                  "in_warranty": int(row["in_warranty"] or 0), "repaired": 0, "unrepaired": 0}
    turnaround, reworked = [], 0
    outcome_counts = {"repaired": 0, "replaced": 0, "unrepaired": 0}
    for row in done:
        key = row["region"] or "—"
        bucket = regions.setdefault(key, {"region": key, "received": 0, "in_warranty": 0, "repaired": 0, "unrepaired": 0})
        if row["outcome"] in ("repaired", "replaced"):
            bucket["repaired"] += 1
        else:
            bucket["unrepaired"] += 1
        outcome_counts[row["outcome"] or "unrepaired"] = outcome_counts.get(row["outcome"] or "unrepaired", 0) + 1
        received, completed = as_dt(row["received_at"]), as_dt(row["completed_at"])
        if received and completed:
            turnaround.append((completed - received).total_seconds() / 86400)
        if int(row["rework_count"] or 0) > 0:
            reworked += 1
    suppliers = await fetch(
        "SELECT CASE WHEN p.supplier = '' THEN '—' ELSE p.supplier END AS supplier, COUNT(DISTINCT u.rma_id) AS repairs, "
        "SUM(u.qty) AS parts, COUNT(DISTINCT CASE WHEN r.rework_count > 0 THEN u.rma_id END) AS reworked "
        "FROM rma_part_use u JOIN part p ON p.id = u.part_id JOIN rma r ON r.id = u.rma_id "
        "WHERE u.created_at >= {} AND u.created_at < {} GROUP BY 1 ORDER BY 4 DESC, 2 DESC", start, end)
    for row in suppliers:
        repairs = int(row["repairs"] or 0)
        row["rework_rate"] = (int(row["reworked"] or 0) / repairs) if repairs else 0.0
    total_done = len(done)
    return {
        "month": month,
        "regions": sorted(regions.values(), key=lambda r: (-r["received"], r["region"])),
        "received": sum(r["received"] for r in regions.values()),
        "completed": total_done,
        "outcomes": outcome_counts,
        "median_days": statistics.median(turnaround) if turnaround else None,
        "p90_days": percentile(turnaround, 90),
        "rework_rate": (reworked / total_done) if total_done else 0.0,
        "reworked": reworked,
        "suppliers": suppliers,
    }


def report_chart(report: dict, width: int = 640, bar_h: int = 22) -> dict:
    """Geometry for the inline SVG: one row per region, received vs repaired vs not."""
    rows = report["regions"][:15]
    top = max([max(r["received"], r["repaired"] + r["unrepaired"]) for r in rows] or [1]) or 1
    label_w, scale = 140, (width - 160) / top
    bars = []
    for i, r in enumerate(rows):
        y = 10 + i * (bar_h * 2 + 8)
        bars.append({"y": y, "label": r["region"], "received": r["received"], "w_received": r["received"] * scale,
                     "repaired": r["repaired"], "w_repaired": r["repaired"] * scale, "unrepaired": r["unrepaired"],
                     "w_unrepaired": r["unrepaired"] * scale})
    return {"width": width, "height": 20 + len(rows) * (bar_h * 2 + 8), "label_w": label_w, "bar_h": bar_h, "bars": bars}

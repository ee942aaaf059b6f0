"""Loaners (issue #6): check-out against a repair, a ticket or standalone, check-in with a test,
spare-replacement notices, overdue lists, desk requests, permanent replacement, the closing rule.

* R-LOAN-01: every check-out draws a gapless notice number (`loaner_notice`, BP-2026-000001);
  the notice is recalled through the dispatch slip that reinstalls the customer's unit.
* R-LOAN-03: the loan records unit serial, customer, linked case, out date, expected return,
  condition out and in, and the check-in test.
* Loaner units are serialised units in the parts location LOANER; check-out moves the unit to
  CUSTOMER ("loan_out"), check-in back to LOANER — or to BENCH / QUARANTINE when the check-in
  test fails ("loan_back") — always through app.parts.api (R-INV-03 ledger), inside this
  module's write transaction.
* Races: the parts move is a compare-and-set on the unit's location (two keepers → one wins),
  the loan table has one open loan per unit (partial UNIQUE index), loan transitions are a
  compare-and-set on (id, status, version); a one-time form token books a double submit once.
* The closing rule (issue #6 §6): the manifest lists `rma_close_guard` / `ticket_close_guard` —
  a case with a loaner still out cannot close; the blocker links to the loan.
"""

from __future__ import annotations

import datetime as dt
import json
import time
from dataclasses import dataclass
from typing import Any

import app.customers.api as customers
import app.parts.api as parts
import app.rma.api as rma_api
from app.core.audit.services import Actor, record
from app.core.dates import as_date, parse_date, today
from app.core.db import fetch, is_unique_violation, new_form_token, utcnow, write_transaction
from app.core.errors import DomainError, not_found, refused
from app.core.hooks import Blocker
from app.core.i18n import _, tz
from app.core.numbers import attach_entity, next_number
from app.core.permissions import can
from app.core.settings import setting
from app.core.status import move, update_versioned
from app.loaners import triggers
from app.loaners.schemas import CheckinInput, CheckoutInput, RequestInput
from app.loaners.status import LOAN_LABELS, LOAN_TRANSITIONS, RECALLABLE, REQUEST_LABELS, REQUEST_TRANSITIONS, LoanStatus

CASE_TYPES = ("rma", "ticket", "standalone")
POOL = "LOANER"
AT_CUSTOMER = "CUSTOMER"
FAIL_DESTINATIONS = {"bench": "BENCH", "quarantine": "QUARANTINE"}
DUPLICATE = "duplicate-checkout"  # DomainError.current["kind"] of a double-submitted check-out form

__all__ = ["CheckinInput", "CheckoutInput", "RequestInput", "new_form_token", "parse_date", "today"]


def _duplicate(loan_id: int | None) -> DomainError:
    """The one-time form token was used: the check-out was booked once (the controller opens that loan)."""
    return DomainError(_("This form was already submitted; the loan was booked once."), status=409,
                       link=f"/loaners/{loan_id}" if loan_id else "/loaners/out",
                       current={"kind": DUPLICATE, "loan_id": loan_id})


def _allow(actor: Actor, perm: str) -> None:
    """`require()` with the domain's own wording of the 403."""
    if not can(actor, perm):
        raise refused(_("Your roles do not allow this loaner action."))


def _invalid(errors: dict[str, str]) -> DomainError:
    """400 with the field messages; one field: its message is the page's message too."""
    return DomainError(next(iter(errors.values())) if len(errors) == 1 else _("Check the highlighted fields."),
                       errors=errors)


def _refusal(exc: Exception) -> DomainError | None:
    """Another domain's refusal as a DomainError, or None for anything else (a bug: let it propagate).
    Transitional: parts/customers may still raise their own class (with .message/.status) until
    they are on the kit too."""
    if isinstance(exc, DomainError):
        return exc
    if isinstance(getattr(exc, "status", None), int) and isinstance(getattr(exc, "message", None), str):
        return DomainError(exc.message, errors=getattr(exc, "errors", None) or None, status=exc.status)
    return None


def _local(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(tz()).strftime("%Y-%m-%d %H:%M")
    return str(value or "")


# --------------------------------------------------------------------------- settings (thresholds are data)

async def thresholds() -> triggers.Thresholds:
    """R-LOAN-02 thresholds from app_setting (SPEC defaults 2 h / 72 h / 12 h, declared in the manifest)."""
    return triggers.Thresholds(
        fix_hours=await setting("loaners.fix_hours"),
        same_model_hours=await setting("loaners.same_model_hours"),
        maintenance_hours=await setting("loaners.maintenance_hours"),
    )


async def default_return_date() -> dt.date:
    return today() + dt.timedelta(days=int(await setting("loaners.default_days")))


# --------------------------------------------------------------------------- the return-repair domain (its api)

def _rma_services():
    """The RMA domain's api (tests replace this seam with a fake or None: RMAs linked by number only)."""
    return rma_api


async def get_rma(rma_id: int) -> dict | None:
    module = _rma_services()
    if module is None:
        return None
    rma = await module.get_rma(int(rma_id))
    if rma is None:
        return None
    return rma if isinstance(rma, dict) else dict(getattr(rma, "__dict__", {}) or {})


async def _find_rma(ref: str) -> dict | None:
    """A typed RMA number or the customer's serial → that open repair (exact match), via the picker's read."""
    module = _rma_services()
    if module is None or not hasattr(module, "rma_options_for_loan"):
        return None
    ref = ref.strip().upper()
    for option in await module.rma_options_for_loan(ref):
        row = option if isinstance(option, dict) else dict(getattr(option, "__dict__", {}))
        if ref in (str(row.get("number") or "").upper(), str(row.get("serial") or row.get("device_serial") or "").upper()):
            return row
    return None


def case_label(case_type: str, case_id: Any, case_ref: str) -> str:
    if case_type == "rma":
        return case_ref or f"RMA #{case_id}"
    if case_type == "ticket":
        return case_ref
    return _("Standalone")


def case_url(case_type: str, case_id: Any) -> str:
    if case_type == "rma" and case_id and _rma_services() is not None:
        return f"/rma/{case_id}"
    return ""


# --------------------------------------------------------------------------- reads

async def pool_location_id() -> int:
    return await parts.location_id(POOL)


async def get_loan(loan_id: Any) -> dict | None:
    try:
        lid = int(loan_id)
    except (TypeError, ValueError):
        return None
    rows = await fetch(
        "SELECT l.*, p.part_no, p.name AS part_name, c.address AS customer_address, c.phone AS customer_phone "
        "FROM loan l JOIN part p ON p.id = l.part_id JOIN customer c ON c.id = l.customer_id WHERE l.id = {}", lid)
    if not rows:
        return None
    loan = rows[0]
    loan["case_label"] = case_label(loan["case_type"], loan["case_id"], loan["case_ref"])
    loan["case_url"] = case_url(loan["case_type"], loan["case_id"])
    loan["overdue"] = loan["status"] == "out" and as_date(loan["expected_return"]) < today()
    return loan


async def customer_brief(customer_id: int) -> dict | None:
    """Name, address and phone of a customer for the forms (a read of the shared customer table)."""
    rows = await fetch("SELECT id, name, address, phone FROM customer WHERE id = {}", int(customer_id))
    return rows[0] if rows else None


async def open_loan_for_unit(unit_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM loan WHERE serial_unit_id = {} AND status = 'out'", unit_id)
    return rows[0] if rows else None


async def find_units(serial: str) -> list[dict]:
    return await fetch(
        "SELECT su.*, p.part_no, p.name AS part_name, p.model, l.code AS location_code, l.name AS location_name "
        "FROM serial_unit su JOIN part p ON p.id = su.part_id LEFT JOIN stock_location l ON l.id = su.location_id "
        "WHERE su.serial = {} ORDER BY su.id", serial.strip())


async def whereabouts(unit: dict) -> str:
    """Why a unit cannot be checked out — and who has it (the loser of a race reads this)."""
    loan = await open_loan_for_unit(unit["id"])
    if loan is not None:
        return _("Unit %(serial)s is already out: notice %(number)s, customer %(customer)s, checked out by %(keeper)s "
                 "at %(when)s.", serial=unit["serial"], number=loan["number"], customer=loan["customer_name"],
                 keeper=loan["out_by_name"], when=_local(loan["out_at"]))
    where = unit.get("location_name") or _("outside the stock")
    return _("Unit %(serial)s is not in the loaner pool: it is in %(location)s.", serial=unit["serial"], location=where)


async def pool_unit_by_serial(serial: str) -> tuple[dict | None, str]:
    """(the unit in the loaner pool, "") or (the unit or None, why it cannot be lent)."""
    serial = (serial or "").strip()
    if not serial:
        return None, _("Scan or type the loaner's serial number.")
    units = await find_units(serial)
    if not units:
        return None, _("No unit with serial %(serial)s.", serial=serial)
    in_pool = [u for u in units if u["location_code"] == POOL]
    if len(in_pool) == 1:
        return in_pool[0], ""
    if len(in_pool) > 1:
        return None, _("Several parts have a unit with serial %(serial)s in the pool; fix the stock first.", serial=serial)
    return units[0], await whereabouts(units[0])


async def availability(model: str = "", *, limit: int = 100) -> list[dict]:
    """Availability by model: per part, units in the pool ("available") and units out on loan."""
    pool = await pool_location_id()
    where, args = ["su.location_id = {}"], [pool]
    model = (model or "").strip()
    if model:
        like = f"%{model.lower()}%"
        where.append("(LOWER(p.model) LIKE {} OR LOWER(p.part_no) LIKE {} OR LOWER(p.name) LIKE {})")
        args += [like, like, like]
    avail = await fetch(
        "SELECT su.part_id, COUNT(*) AS n FROM serial_unit su JOIN part p ON p.id = su.part_id WHERE "
        + " AND ".join(where) + " GROUP BY su.part_id", *args)
    out_where, out_args = ["l.status = 'out'"], []
    if model:
        out_where.append("(LOWER(p.model) LIKE {} OR LOWER(p.part_no) LIKE {} OR LOWER(p.name) LIKE {})")
        out_args += [like, like, like]
    out = await fetch(
        "SELECT l.part_id, COUNT(*) AS n FROM loan l JOIN part p ON p.id = l.part_id WHERE "
        + " AND ".join(out_where) + " GROUP BY l.part_id", *out_args)
    counts: dict[int, dict] = {}
    for r in avail:
        counts.setdefault(int(r["part_id"]), {"available": 0, "out": 0})["available"] = int(r["n"])
    for r in out:
        counts.setdefault(int(r["part_id"]), {"available": 0, "out": 0})["out"] = int(r["n"])
    if not counts:
        return []
    ids = ", ".join(str(i) for i in counts)
    rows = await fetch(f"SELECT id, part_no, name, model FROM part WHERE id IN ({ids})")
    result = []
    for r in rows:
        c = counts[int(r["id"])]
        result.append({"part_id": r["id"], "part_no": r["part_no"], "name": r["name"], "model": r["model"] or r["part_no"],
                       "available": c["available"], "out": c["out"], "total": c["available"] + c["out"]})
    result.sort(key=lambda r: (-r["available"], r["model"]))
    return result[:limit]


async def pool_units(*, part_id: int | None = None, q: str = "", after: int | None = None,
                     limit: int = 50) -> tuple[list[dict], int | None]:
    """Units in the loaner pool (keyset on unit id), with their last return condition."""
    pool = await pool_location_id()
    where, args = ["su.location_id = {}"], [pool]
    if part_id:
        where.append("su.part_id = {}")
        args.append(part_id)
    if q.strip():
        like = f"%{q.strip().lower()}%"
        where.append("(LOWER(su.serial) LIKE {} OR LOWER(p.model) LIKE {} OR LOWER(p.name) LIKE {})")
        args += [like, like, like]
    if after:
        where.append("su.id > {}")
        args.append(after)
    rows = await fetch(
        "SELECT su.id, su.serial, su.part_id, su.updated_at, p.part_no, p.name AS part_name, p.model, "
        # a unit in the pool: its latest loan (index loan_unit) is a returned one
        "(SELECT l.condition_in FROM loan l WHERE l.serial_unit_id = su.id ORDER BY l.id DESC LIMIT 1) AS last_condition "
        "FROM serial_unit su JOIN part p ON p.id = su.part_id WHERE " + " AND ".join(where)
        + f" ORDER BY su.id LIMIT {int(limit) + 1}", *args)
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], cursor


_LIST_SELECT = ("SELECT l.id, l.number, l.status, l.serial, l.model, l.customer_id, l.customer_name, l.case_type, "
                "l.case_id, l.case_ref, l.out_at, l.expected_return, l.returned_at, l.out_by_name, l.test_result, "
                "l.returned_to, l.case_finished_at, l.recall_ref FROM loan l")


def _decorate(rows: list[dict]) -> list[dict]:
    now = today()
    for r in rows:
        r["case_label"] = case_label(r["case_type"], r["case_id"], r["case_ref"])
        ret = as_date(r["expected_return"])
        r["days_overdue"] = (now - ret).days if r["status"] == "out" and ret and ret < now else 0
    return rows


async def list_loans(*, status: str = "", q: str = "", before: int | None = None,
                     limit: int = 50) -> tuple[list[dict], int | None]:
    """All loans, newest first (keyset on id)."""
    where, args = [], []
    if status in ("out", "returned", "converted"):
        where.append("l.status = {}")
        args.append(status)
    if q.strip():
        like = f"%{q.strip().lower()}%"
        where.append("(LOWER(l.number) LIKE {} OR LOWER(l.serial) LIKE {} OR LOWER(l.customer_name) LIKE {} "
                     "OR LOWER(l.case_ref) LIKE {})")
        args += [like, like, like, like]
    if before:
        where.append("l.id < {}")
        args.append(before)
    rows = await fetch(_LIST_SELECT + (" WHERE " + " AND ".join(where) if where else "")
                       + f" ORDER BY l.id DESC LIMIT {int(limit) + 1}", *args)
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return _decorate(rows[:limit]), cursor


async def overdue(*, after: tuple[str, int] | None = None, limit: int = 50) -> tuple[list[dict], str | None]:
    """R-LOAN-03 overdue list: out past the expected return, oldest first (partial index loan_overdue)."""
    where, args = ["l.status = 'out'", "l.expected_return < {}"], [today()]
    if after:
        where.append("(l.expected_return > {} OR (l.expected_return = {} AND l.id > {}))")
        args += [after[0], after[0], after[1]]
    rows = await fetch(_LIST_SELECT + " WHERE " + " AND ".join(where)
                       + f" ORDER BY l.expected_return, l.id LIMIT {int(limit) + 1}", *args)
    cursor = None
    if len(rows) > limit:
        last = rows[limit - 1]
        cursor = f"{as_date(last['expected_return']).isoformat()}_{last['id']}"
    return _decorate(rows[:limit]), cursor


async def overdue_count() -> int:
    rows = await fetch("SELECT COUNT(*) AS n FROM loan WHERE status = 'out' AND expected_return < {}", today())
    return int(rows[0]["n"])


async def out_count() -> int:
    rows = await fetch("SELECT COUNT(*) AS n FROM loan WHERE status = 'out'")
    return int(rows[0]["n"])


_last_refresh: list[float] = [0.0]


async def refresh_finished_cases(limit: int = 500, *, every_seconds: float = 0) -> int:
    """Open RMA loans whose repair has finished (asked of the RMA module, when present) get
    `case_finished_at` set; returns how many were marked. `every_seconds`: skip when the last
    refresh in this process is more recent (pages call it; the RMA module may also call
    `note_case_finished()` itself)."""
    if _rma_services() is None:
        return 0
    if every_seconds and time.monotonic() - _last_refresh[0] < every_seconds:
        return 0
    _last_refresh[0] = time.monotonic()
    rows = await fetch("SELECT id, case_id FROM loan WHERE status = 'out' AND case_type = 'rma' "
                       f"AND case_finished_at IS NULL ORDER BY id LIMIT {int(limit)}")
    finished = []
    for r in rows:
        rma = await get_rma(r["case_id"])
        if rma and _rma_finished(rma):
            finished.append(int(r["id"]))
    if not finished:
        return 0
    async with write_transaction():
        done = await fetch("UPDATE loan SET case_finished_at = {} WHERE status = 'out' AND case_finished_at IS NULL "
                           "AND id IN (" + ", ".join(str(i) for i in finished) + ") RETURNING id", utcnow())
    return len(done)


def _rma_finished(rma: dict) -> bool:
    if "is_finished" in rma:
        return bool(rma["is_finished"])
    status = str(rma.get("status") or rma.get("stage") or "")
    return bool(rma.get("closed_at") or rma.get("shipped_at")) or status in (
        "shipped", "delivered", "called_back", "closed", "ready_to_ship", "returned_unrepaired")


async def finished_still_out(*, limit: int = 50) -> list[dict]:
    """Loaners whose linked case is finished while the loaner is still out (partial index loan_finished_out)."""
    rows = await fetch(_LIST_SELECT + " WHERE l.status = 'out' AND l.case_finished_at IS NOT NULL "
                       f"ORDER BY l.case_finished_at, l.id LIMIT {int(limit)}")
    return _decorate(rows)


async def finished_still_out_count() -> int:
    rows = await fetch("SELECT COUNT(*) AS n FROM loan WHERE status = 'out' AND case_finished_at IS NOT NULL")
    return int(rows[0]["n"])


async def loans_for_customer(customer_id: int, limit: int = 20) -> list[dict]:
    rows = await fetch(_LIST_SELECT + f" WHERE l.customer_id = {{}} ORDER BY l.id DESC LIMIT {int(limit)}", customer_id)
    return _decorate(rows)


async def loans_for_case(case_type: str, case_id: int | None = None, case_ref: str = "") -> list[dict]:
    if case_id is not None:
        rows = await fetch(_LIST_SELECT + " WHERE l.case_type = {} AND l.case_id = {} ORDER BY l.id DESC", case_type, case_id)
    else:
        rows = await fetch(_LIST_SELECT + " WHERE l.case_type = {} AND l.case_ref = {} ORDER BY l.id DESC", case_type, case_ref)
    return _decorate(rows)


async def unit_history(unit_id: int, limit: int = 20) -> list[dict]:
    return _decorate(await fetch(_LIST_SELECT + f" WHERE l.serial_unit_id = {{}} ORDER BY l.id DESC LIMIT {int(limit)}",
                                 unit_id))


# --------------------------------------------------------------------------- the closing rule

async def _blockers(case_type: str, case_id: int) -> list[Blocker]:
    rows = await fetch(
        "SELECT id, number, serial FROM loan WHERE status = 'out' AND case_type = {} "
        "AND (case_id = {} OR case_ref = {}) ORDER BY id", case_type, case_id, str(case_id))
    return [Blocker(_("Loaner %(serial)s is still out at the customer (notice %(number)s): check it in before "
                      "closing.", serial=r["serial"], number=r["number"]), f"/loaners/{r['id']}", "loaner") for r in rows]


async def rma_close_guard(case_id: int) -> list[Blocker]:
    """Issue #6 §6: an RMA with a loaner still out cannot be closed."""
    return await _blockers("rma", case_id)


async def ticket_close_guard(case_id: int) -> list[Blocker]:
    """Issue #6 §6: a service ticket with a loaner still out cannot be closed."""
    return await _blockers("ticket", case_id)



# --------------------------------------------------------------------------- check-out (R-LOAN-01, R-LOAN-03)

@dataclass
class _Checkout:
    unit: dict
    customer: dict
    case_type: str
    case_id: int | None
    case_ref: str
    reason: str
    device_serial: str
    device_model: str
    expected_return: dt.date
    condition_out: str
    request_id: int | None
    trigger_rule: str


async def _validate_case(data: CheckoutInput, errors: dict) -> tuple[int | None, str, int | None]:
    """(case_id, case_ref, customer_id of the case if known)."""
    case_type = data.case_type
    if case_type not in CASE_TYPES:
        errors["case_type"] = _("Choose what the loaner is for: a return repair, a ticket, or standalone.")
        return None, "", None
    if case_type == "rma":
        module = _rma_services()
        if not str(data.case_id).strip() and data.case_ref.strip() and module is not None:
            found = await _find_rma(data.case_ref)  # a typed RMA number or the customer's serial finds the repair
            if found:
                data.case_id = str(found["id"])
        try:
            case_id = int(str(data.case_id).strip())
        except ValueError:
            errors["case_id"] = _("Choose the return repair (RMA) the loaner covers.")
            return None, "", None
        ref = data.case_ref.strip()[:60]
        if module is not None:
            rma = await get_rma(case_id)
            if rma is None:
                errors["case_id"] = _("No return repair #%(id)s.", id=case_id)
                return None, "", None
            ref = str(rma.get("number") or ref)[:60]
            cust = rma.get("customer_id")
            return case_id, ref or f"RMA #{case_id}", int(cust) if cust else None
        return case_id, ref or f"RMA #{case_id}", None
    if case_type == "ticket":
        ref = data.case_ref.strip()[:60]
        if not ref:
            errors["case_ref"] = _("Enter the service ticket number.")
        case_id = int(ref) if ref.isdigit() else None
        return case_id, ref, None
    if not data.reason.strip():
        errors["reason"] = _("A standalone loan needs a reason.")
    return None, "", None


async def validate_checkout(data: CheckoutInput) -> _Checkout:
    """Every check of a check-out that needs no write (X-05: a refused form changes nothing)."""
    errors: dict[str, str] = {}
    unit, why = await pool_unit_by_serial(data.serial)
    if why:
        errors["serial"] = why
    case_id, case_ref, case_customer = await _validate_case(data, errors)
    customer = None
    raw_customer = str(data.customer_id or "").strip() or (str(case_customer) if case_customer else "")
    if not raw_customer.isdigit():
        errors["customer_id"] = _("Choose the customer.")
    else:
        rows = await fetch("SELECT id, name, address, phone FROM customer WHERE id = {}", int(raw_customer))
        if not rows:
            errors["customer_id"] = _("Choose the customer.")
        else:
            customer = rows[0]
    device_serial, device_model = data.device_serial.strip()[:100], ""
    if device_serial:
        device = await customers.lookup_device(device_serial)
        if device is not None:
            device_serial, device_model = device["serial"], device["model"] or device["product_name"] or ""
            if customer is not None and device["customer_id"] != customer["id"]:
                errors["device_serial"] = _("Device %(serial)s belongs to another customer (%(name)s).",
                                            serial=device_serial, name=device["customer_name"])
    try:
        expected = parse_date(data.expected_return)
    except (ValueError, TypeError):
        expected = None
        errors["expected_return"] = _("Enter a date (YYYY-MM-DD).")
    else:
        if expected is None:
            errors["expected_return"] = _("Enter the expected return date.")
        elif expected < today():
            errors["expected_return"] = _("The expected return date cannot be in the past.")
        elif expected > today() + dt.timedelta(days=366):
            errors["expected_return"] = _("The expected return date is more than a year away.")
    condition = data.condition_out.strip()
    if not condition:
        errors["condition_out"] = _("Describe the loaner's condition when it leaves.")
    request_id = None
    if str(data.request_id or "").strip():
        try:
            request_id = int(str(data.request_id).strip())
        except ValueError:
            errors["request_id"] = _("Unknown loaner request.")
    rule = data.trigger_rule.strip()
    if rule and rule not in triggers.RULES:
        rule = ""
    if errors:
        raise _invalid(errors)
    assert unit is not None and customer is not None and expected is not None
    return _Checkout(unit=unit, customer=customer, case_type=data.case_type, case_id=case_id, case_ref=case_ref,
                     reason=data.reason.strip(), device_serial=device_serial, device_model=device_model[:100],
                     expected_return=expected, condition_out=condition[:500], request_id=request_id, trigger_rule=rule)


async def _claim_token(token: str, actor: Actor) -> None:
    if not token:
        return
    rows = await fetch("INSERT INTO loan_form_token (token, user_id, created_at) VALUES ({}, {}, {}) "
                       "ON CONFLICT (token) DO NOTHING RETURNING id", token[:64], actor.user_id, utcnow())
    if not rows:
        raise _duplicate(None)


async def _token_loan(token: str) -> int | None:
    rows = await fetch("SELECT loan_id FROM loan_form_token WHERE token = {}", token[:64])
    return int(rows[0]["loan_id"]) if rows and rows[0]["loan_id"] else None


async def check_out(actor: Actor, data: CheckoutInput) -> int:
    """Lend a loaner (R-LOAN-01, R-LOAN-03). Returns the loan id.

    Side effects (one transaction): one-time token claimed; notice number drawn (`loaner_notice`);
    the unit moves LOANER → CUSTOMER (`loan_out` ledger row, compare-and-set); loan row; the desk's
    request (if any) fulfilled; the trigger that entitled it recorded; audit `loan.checked_out`.
    Raises DomainError 400 (bad input), 409 (unit no longer in the pool: says who has it), 409 with
    `current["kind"] == DUPLICATE` (the form was already booked: `current["loan_id"]`).
    """
    _allow(actor, "loaners.keep")
    token = (data.token or "").strip()
    if token:
        done = await _token_loan(token)
        if done:
            raise _duplicate(done)
    v = await validate_checkout(data)
    try:
        async with write_transaction():
            await _claim_token(token, actor)
            number = await next_number("loaner_notice", entity_type="loan")
            # the compare-and-set on the unit's location: of two keepers, one wins
            try:
                await parts.move_serial_unit(actor, int(v.unit["id"]), AT_CUSTOMER, expect_from=POOL, kind="loan_out",
                                             document_type="loan", document_id=number.formatted,
                                             reason=_("Loaner for %(customer)s", customer=v.customer["name"])[:500],
                                             check_roles=False)
            except Exception as exc:
                raise await _unit_refusal(exc, v.unit) from None
            now = utcnow()
            rows = await fetch(
                "INSERT INTO loan (number, status, serial_unit_id, part_id, serial, model, customer_id, customer_name, "
                "case_type, case_id, case_ref, reason, device_serial, device_model, request_id, out_at, expected_return, "
                "condition_out, out_by, out_by_name, version, created_at, updated_at) VALUES "
                "({}, 'out', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 1, {}, {}) RETURNING id",
                number.formatted, v.unit["id"], v.unit["part_id"], v.unit["serial"], (v.unit["model"] or v.unit["part_no"])[:100],
                v.customer["id"], v.customer["name"][:200], v.case_type, v.case_id, v.case_ref, v.reason, v.device_serial,
                v.device_model, v.request_id, now, v.expected_return, v.condition_out, actor.user_id, actor.username, now, now)
            loan_id = int(rows[0]["id"])
            await attach_entity("loaner_notice", number.formatted, loan_id)
            if token:
                await fetch("UPDATE loan_form_token SET loan_id = {} WHERE token = {}", loan_id, token[:64])
            if v.request_id:
                await _fulfil_request(actor, v.request_id, loan_id, now)
            if v.trigger_rule:
                await _record_trigger(actor, v.case_type, v.case_id, v.case_ref or v.reason[:60], v.trigger_rule,
                                      now, None, "", v.customer["id"])
            await record(actor, "loan.checked_out", "loan", loan_id, after={
                "number": number.formatted, "serial": v.unit["serial"], "customer_id": v.customer["id"],
                "case": f"{v.case_type}:{v.case_id or v.case_ref}", "expected_return": v.expected_return,
                "condition_out": v.condition_out, "request_id": v.request_id, "reason": v.reason})
            return loan_id
    except DomainError as exc:
        if (exc.current or {}).get("kind") == DUPLICATE:
            raise _duplicate(await _token_loan(token)) from None
        raise
    except Exception as exc:  # the partial unique index: another open loan of this unit committed first
        if "loan_one_open_per_unit" in str(exc) or (is_unique_violation(exc) and "serial_unit_id" in str(exc)):
            raise DomainError(await whereabouts(v.unit), field="serial", status=409) from None
        raise


async def _unit_refusal(exc: Exception, unit: dict) -> Exception:
    """The parts move refused the check-out: 409 (another keeper won the unit) says who has it now."""
    refusal = _refusal(exc)
    if refusal is None:
        return exc
    if refusal.status == 409:
        units = await find_units(unit["serial"])
        unit = next((u for u in units if u["id"] == unit["id"]), unit)
        return DomainError(await whereabouts(unit), field="serial", status=409)
    return refusal


async def _fulfil_request(actor: Actor, request_id: int, loan_id: int, now: dt.datetime) -> None:
    try:
        await move("loan_request", request_id, None, REQUEST_TRANSITIONS["fulfil"], actor=actor,
                   sets={"loan_id": loan_id}, labels=REQUEST_LABELS, now=now, check_perm=False)
    except DomainError as exc:
        if exc.status not in (404, 409):
            raise
        raise DomainError(_("This loaner request was already fulfilled or cancelled."), field="request_id",
                          status=409) from None


# --------------------------------------------------------------------------- check-in

async def open_loan_by_serial(serial: str) -> dict | None:
    rows = await fetch("SELECT id FROM loan WHERE serial = {} AND status = 'out' ORDER BY id", (serial or "").strip())
    return await get_loan(rows[0]["id"]) if len(rows) == 1 else None


async def check_in(actor: Actor, data: CheckinInput, loan_id: int | None = None) -> int:
    """Take a loaner back: condition in, check-in test; pass → the pool, fail → bench or quarantine.

    Side effects (one transaction): loan out → returned (compare-and-set on status and version);
    the unit moves CUSTOMER → LOANER / BENCH / QUARANTINE (`loan_back`); notice recalled when the
    dispatch slip is given; audit `loan.checked_in`. Raises DomainError 400/409 (not out: nothing written).
    """
    _allow(actor, "loaners.keep")
    errors: dict[str, str] = {}
    loan = await get_loan(loan_id) if loan_id is not None else await open_loan_by_serial(data.serial)
    if loan is None and loan_id is not None:
        raise not_found(_("No such loan."))
    if loan is None or loan["status"] != "out":
        serial = loan["serial"] if loan else (data.serial or "").strip()
        if not serial:
            errors["serial"] = _("Scan or type the loaner's serial number.")
        else:
            units = await find_units(serial)
            where = units[0]["location_name"] if units and units[0]["location_name"] else _("outside the stock")
            errors["serial"] = (_("Unit %(serial)s is not out on loan (it is in %(location)s): nothing to check in.",
                                  serial=serial, location=where) if units else _("No unit with serial %(serial)s.", serial=serial))
    if not data.condition_in.strip():
        errors["condition_in"] = _("Describe the loaner's condition when it comes back.")
    if data.test_result not in ("pass", "fail"):
        errors["test_result"] = _("Record the check-in test: pass or fail.")
    destination = "pool"
    if data.test_result == "fail":
        if data.destination not in FAIL_DESTINATIONS:
            errors["destination"] = _("A unit that fails the test goes to the bench or to quarantine: choose one.")
        else:
            destination = data.destination
        if not data.test_note.strip():
            errors["test_note"] = _("Say what failed.")
    if errors:
        raise _invalid(errors)
    assert loan is not None
    to_code = POOL if destination == "pool" else FAIL_DESTINATIONS[destination]
    recall = data.recall_ref.strip()[:60]
    async with write_transaction():
        now = utcnow()
        sets = {"returned_at": now, "condition_in": data.condition_in.strip()[:500], "test_result": data.test_result,
                "test_note": data.test_note.strip()[:500], "returned_to": destination, "in_by": actor.user_id,
                "in_by_name": actor.username}
        if recall:
            sets.update(recall_ref=recall, recalled_at=now)
        # compare-and-set on (status out, version): of two check-ins, one wins, the other reads 409
        await move("loan", int(loan["id"]), data.version, LOAN_TRANSITIONS["check_in"], actor=actor, sets=sets,
                   labels=LOAN_LABELS, now=now)
        try:
            await parts.move_serial_unit(actor, int(loan["serial_unit_id"]), to_code, expect_from=AT_CUSTOMER,
                                         kind="loan_back", document_type="loan", document_id=loan["number"],
                                         reason=(data.test_note.strip() or data.condition_in.strip())[:500],
                                         check_roles=False)
        except Exception as exc:
            refusal = _refusal(exc)
            if refusal is None:
                raise
            raise DomainError(refusal.message, errors={"serial": refusal.message}, status=refusal.status) from None
        await record(actor, "loan.checked_in", "loan", loan["id"], before={"status": "out"}, after={
            "status": "returned", "condition_in": data.condition_in.strip(), "test_result": data.test_result,
            "returned_to": destination, "test_note": data.test_note.strip(), "recall_ref": recall})
    return int(loan["id"])


# --------------------------------------------------------------------------- notice recall, case finished, conversion

async def _edit(loan_id: int, version: int | None, sets: dict, *, statuses: tuple[str, ...]) -> dict:
    """A versioned edit of a loan in one of `statuses` (compare-and-set; Stale 409 / 404). Returns the loan as it was."""
    loan = await get_loan(loan_id)
    if loan is None:
        raise not_found(_("No such loan."))
    marks = ", ".join("{}" for _s in statuses)
    await update_versioned("loan", int(loan_id), version, sets, where=f"status IN ({marks})", where_args=statuses)
    return loan


async def recall_notice(actor: Actor, loan_id: int, dispatch_ref: str, *, version: int | None = None) -> None:
    """R-LOAN-01: the notice is recalled through the dispatch slip that reinstalled the customer's unit."""
    _allow(actor, "loaners.follow_up")
    ref = (dispatch_ref or "").strip()[:60]
    if not ref:
        raise DomainError(_("Enter the dispatch slip that reinstalled the customer's unit."), field="recall_ref")
    async with write_transaction():
        loan = await _edit(loan_id, version, {"recall_ref": ref, "recalled_at": utcnow()},
                           statuses=tuple(str(x) for x in RECALLABLE))
        await record(actor, "loan.notice_recalled", "loan", loan_id, before={"recall_ref": loan["recall_ref"]},
                     after={"recall_ref": ref})


async def mark_case_finished(actor: Actor, loan_id: int, *, version: int | None = None) -> None:
    """The linked case is finished while the loaner is still out: it moves to the follow-up list."""
    _allow(actor, "loaners.follow_up")
    async with write_transaction():
        await _edit(loan_id, version, {"case_finished_at": utcnow()}, statuses=(str(LoanStatus.OUT),))
        await record(actor, "loan.case_finished", "loan", loan_id)


async def note_case_finished(case_type: str, *, case_id: int | None = None, case_ref: str = "") -> int:
    """For other domains (RMA shipped/closed, ticket completed): open loans of that case join the
    "case finished, loaner still out" list. Joins the caller's transaction. Returns loans marked."""
    if case_id is not None:
        rows = await fetch("UPDATE loan SET case_finished_at = {} WHERE status = 'out' AND case_finished_at IS NULL "
                           "AND case_type = {} AND case_id = {} RETURNING id", utcnow(), case_type, case_id)
    else:
        rows = await fetch("UPDATE loan SET case_finished_at = {} WHERE status = 'out' AND case_finished_at IS NULL "
                           "AND case_type = {} AND case_ref = {} RETURNING id", utcnow(), case_type, case_ref)
    return len(rows)


async def on_rma_finished(rma_id: int) -> object:
    return await note_case_finished("rma", case_id=rma_id)



async def convert_to_permanent(actor: Actor, loan_id: int, *, approval_ref: str, note: str = "",
                               version: int | None = None) -> None:
    """R-SCR-01: the loaner becomes the customer's unit (e.g. after a scrap approval of theirs);
    the notice is annotated as a permanent replacement.

    Side effects: loan out → converted (compare-and-set); the unit leaves the stock from CUSTOMER
    (`issue` ledger row, document = the notice); the unit is registered as the customer's device
    (customers domain) when its serial is not registered yet; audit `loan.converted`.
    """
    _allow(actor, "loaners.keep")
    ref = (approval_ref or "").strip()[:60]
    if not ref:
        raise DomainError(_("Enter the approval (e.g. the scrap record number) behind the permanent replacement."),
                          field="approval_ref")
    loan = await get_loan(loan_id)
    if loan is None:
        raise not_found(_("No such loan."))
    if loan["status"] != "out":
        raise DomainError(_("Only a loaner that is out at the customer can become the customer's unit."), status=409)
    async with write_transaction():
        await move("loan", int(loan_id), version, LOAN_TRANSITIONS["convert"], actor=actor, labels=LOAN_LABELS,
                   sets={"converted_at": utcnow(), "conversion_ref": ref, "conversion_note": (note or "").strip()[:500],
                         "converted_by_name": actor.username})
        try:
            await parts.move_serial_unit(actor, int(loan["serial_unit_id"]), None, expect_from=AT_CUSTOMER, kind="issue",
                                         document_type="loan", document_id=loan["number"],
                                         reason=_("Permanent replacement (%(ref)s)", ref=ref)[:500], check_roles=False)
        except Exception as exc:
            refusal = _refusal(exc)
            if refusal is None:
                raise
            raise DomainError(refusal.message, status=refusal.status) from None
        device_id = await _register_device(actor, loan)
        await record(actor, "loan.converted", "loan", loan_id, before={"status": "out"},
                     after={"status": "converted", "approval_ref": ref, "note": note, "device_id": device_id})


async def _register_device(actor: Actor, loan: dict) -> int | None:
    if await customers.lookup_device(loan["serial"]) is not None:
        return None
    data = customers.DeviceInput(serial=loan["serial"], product_name=loan["part_name"][:200], model=loan["model"],
                                 customer_id=str(loan["customer_id"]), site="",
                                 notes=_("Permanent replacement from loan %(number)s", number=loan["number"]))
    try:
        return await customers.create_device(actor, data)
    except Exception as exc:
        if _refusal(exc) is None:
            raise
        return None  # a serial the device register refuses stays on the notice only


# --------------------------------------------------------------------------- requests (desk → keeper)

async def create_request(actor: Actor, data: RequestInput) -> int:
    """The desk asks the keeper for a loaner (the keeper fulfils it with a check-out)."""
    _allow(actor, "loaners.request")
    errors: dict[str, str] = {}
    fake = CheckoutInput(case_type=data.case_type, case_id=data.case_id, case_ref=data.case_ref, reason=data.reason)
    case_id, case_ref, case_customer = await _validate_case(fake, errors)
    raw = str(data.customer_id or "").strip() or (str(case_customer) if case_customer else "")
    customer = await fetch("SELECT id, name FROM customer WHERE id = {}", int(raw)) if raw.isdigit() else []
    if not customer:
        errors["customer_id"] = _("Choose the customer.")
    try:
        needed = parse_date(data.needed_by)
        if needed is not None and needed < today():
            errors["needed_by"] = _("The date cannot be in the past.")
    except (ValueError, TypeError):
        needed = None
        errors["needed_by"] = _("Enter a date (YYYY-MM-DD).")
    rule = data.trigger_rule if data.trigger_rule in triggers.RULES else ""
    part_id = None
    model = data.model.strip()[:100]
    if model:
        hit = await fetch("SELECT id, model FROM part WHERE model = {} OR part_no = {} ORDER BY id LIMIT 1", model, model)
        if hit:
            part_id, model = hit[0]["id"], hit[0]["model"] or model
    if errors:
        raise _invalid(errors)
    async with write_transaction():
        now = utcnow()
        rows = await fetch(
            "INSERT INTO loan_request (status, customer_id, case_type, case_id, case_ref, part_id, model, trigger_rule, "
            "reason, needed_by, requested_by, requested_by_name, version, created_at, updated_at) VALUES "
            "('open', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 1, {}, {}) RETURNING id",
            customer[0]["id"], data.case_type, case_id, case_ref, part_id, model, rule, data.reason.strip(), needed,
            actor.user_id, actor.username, now, now)
        request_id = int(rows[0]["id"])
        if rule:
            await _record_trigger(actor, data.case_type, case_id, case_ref or data.reason.strip()[:60], rule, now, None,
                                  "", customer[0]["id"])
        await record(actor, "loan_request.created", "loan_request", request_id, after={
            "customer_id": customer[0]["id"], "case": f"{data.case_type}:{case_id or case_ref}", "model": model,
            "trigger_rule": rule, "reason": data.reason.strip()})
    return request_id


async def cancel_request(actor: Actor, request_id: int) -> None:
    """The requester withdraws their own request; the keeper (or manager) may cancel any."""
    _allow(actor, "loaners.request")
    async with write_transaction():
        rows = await fetch("SELECT status, requested_by FROM loan_request WHERE id = {}", request_id)
        if not rows or rows[0]["status"] != "open":
            raise DomainError(_("This request is no longer open."), status=409)
        if not can(actor, "loaners.keep") and rows[0]["requested_by"] != actor.user_id:
            raise refused(_("Only the person who asked, or the warehouse keeper, can cancel this request."))
        try:
            await move("loan_request", request_id, None, REQUEST_TRANSITIONS["cancel"], actor=actor,
                       labels=REQUEST_LABELS, check_perm=False)
        except DomainError as exc:
            if exc.status not in (404, 409):
                raise
            raise DomainError(_("This request is no longer open."), status=409) from None
        await record(actor, "loan_request.cancelled", "loan_request", request_id)


async def get_request(request_id: Any) -> dict | None:
    try:
        rid = int(request_id)
    except (TypeError, ValueError):
        return None
    rows = await fetch("SELECT r.*, c.name AS customer_name FROM loan_request r JOIN customer c ON c.id = r.customer_id "
                       "WHERE r.id = {}", rid)
    if not rows:
        return None
    row = rows[0]
    row["case_label"] = case_label(row["case_type"], row["case_id"], row["case_ref"])
    return row


async def open_requests(limit: int = 50) -> list[dict]:
    rows = await fetch("SELECT r.*, c.name AS customer_name FROM loan_request r JOIN customer c ON c.id = r.customer_id "
                       f"WHERE r.status = 'open' ORDER BY r.id LIMIT {int(limit)}")
    for r in rows:
        r["case_label"] = case_label(r["case_type"], r["case_id"], r["case_ref"])
    return rows


async def open_request_count() -> int:
    return int((await fetch("SELECT COUNT(*) AS n FROM loan_request WHERE status = 'open'"))[0]["n"])


# --------------------------------------------------------------------------- triggers (R-LOAN-02)

async def _record_trigger(actor: Actor, case_type: str, case_id: int | None, case_ref: str, rule: str,
                          fired_at: dt.datetime, due_at: dt.datetime | None, detail: str, customer_id: int | None) -> bool:
    """Store a fired rule once per (case, rule); True when it was new."""
    rows = await fetch(
        "INSERT INTO loan_trigger (case_type, case_id, case_ref, rule, fired_at, due_at, detail, customer_id, recorded_by, "
        "recorded_by_name, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (case_type, case_ref, rule) DO NOTHING RETURNING id",
        case_type, case_id, (case_ref or str(case_id or ""))[:60], rule, fired_at, due_at, detail, customer_id,
        actor.user_id, actor.username, utcnow())
    return bool(rows)


async def record_triggers(actor: Actor, case_type: str, case_id: int | None, case_ref: str,
                          hits: list[triggers.TriggerHit], customer_id: int | None = None) -> int:
    """Store the rules that fired for a case (once per rule); returns how many were given."""
    async with write_transaction():
        new = [hit.rule for hit in hits if await _record_trigger(
            actor, case_type, case_id, case_ref, hit.rule, hit.fired_at, hit.due_at,
            json.dumps({"elapsed_hours": hit.elapsed_hours, "limit_hours": hit.limit_hours}), customer_id)]
        if new:
            await record(actor, "loan_trigger.recorded", case_type, case_id or case_ref,
                         after={"rules": new, "case_ref": case_ref})
    return len(new)


async def triggers_for_case(case_type: str, case_id: int | None, facts: dict | None = None) -> list[triggers.TriggerHit]:
    """Evaluate R-LOAN-02 for a case: the RMA record when the RMA module is there, or the given facts."""
    record_ = dict(facts or {})
    if case_type == "rma" and case_id is not None and not record_:
        record_ = await get_rma(case_id) or {}
    return triggers.evaluate(triggers.facts_from_record(record_, utcnow()), await thresholds())


async def recorded_triggers(case_type: str, case_ref: str) -> list[dict]:
    return await fetch("SELECT * FROM loan_trigger WHERE case_type = {} AND case_ref = {} ORDER BY fired_at",
                       case_type, case_ref)


# --------------------------------------------------------------------------- the customer/case picker

async def pick(q: str, limit: int = 8) -> list[dict]:
    """The check-out form's one search box: a customer's device serial, an RMA number, or a customer
    (name / phone / contact). Each option carries customer and case to fill in."""
    q = (q or "").strip()
    if not q:
        return []
    options: list[dict] = []
    device = await customers.lookup_device(q)
    if device is not None:
        options.append({"customer_id": device["customer_id"], "customer_name": device["customer_name"], "case_type": "",
                        "case_id": "", "case_ref": "", "device_serial": device["serial"],
                        "label": _("Device %(serial)s (%(model)s) of %(name)s", serial=device["serial"],
                                   model=device["model"], name=device["customer_name"])})
    module = _rma_services()
    if module is not None and hasattr(module, "rma_options_for_loan"):
        for r in (await module.rma_options_for_loan(q))[:limit]:
            r = r if isinstance(r, dict) else dict(getattr(r, "__dict__", {}))
            options.append({"customer_id": r.get("customer_id") or "", "customer_name": r.get("customer_name", ""),
                            "case_type": "rma", "case_id": r.get("id") or r.get("rma_id") or "",
                            "case_ref": r.get("number", ""), "device_serial": r.get("serial") or r.get("device_serial") or "",
                            "label": r.get("label") or _("Return repair %(number)s · %(name)s",
                                                         number=r.get("number", ""), name=r.get("customer_name", ""))})
    for c in await customers.search_customers(q, limit=limit):
        options.append({"customer_id": c["id"], "customer_name": c["name"], "case_type": "", "case_id": "", "case_ref": "",
                        "device_serial": "", "label": c["name"] + (f" · {c['phone']}" if c.get("phone") else "")})
    return options[:limit]

"""Loaner reads: loans, the pool and its availability, lists, overdue, requests, the closing rule."""

from __future__ import annotations

import time
from typing import Any

import app.parts.api as parts
from app.core.dates import as_date, today
from app.core.db import fetch, utcnow, write_transaction
from app.core.hooks import Blocker
from app.core.i18n import _
from app.core.rows import update
from app.loaners.services import _base
from app.loaners.services._base import POOL, _local, case_label, case_url, get_rma
from app.loaners.tables import Loan

# --------------------------------------------------------------------------- reads

# pages show people's names. Rows booked before names were stored hold a username: the person's
# name is read from the shared app_user table (a read-only join) and wins when it is set.
_OUT_BY = " LEFT JOIN app_user ou ON ou.id = l.out_by"


def _names(row: dict) -> dict:
    for key in ("out_by", "in_by", "requested_by", "recorded_by"):
        full = row.pop(f"{key}_full", None)
        if full:
            row[f"{key}_name"] = full
    return row


async def pool_location_id() -> int:
    return await parts.location_id(POOL)


async def get_loan(loan_id: Any) -> dict | None:
    try:
        lid = int(loan_id)
    except (TypeError, ValueError):
        return None
    rows = await fetch(
        "SELECT l.*, p.part_no, p.name AS part_name, c.address AS customer_address, c.phone AS customer_phone, "
        "ou.full_name AS out_by_full, iu.full_name AS in_by_full "
        "FROM loan l JOIN part p ON p.id = l.part_id JOIN customer c ON c.id = l.customer_id" + _OUT_BY
        + " LEFT JOIN app_user iu ON iu.id = l.in_by WHERE l.id = {}", lid)
    if not rows:
        return None
    loan = _names(rows[0])
    loan["case_label"] = case_label(loan["case_type"], loan["case_id"], loan["case_ref"])
    loan["case_url"] = case_url(loan["case_type"], loan["case_id"])
    loan["overdue"] = loan["status"] == "out" and as_date(loan["expected_return"]) < today()
    return loan


async def loan_by_number(number: str) -> dict | None:
    """The loan with this notice number (BP-…, case-insensitive), as get_loan() gives it; None when unknown."""
    rows = await fetch("SELECT id FROM loan WHERE number = {}", (number or "").strip().upper())
    return await get_loan(rows[0]["id"]) if rows else None


async def customer_brief(customer_id: int) -> dict | None:
    """Name, address and phone of a customer for the forms (a read of the shared customer table)."""
    rows = await fetch("SELECT id, name, address, phone FROM customer WHERE id = {}", int(customer_id))
    return rows[0] if rows else None


async def open_loan_for_unit(unit_id: int) -> dict | None:
    rows = await fetch("SELECT l.*, ou.full_name AS out_by_full FROM loan l" + _OUT_BY
                       + " WHERE l.serial_unit_id = {} AND l.status = 'out'", unit_id)
    return _names(rows[0]) if rows else None


async def find_units(serial: str) -> list[dict]:
    """Units with this serial, with part, model and location (the parts domain's read, plus the model)."""
    units = await parts.find_units(serial)
    for unit in units:
        if "model" not in unit:
            part = await parts.get_part(unit["part_id"])
            unit["model"] = part["model"] if part else None
    return units


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
                "l.returned_to, l.case_finished_at, l.recall_ref, ou.full_name AS out_by_full FROM loan l" + _OUT_BY)


def _decorate(rows: list[dict]) -> list[dict]:
    now = today()
    for r in rows:
        _names(r)
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
    if _base._rma_services() is None:
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
        done = await update(Loan, (Loan.status == "out") & Loan.case_finished_at.is_null() & Loan.id.is_in(list(finished)),
                            returning=Loan.id, case_finished_at=utcnow())
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


async def open_loan_by_serial(serial: str) -> dict | None:
    rows = await fetch("SELECT id FROM loan WHERE serial = {} AND status = 'out' ORDER BY id", (serial or "").strip())
    return await get_loan(rows[0]["id"]) if len(rows) == 1 else None


async def get_request(request_id: Any) -> dict | None:
    try:
        rid = int(request_id)
    except (TypeError, ValueError):
        return None
    rows = await fetch("SELECT r.*, c.name AS customer_name, ru.full_name AS requested_by_full FROM loan_request r "
                       "JOIN customer c ON c.id = r.customer_id LEFT JOIN app_user ru ON ru.id = r.requested_by "
                       "WHERE r.id = {}", rid)
    if not rows:
        return None
    row = _names(rows[0])
    row["case_label"] = case_label(row["case_type"], row["case_id"], row["case_ref"])
    return row


async def open_requests(limit: int = 50) -> list[dict]:
    rows = await fetch("SELECT r.*, c.name AS customer_name, ru.full_name AS requested_by_full FROM loan_request r "
                       "JOIN customer c ON c.id = r.customer_id LEFT JOIN app_user ru ON ru.id = r.requested_by "
                       f"WHERE r.status = 'open' ORDER BY r.id LIMIT {int(limit)}")
    for r in rows:
        _names(r)
        r["case_label"] = case_label(r["case_type"], r["case_id"], r["case_ref"])
    return rows


async def open_request_count() -> int:
    return int((await fetch("SELECT COUNT(*) AS n FROM loan_request WHERE status = 'open'"))[0]["n"])


async def recorded_triggers(case_type: str, case_ref: str) -> list[dict]:
    rows = await fetch("SELECT t.*, ru.full_name AS recorded_by_full FROM loan_trigger t "
                       "LEFT JOIN app_user ru ON ru.id = t.recorded_by WHERE t.case_type = {} AND t.case_ref = {} "
                       "ORDER BY t.fired_at", case_type, case_ref)
    return [_names(r) for r in rows]

"""Stages, small helpers, settings and reads shared by the bench services."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any

from app.core.actor import Actor
from app.core.audit.services import record
from app.core.db import fetch, write_transaction
from app.core.errors import DomainError, fix
from app.core.i18n import _, lazy_gettext as _l, tz
from app.core.money import from_fen
from app.core.permissions import require
from app.core.rows import insert, update
from app.core.settings import setting
from app.rma.status import CLOCK, FINISHED, LABELS, ON_BENCH, OPEN, QUOTE_LABELS, REPLACEMENT_LABELS, TRANSITIONS
from app.rma.tables import RmaBurnIn

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




def as_dt(value: Any) -> dt.datetime | None:
    """Timestamps come back as datetime (PostgreSQL, SQLite typed columns) or text (SQLite expressions)."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    text = str(value).replace("T", " ")
    parsed = dt.datetime.fromisoformat(text)
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


def month_day_time(moment: dt.datetime) -> str:
    """"MM-DD HH:MM" without strftime: datetime.strftime goes through the C library's strftime, which re-reads
    the time zone on every call (~100 µs each here) — the board formats a few hundred of these per page (#15)."""
    return f"{moment.month:02d}-{moment.day:02d} {moment.hour:02d}:{moment.minute:02d}"


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
        done = await update(RmaBurnIn, RmaBurnIn.model == model, returning=RmaBurnIn.id, hours=value)
        if not done:
            await insert(RmaBurnIn, model=model, hours=value)
        await record(actor, "rma.burn_in_set", "rma_burn_in", model, after={"model": model, "hours": value})


async def burn_in_table() -> list[dict]:
    return await fetch("SELECT model, hours FROM rma_burn_in ORDER BY model")


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


async def rma_by_number(number: str) -> dict | None:
    """The RMA numbered `number` (as stored: upper case), as get_rma() gives it; None when unknown."""
    rows = await fetch("SELECT id FROM rma WHERE number = {}", (number or "").strip().upper())
    return await get_rma(rows[0]["id"]) if rows else None


async def rmas_for_ticket(ticket_number: str) -> list[dict]:
    """The bench intakes a service ticket sent (#13: "needs return repair"), newest first, with their stage."""
    number = (ticket_number or "").strip().upper()
    if not number:
        return []
    rows = await fetch("SELECT id, number, status, serial, received_at, closed_at FROM rma WHERE ticket_number = {} "
                       "ORDER BY id DESC LIMIT 20", number)
    for row in rows:
        row["status_label"] = str(STATUSES.get(row["status"], row["status"]))
        row["open"] = row["status"] != "closed"
    return rows


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


# Stages where a part may be issued to the unit (#12 item 2): from QC until the repair is recorded.
PARTS_STATUSES = ("registered", "waiting", "repairing")


async def open_for_parts(q: str = "", limit: int = 50) -> list[dict]:
    """The case finder for "rma" (core hooks): RMAs a keeper may issue a part to, newest first, as
    {"id", "number", "label"} — the picker on the part page and the check of a typed number."""
    q = (q or "").strip().upper()
    args: list[Any] = list(PARTS_STATUSES)
    where = "status IN ({}, {}, {})"
    if q:
        where += " AND (UPPER(number) LIKE {} OR serial LIKE {})"
        args += [f"%{q}%", f"%{q}%"]
    rows = await fetch(f"SELECT id, number, serial, model, customer_name FROM rma WHERE {where} "
                       f"ORDER BY id DESC LIMIT {int(limit)}", *args)
    return [{"id": int(r["id"]), "number": r["number"],
             "label": " · ".join(x for x in (r["number"], r["model"], r["customer_name"]) if x)} for r in rows]


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

"""Receivables services (SPEC §H, R-AR-01…04): receivable lines posted by any domain, sales
confirmations, month-end statements (draft → review → check → sent → settled), payments with
allocations (part payments; never above the open amount; exact to the fen; a one-time token so a
double submit books once), retail due dates in working days, extension requests, the per-technician
sales ledger with its weekly reconciliation, the Monday overdue review, and ageing.
Payments live in app.ledger.payments, reads and reports in app.ledger.ar_reports (re-exported here).
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.core.audit.services import Actor, record
from app.core.numbers import attach_entity, next_number
from app.core.rows import insert
from app.core.db import fetch, utcnow
from app.core.i18n import _
from app.core.errors import DomainError, not_found
from app.core.status import move, update_versioned
from app.ledger.status import EXTENSION_TRANSITIONS, STATEMENT_LABELS, STATEMENT_STAMPS, STATEMENT_TRANSITIONS
from app.core.dates import as_date, today
from app.core.db import is_unique_violation
from app.ledger.common import ledger_setting, ledger_tx, require, month_bounds, user_row, week_start
from app.core.money import from_fen, to_fen
from app.ledger.ar_reports import (ageing, get_receivable, get_statement, list_extensions,  # noqa: F401
                                   list_receivables, list_statements, overdue_review, panel_counts,
                                   recent_sales_confirmations, status_label, technician_ledger, technicians)
from app.ledger import workdays
from app.ledger.payments import new_token, record_payment  # noqa: F401 (this module's public names)
from app.ledger.status import ACCOUNT_CLASSES as CLASSES
from app.ledger.status import METHODS  # noqa: F401
from app.ledger.tables import ArExtension, ArStatement, ArWeekCheck, Receivable, SalesConfirmation

BUCKETS = ("0-30", "31-60", "61-90", "90+")


def _stale(message: str = "") -> DomainError:
    return DomainError(message or _("Someone else changed this meanwhile. Reload and try again."), status=409)


# ---------------------------------------------------------------- working days

async def add_working_days(start: dt.date, n: int) -> dt.date:
    """The date `n` working days after `start`: the official calendar (chinesecalendar: public holidays and
    make-up working days) with the rows of work_calendar as overrides (app.ledger.workdays)."""
    return await workdays.add_working_days(start, n)


async def retail_due(posted_on: dt.date) -> dt.date:
    """R-AR-02: retail sales are paid within 7 working days (setting ledger.retail_due_working_days)."""
    days = await ledger_setting("ledger.retail_due_working_days")
    return await add_working_days(posted_on, days)


# ---------------------------------------------------------------- posting (any domain)

async def post_receivable(actor: Actor, source_type: str, source_id: str | int, customer_id: int | None,
                          customer_name: str, account_class: str, amount: Decimal, description: str,
                          technician_user_id: int | None, due_date: dt.date | None = None, *,
                          posted_on: dt.date | None = None) -> int:
    """Post one receivable line; the entry point for every domain (tickets: service charge, bench: repair charge).

    Joins the caller's write transaction when `app.core.db.in_transaction()`, else opens its own.
    Retail lines without a due date are due `ledger.retail_due_working_days` working days after posting;
    monthly lines get their due date when their statement is sent.
    Side effects: receivable row; audit `receivable.posted`. Returns the receivable id.
    """
    errors: dict[str, str] = {}
    source_type = (source_type or "").strip() or "manual"
    customer_name = (customer_name or "").strip()
    if not customer_name:
        errors["customer_name"] = _("Enter the customer.")
    if account_class not in CLASSES:
        errors["account_class"] = _("Choose monthly-settled or retail.")
    try:
        fen = to_fen(amount)
    except Exception:
        fen = 0
        errors["amount"] = _("Enter an amount such as 1234.50.")
    if "amount" not in errors and fen <= 0:
        errors["amount"] = _("The amount must be greater than zero.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    posted = posted_on or today()
    async with ledger_tx(joined=True):
        if due_date is None and account_class == "retail":
            due_date = await retail_due(posted)
        now = utcnow()
        rid = await insert(
            Receivable, returning=Receivable.id, source_type=source_type[:30], source_id=str(source_id or "")[:40],
            customer_id=customer_id, customer_name=customer_name[:200], account_class=account_class,
            technician_user_id=technician_user_id, description=(description or "").strip()[:300], amount_fen=fen,
            paid_fen=0, is_open=True, posted_on=posted, due_date=due_date, created_by=actor.user_id, version=1,
            created_at=now, updated_at=now)
        await record(actor, "receivable.posted", "receivable", rid,
                     after={"source": f"{source_type}:{source_id}", "customer": customer_name, "class": account_class,
                            "amount": str(from_fen(fen)), "due_date": due_date})
    return rid


async def register_sales_confirmation(actor: Actor, *, customer_name: str, customer_id: int | None,
                                      account_class: str, technician_user_id: int | None, amount: Any,
                                      description: str, sold_on: dt.date | None) -> tuple[int, str]:
    """R-AR-01: the coordinator (desk) registers a returned sales confirmation (送货联): it gets the next
    XS-number and posts its receivable line. Returns (id, number)."""
    require(actor, "ledger.receivables.register")
    errors: dict[str, str] = {}
    if sold_on is None:
        errors["sold_on"] = _("Enter the date of the sale.")
    elif sold_on > today():
        errors["sold_on"] = _("The sale date cannot be in the future.")
    if not technician_user_id:
        errors["technician_user_id"] = _("Choose the technician who made the sale.")
    if not (customer_name or "").strip():
        errors["customer_name"] = _("Enter the customer.")
    if account_class not in CLASSES:
        errors["account_class"] = _("Choose monthly-settled or retail.")
    try:
        fen = to_fen(amount)
        if fen <= 0:
            errors["amount"] = _("The amount must be greater than zero.")
    except Exception:
        fen = 0
        errors["amount"] = _("Enter an amount such as 1234.50.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with ledger_tx():
        number = await next_number("sales_confirmation", entity_type="sales_confirmation", today=sold_on)
        sid = await insert(
            SalesConfirmation, returning=SalesConfirmation.id, number=number.formatted, customer_id=customer_id,
            customer_name=customer_name.strip()[:200], account_class=account_class,
            technician_user_id=technician_user_id, description=(description or "").strip()[:300], amount_fen=fen,
            sold_on=sold_on, registered_by=actor.user_id, created_at=utcnow())
        await attach_entity("sales_confirmation", number.formatted, sid)
        await post_receivable(actor, "sales_confirmation", number.formatted, customer_id, customer_name,
                              account_class, from_fen(fen), description or number.formatted, technician_user_id,
                              posted_on=sold_on)
        await record(actor, "sales_confirmation.registered", "sales_confirmation", sid,
                     after={"number": number.formatted, "customer": customer_name, "amount": str(from_fen(fen))})
    return sid, number.formatted


async def post_manual(actor: Actor, **kwargs: Any) -> int:
    """Finance posts a line by hand (a charge from paper, before its domain exists)."""
    require(actor, "ledger.receivables.manage")
    return await post_receivable(actor, "manual", kwargs.pop("source_id", ""), **kwargs)


# ---------------------------------------------------------------- statements (R-AR-02)

async def statement_candidates(month: str) -> list[dict]:
    """Monthly-settled customers with open lines not yet on a statement, posted up to the month's end."""
    _start, end = month_bounds(month)
    return await fetch(
        "SELECT customer_name, MAX(customer_id) AS customer_id, COUNT(*) AS lines, SUM(amount_fen - paid_fen) AS open_fen, "
        "MIN(posted_on) AS first_on FROM receivable WHERE account_class = 'monthly' AND is_open = true "
        "AND statement_id IS NULL AND posted_on <= {} GROUP BY customer_name ORDER BY customer_name LIMIT 500", end)


async def draft_statement(actor: Actor, customer_name: str, month: str) -> int:
    """R-AR-02: the coordinator (desk) drafts the month-end statement of a monthly-settled customer: every
    open line not yet on a statement, posted up to the month's end. Numbered from the `statement` series.
    Side effects: ar_statement + lines, receivable.statement_id; audit `statement.drafted`."""
    require(actor, "ledger.receivables.register")
    try:
        start, end = month_bounds(month)
    except (ValueError, TypeError):
        raise DomainError(_("Choose the month."), errors={"month": _("Use the format YYYY-MM.")}) from None
    customer_name = (customer_name or "").strip()
    if not customer_name:
        raise DomainError(_("Choose the customer."), errors={"customer_name": _("Choose the customer.")})
    async with ledger_tx():
        lines = await fetch(
            "SELECT id, customer_id, amount_fen, paid_fen, description, posted_on FROM receivable WHERE customer_name = {} "
            "AND account_class = 'monthly' AND is_open = true AND statement_id IS NULL AND posted_on <= {} ORDER BY posted_on, id",
            customer_name, end)
        if not lines:
            raise DomainError(_("%(name)s has no open monthly lines to put on a statement.", name=customer_name),
                              errors={"customer_name": _("Nothing to put on a statement.")})
        number = await next_number("statement", entity_type="statement", today=end)
        total = sum(int(r["amount_fen"]) - int(r["paid_fen"]) for r in lines)
        now = utcnow()
        sid = await insert(
            ArStatement, returning=ArStatement.id, number=number.formatted, customer_id=lines[0]["customer_id"],
            customer_name=customer_name, period_start=start, period_end=end, status="draft", total_fen=total,
            paid_fen=0, drafted_by=actor.user_id, drafted_at=now, version=1, created_at=now, updated_at=now)
        await attach_entity("statement", number.formatted, sid)
        for chunk_start in range(0, len(lines), 200):
            chunk = lines[chunk_start:chunk_start + 200]
            # raw-sql: one multi-row INSERT per 200 lines (a statement can carry thousands)
            await fetch(
                "INSERT INTO ar_statement_line (statement_id, receivable_id, amount_fen, description, posted_on) VALUES "
                + ", ".join("({}, {}, {}, {}, {})" for _c in chunk),
                *[v for r in chunk for v in (sid, r["id"], int(r["amount_fen"]) - int(r["paid_fen"]), r["description"],
                                            r["posted_on"])])
            marks = ", ".join("{}" for _c in chunk)
            # raw-sql: links a chunk only while still unlinked (IN list + IS NULL), bumping each version
            linked = await fetch(
                f"UPDATE receivable SET statement_id = {{}}, version = version + 1, updated_at = {{}} "  # cas-ok: links a chunk of lines, each only while still unlinked
                f"WHERE id IN ({marks}) AND statement_id IS NULL RETURNING id", sid, now, *[r["id"] for r in chunk])
            if len(linked) != len(chunk):
                raise _stale(_("Some lines were put on another statement meanwhile. Try again."))
        await record(actor, "statement.drafted", "statement", sid,
                     after={"number": number.formatted, "customer": customer_name, "lines": len(lines),
                            "total": str(from_fen(total))})
    return sid


async def move_statement(actor: Actor, statement_id: int, verb: str, version: int | None, note: str = "") -> str:
    """One transition of the statement workflow (R-AR-02) through core.status.move() (compare-and-set on
    id, status, version): review (manager), check (finance), send (finance; sets the due date of the
    statement and its lines), `return_review` / `return_check` (send back to draft with a note),
    `cancel` (desk/finance, draft only). Of two clerks clicking at once one wins; the other gets 409.
    Returns the new status."""
    t = STATEMENT_TRANSITIONS.get(verb)
    if t is None:
        raise DomainError(_("Unknown action."), status=400)
    if verb == "cancel":
        require(actor, "ledger.receivables.register", "ledger.receivables.manage")
    else:
        require(actor, t.perm)
    now = utcnow()
    sets: dict[str, Any] = {}
    if verb in STATEMENT_STAMPS:
        by_col, at_col = STATEMENT_STAMPS[verb]
        sets = {by_col: actor.user_id, at_col: now}
    elif verb.startswith("return_"):
        if not (note or "").strip():
            raise DomainError(_("Say what must be corrected."), errors={"note": _("Say what must be corrected.")})
        sets = {"note": note.strip()[:300]}
    async with ledger_tx():
        cur = await fetch("SELECT number, status FROM ar_statement WHERE id = {}", statement_id)
        if not cur:
            raise not_found(_("No such statement."))
        st = cur[0]
        if verb == "send":
            sets["due_on"] = today() + dt.timedelta(days=await ledger_setting("ledger.monthly_due_days"))
        try:
            await move("ar_statement", statement_id, version, t, actor=actor, sets=sets, note=note or "", now=now,
                       labels=STATEMENT_LABELS, check_perm=False)
        except DomainError as exc:
            if exc.status != 409:
                raise
            raise DomainError(_("Statement %(n)s changed meanwhile (now: %(s)s). Reload and try again.",
                                n=st["number"], s=status_label((exc.current or {}).get("status") or st["status"])),
                              status=409, current=exc.current) from exc
        dst = t.to
        if verb == "send":
            # raw-sql: relative version bump on every line of the statement
            await fetch("UPDATE receivable SET due_date = {}, version = version + 1, updated_at = {} "  # cas-ok: every line of the statement in one statement
                        "WHERE statement_id = {} AND due_date IS NULL", sets["due_on"], now, statement_id)
        if verb == "cancel":
            # raw-sql: relative version bump on every line of the statement
            await fetch("UPDATE receivable SET statement_id = NULL, version = version + 1, updated_at = {} "  # cas-ok: unlinks every line of the statement at once
                        "WHERE statement_id = {}", now, statement_id)
            await fetch("DELETE FROM ar_statement_line WHERE statement_id = {}", statement_id)
        await record(actor, f"statement.{verb}", "statement", statement_id,
                     before={"status": st["status"]}, after={"status": dst, "note": note or None})
    return dst

# ---------------------------------------------------------------- extensions (R-AR-03)

async def request_extension(actor: Actor, receivable_id: int, *, reason: str, requested_due_date: dt.date | None) -> int:
    """R-AR-03: a written request to extend the due date of a line the client pays late."""
    require(actor, "ledger.extensions.request")
    errors: dict[str, str] = {}
    rows = await fetch("SELECT * FROM receivable WHERE id = {}", receivable_id)
    if not rows:
        raise not_found(_("No such receivable."))
    line = rows[0]
    if not (reason or "").strip():
        errors["reason"] = _("Give the client's reason for paying late.")
    current = as_date(line["due_date"])
    if requested_due_date is None:
        errors["requested_due_date"] = _("Enter the new due date.")
    elif requested_due_date <= max(current or today(), today()):
        errors["requested_due_date"] = _("The new due date must be later than the current one and today.")
    if not line["is_open"]:
        errors["reason"] = _("This line is paid.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    already = DomainError(_("An extension request for this line is already waiting."), errors={"reason": _("Already requested.")})
    try:
        async with ledger_tx():
            pending = await fetch("SELECT id FROM ar_extension WHERE receivable_id = {} AND status = 'pending'", receivable_id)
            if pending:
                raise already
            # The partial unique index ar_extension_one_pending settles a race the check above cannot.
            ext_id = await insert(
                ArExtension, returning=ArExtension.id, receivable_id=receivable_id, reason=reason.strip()[:300],
                old_due_date=current, requested_due_date=requested_due_date, status="pending",
                requested_by=actor.user_id, version=1, created_at=utcnow())
            await record(actor, "extension.requested", "ar_extension", ext_id,
                         after={"receivable_id": receivable_id, "to": requested_due_date, "reason": reason})
    except Exception as exc:
        if is_unique_violation(exc):
            raise already from None
        raise
    return ext_id


async def decide_extension(actor: Actor, extension_id: int, approve: bool, *, note: str = "", version: int | None = None) -> None:
    """R-AR-03: the manager (or GM office) approves or rejects; approval moves the line's due date."""
    require(actor, "ledger.extensions.decide")
    async with ledger_tx():
        t = EXTENSION_TRANSITIONS["approve" if approve else "reject"]
        try:
            row = await move("ar_extension", extension_id, version, t, actor=actor, stamp=False, note=note or "",
                             sets={"decided_by": actor.user_id, "decided_at": utcnow(),
                                   "decision_note": (note or "").strip()[:300]},
                             returning="receivable_id, requested_due_date", check_perm=False)
        except DomainError as exc:
            if exc.status != 409:
                raise
            raise _stale(_("This request was decided meanwhile.")) from exc
        rows = [row]
        if approve:
            await update_versioned("receivable", row["receivable_id"], None,
                                   {"due_date": row["requested_due_date"], "extended": True}, returning="id")
        await record(actor, "extension.approved" if approve else "extension.rejected", "ar_extension", extension_id,
                     after={"receivable_id": rows[0]["receivable_id"], "note": note})


# ---------------------------------------------------------------- technician ledger (R-AR-04)

async def check_week(actor: Actor, technician_user_id: int, week: dt.date, note: str = "") -> None:
    """R-AR-04: the coordinator and the technician reconcile the week's sales (Friday/Saturday)."""
    require(actor, "ledger.receivables.register")
    if await user_row(technician_user_id) is None:  # a clear 400, not a NOT NULL crash or a row for nobody
        raise DomainError(_("Choose a technician."), errors={"tech": _("Choose a technician.")})
    start = week_start(week)
    end = start + dt.timedelta(days=6)
    async with ledger_tx():
        agg = await fetch("SELECT COUNT(*) AS n, SUM(amount_fen) AS fen FROM receivable WHERE technician_user_id = {} "
                          "AND posted_on >= {} AND posted_on <= {}", technician_user_id, start, end)
        try:
            await insert(ArWeekCheck, technician_user_id=technician_user_id, week_start=start,
                         line_count=int(agg[0]["n"] or 0), total_fen=int(agg[0]["fen"] or 0), checked_by=actor.user_id,
                         note=(note or "").strip()[:300], created_at=utcnow())
        except Exception as exc:
            if is_unique_violation(exc):
                raise _stale(_("This week is already reconciled.")) from exc
            raise
        await record(actor, "sales_ledger.week_checked", "user", technician_user_id,
                     after={"week": start, "lines": int(agg[0]["n"] or 0), "total": str(from_fen(int(agg[0]["fen"] or 0)))})


async def save_followup(actor: Actor, receivable_id: int, note: str) -> None:
    """R-AR-04: the manager's Monday review notes why an overdue line is unpaid and what is done."""
    require(actor, "ledger.overdue.followup")
    note = (note or "").strip()
    if not note:
        raise DomainError(_("Write the follow-up."), errors={"note": _("Write the follow-up.")})
    async with ledger_tx():
        await update_versioned("receivable", receivable_id, None, {"followup_note": note[:300], "followup_at": utcnow()},
                               returning="id")  # no such line: 404
        await record(actor, "receivable.followup", "receivable", receivable_id, after={"note": note})


# ---------------------------------------------------------------- calendar

async def set_calendar_day(actor: Actor, day: dt.date | None, is_working: bool, name: str) -> None:
    require(actor, "ledger.calendar.edit")
    if day is None:
        raise DomainError(_("Enter the date."), errors={"day": _("Enter the date.")})
    async with ledger_tx():
        # raw-sql: ON CONFLICT (day) DO UPDATE — one row per day
        await fetch("INSERT INTO work_calendar (day, is_working, name, updated_at) VALUES ({}, {}, {}, {}) "
                    "ON CONFLICT (day) DO UPDATE SET is_working = excluded.is_working, name = excluded.name, "
                    "updated_at = excluded.updated_at", day, is_working, (name or "").strip()[:100], utcnow())
        await record(actor, "calendar.set", "work_calendar", str(day), after={"working": is_working, "name": name})


async def delete_calendar_day(actor: Actor, day: dt.date) -> None:
    require(actor, "ledger.calendar.edit")
    async with ledger_tx():
        await fetch("DELETE FROM work_calendar WHERE day = {}", day)
        await record(actor, "calendar.removed", "work_calendar", str(day))


async def calendar_days(year: int) -> list[dict]:
    """The exceptions to Monday–Friday in `year`: the official ones (source "official") merged with the
    rows of work_calendar (source "override"; an override replaces the official entry of its day)."""
    rows = await fetch("SELECT day, is_working, name FROM work_calendar WHERE day >= {} AND day <= {} ORDER BY day",
                       dt.date(year, 1, 1), dt.date(year, 12, 31))
    days = {d["day"]: {**d, "source": "official"} for d in workdays.official_days(year)}
    for r in rows:
        day = as_date(r["day"])
        days[day] = {"day": day, "is_working": bool(r["is_working"]), "name": r["name"], "source": "override",
                     "official": days.get(day)}
    return [days[d] for d in sorted(days)]


def calendar_coverage(year: int) -> dict:
    """What the page says about the official calendar: which years it knows, whether `year` is one, and the
    years from today to a year ahead it does not know (retail due dates there count Monday–Friday plus overrides)."""
    now = today()
    return {"first": workdays.FIRST_YEAR, "last": workdays.LAST_YEAR, "version": workdays.LIBRARY_VERSION,
            "year_known": workdays.FIRST_YEAR <= year <= workdays.LAST_YEAR,
            "unknown_ahead": workdays.unknown_years(now, now + dt.timedelta(days=366))}

"""Payments against receivables (SPEC §H R-AR-02): a sent statement or one line, part payments allowed,
never above the open amount, exact to the fen, and a one-time token so a double submit books once."""

from __future__ import annotations

import datetime as dt
import secrets
from typing import Any

from app.core.audit.services import Actor, record
from app.core.dates import today
from app.core.db import fetch, utcnow
from app.core.errors import DomainError, not_found
from app.core.i18n import _
from app.core.money import from_fen, to_fen
from app.core.rows import insert
from app.ledger.ar_reports import status_label
from app.ledger.common import ledger_tx, require
from app.ledger.status import METHODS
from app.ledger.tables import ArAllocation


def new_token() -> str:
    """One-time token a payment form carries (ar_payment.token is UNIQUE)."""
    return secrets.token_urlsafe(18)


def _stale(message: str = "") -> DomainError:
    return DomainError(message or _("Someone else changed this meanwhile. Reload and try again."), status=409)


def _money(fen: int) -> str:
    from app.core.i18n import format_money

    return format_money(from_fen(fen))


def _checked_fen(token: str, amount: Any, received_on: dt.date | None, method: str, statement_id: int | None,
                 receivable_id: int | None) -> int:
    """The form's rules; returns the amount in fen or raises 400 (field errors)."""
    errors: dict[str, str] = {}
    if not token or len(token) > 64:
        raise DomainError(_("This form has expired; reload the page."), status=400)
    try:
        fen = to_fen(amount)
        if fen <= 0:
            errors["amount"] = _("The amount must be greater than zero.")
    except Exception:
        fen = 0
        errors["amount"] = _("Enter an amount such as 1234.50.")
    if received_on is None:
        errors["received_on"] = _("Enter the date the money was received.")
    elif received_on > today():
        errors["received_on"] = _("The date cannot be in the future.")
    if method not in METHODS:
        errors["method"] = _("Choose how the money was paid.")
    if bool(statement_id) == bool(receivable_id):
        raise DomainError(_("A payment is for one statement or one line."), status=400)
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    return fen


async def _payer(statement_id: int | None, receivable_id: int | None) -> tuple[Any, str]:
    if statement_id:
        rows = await fetch("SELECT customer_id, customer_name FROM ar_statement WHERE id = {}", statement_id)
        if not rows:
            raise not_found(_("No such statement."))
    else:
        rows = await fetch("SELECT customer_id, customer_name FROM receivable WHERE id = {}", receivable_id)
        if not rows:
            raise not_found(_("No such receivable."))
    return rows[0]["customer_id"], rows[0]["customer_name"]


async def _open_lines(statement_id: int | None, receivable_id: int | None) -> list[dict]:
    """The lines the payment settles, oldest first (a statement must be sent; a line must not be on one)."""
    if statement_id:
        st = await fetch("SELECT status FROM ar_statement WHERE id = {}", statement_id)
        if st[0]["status"] != "sent":
            raise DomainError(_("Payments are recorded once the statement has been sent."),
                              errors={"amount": _("The statement is %(s)s.", s=status_label(st[0]["status"]))})
        return await fetch("SELECT id, amount_fen, paid_fen FROM receivable WHERE statement_id = {} AND is_open = true "
                           "ORDER BY posted_on, id", statement_id)
    ln = await fetch("SELECT * FROM receivable WHERE id = {}", receivable_id)
    if ln[0]["statement_id"]:
        raise DomainError(_("This line is on a statement; record the payment on the statement."),
                          errors={"amount": _("Pay through the statement.")})
    return [ln[0]] if ln[0]["is_open"] else []


async def _allocate(pid: int, fen: int, lines: list[dict], statement_id: int | None) -> None:
    """Oldest line first, each a conditional UPDATE; then the statement's paid total (settled when full)."""
    left = fen
    now = utcnow()
    for line in lines:
        if left <= 0:
            break
        x = min(left, int(line["amount_fen"]) - int(line["paid_fen"]))
        if x <= 0:
            continue
        # raw-sql: conditional relative money update (paid + x <= amount), is_open computed in the same statement
        ok = await fetch(
            "UPDATE receivable SET paid_fen = paid_fen + {}, is_open = (paid_fen + {} < amount_fen), "
            "version = version + 1, updated_at = {} WHERE id = {} AND paid_fen + {} <= amount_fen RETURNING id",  # cas-ok: conditional money update (paid + x <= amount) and is_open from it, one statement
            x, x, now, line["id"], x)
        if not ok:
            raise _stale(_("Another payment was recorded on these lines meanwhile. Reload and try again."))
        await insert(ArAllocation, payment_id=pid, receivable_id=line["id"], amount_fen=x)
        left -= x
    if statement_id:
        # raw-sql: conditional relative money update that may settle the statement, one statement
        ok = await fetch(
            "UPDATE ar_statement SET paid_fen = paid_fen + {}, status = CASE WHEN paid_fen + {} >= total_fen "
            "THEN 'settled' ELSE status END, version = version + 1, updated_at = {} "  # cas-ok: conditional money update that may settle, one statement
            "WHERE id = {} AND status = 'sent' AND paid_fen + {} <= total_fen RETURNING id", fen, fen, now, statement_id, fen)
        if not ok:
            raise _stale()


async def record_payment(actor: Actor, token: str, *, amount: Any, received_on: dt.date | None, method: str,
                         reference: str = "", statement_id: int | None = None,
                         receivable_id: int | None = None) -> tuple[int, bool]:
    """Finance records money received against a sent statement or one receivable line.

    Part payments are allowed; a payment above the open amount is refused; the amount is exact to the
    fen. The one-time `token` (UNIQUE) makes a double-submitted form book once: the second call returns
    the first payment. Allocation runs oldest line first, each a conditional UPDATE
    (`paid_fen + x <= amount_fen`). Returns (payment id, created?).
    Side effects: ar_payment, ar_allocation rows, receivable.paid_fen/is_open, ar_statement.paid_fen/status;
    audit `payment.recorded`.
    """
    require(actor, "ledger.receivables.manage")
    token = (token or "").strip()
    fen = _checked_fen(token, amount, received_on, method, statement_id, receivable_id)
    async with ledger_tx():
        customer_id, customer_name = await _payer(statement_id, receivable_id)
        # The token row first: a concurrent submit of the same form waits here (PostgreSQL row lock /
        # SQLite write lock) and then finds the first payment instead of booking a second one.
        # raw-sql: ON CONFLICT (token) DO NOTHING RETURNING is the double-submit guard
        pay = await fetch(
            "INSERT INTO ar_payment (token, customer_id, customer_name, statement_id, receivable_id, amount_fen, received_on, "
            "method, reference, recorded_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
            "ON CONFLICT (token) DO NOTHING RETURNING id",
            token, customer_id, customer_name, statement_id, receivable_id, fen, received_on, method,
            (reference or "").strip()[:100], actor.user_id, utcnow())
        if not pay:
            dup = await fetch("SELECT id FROM ar_payment WHERE token = {}", token)
            return dup[0]["id"], False
        lines = await _open_lines(statement_id, receivable_id)
        open_fen = sum(int(r["amount_fen"]) - int(r["paid_fen"]) for r in lines)
        if fen > open_fen:
            raise DomainError(_("The payment %(paid)s is more than the open amount %(open)s.",
                                paid=_money(fen), open=_money(open_fen)),
                              errors={"amount": _("At most %(open)s is open.", open=_money(open_fen))})
        pid = pay[0]["id"]
        await _allocate(pid, fen, lines, statement_id)
        await record(actor, "payment.recorded", "ar_payment", pid,
                     after={"amount": str(from_fen(fen)), "statement_id": statement_id, "receivable_id": receivable_id,
                            "method": method, "reference": reference})
    return pid, True

"""Receivables reads and reports (SPEC §H R-AR-04): lists, one line, statements, extension requests,
the per-technician sales ledger, the Monday overdue review, ageing and the home-panel counts."""

from __future__ import annotations

import datetime as dt

from app.core.dates import as_date, today
from app.core.db import Where, fetch
from app.ledger.workdays import unknown_years
from app.core.i18n import _
from app.ledger.common import cached, sqlite_index, week_start
from app.ledger.status import ACCOUNT_CLASSES as CLASSES


def status_label(status: str) -> str:
    return {
        "draft": _("Draft — awaiting manager review"), "reviewed": _("Reviewed — awaiting finance check"),
        "checked": _("Checked — ready to send"), "sent": _("Sent — awaiting payment"), "settled": _("Settled"),
        "cancelled": _("Cancelled"),
    }.get(status, status)


async def list_receivables(*, q: str = "", account_class: str = "", status: str = "open", technician_user_id: int | None = None,
                           after: int | None = None, limit: int = 50, as_of: dt.date | None = None) -> tuple[list[dict], int | None]:
    """Newest first (keyset on id); filters match the indexes (customer, technician, open/due)."""
    where = Where()
    as_of = as_of or today()
    if q:
        where.add("(r.customer_name LIKE {} OR r.source_id = {})", f"%{q}%", q)
    if account_class in CLASSES:
        where.add("r.account_class = {}", account_class)
    if status == "open":
        where.add("r.is_open = true")
    elif status == "overdue":
        where.add("r.is_open = true AND r.due_date < {}", as_of)
    elif status == "paid":
        where.add("r.is_open = false")
    where.eq("r.technician_user_id", technician_user_id)
    if after:
        where.add("r.id < {}", after)
    # Open / overdue pages walk the (is_open, id) index newest first instead of sorting every open line.
    hint = await sqlite_index("receivable_open_id") if status in ("open", "overdue") and not q and not technician_user_id else ""
    rows, cursor = await where.page(
        "SELECT r.*, u.full_name AS tech_name, u.username AS tech_username, s.number AS statement_number "
        f"FROM receivable r{hint} LEFT JOIN app_user u ON u.id = r.technician_user_id "
        "LEFT JOIN ar_statement s ON s.id = r.statement_id", "r.id", limit)
    out = []
    for r in rows:
        r = dict(r)
        r["due_date"] = as_date(r["due_date"])
        r["posted_on"] = as_date(r["posted_on"])
        r["overdue"] = bool(r["is_open"] and r["due_date"] and r["due_date"] < as_of)
        r["open_fen"] = int(r["amount_fen"]) - int(r["paid_fen"])
        out.append(r)
    return out, cursor


async def get_receivable(receivable_id: int) -> dict | None:
    rows = await fetch(
        "SELECT r.*, u.full_name AS tech_name, u.username AS tech_username, s.number AS statement_number "
        "FROM receivable r LEFT JOIN app_user u ON u.id = r.technician_user_id "
        "LEFT JOIN ar_statement s ON s.id = r.statement_id WHERE r.id = {}", receivable_id)
    if not rows:
        return None
    r = dict(rows[0])
    r["due_date"] = as_date(r["due_date"])
    r["posted_on"] = as_date(r["posted_on"])
    r["open_fen"] = int(r["amount_fen"]) - int(r["paid_fen"])
    r["overdue"] = bool(r["is_open"] and r["due_date"] and r["due_date"] < today())
    # A retail due date counted through a year the official calendar does not know (Mon–Fri + overrides there).
    r["due_estimated"] = bool(r["account_class"] == "retail" and r["due_date"] and r["posted_on"]
                              and not r.get("extended")
                              and unknown_years(r["posted_on"], r["due_date"]))
    r["allocations"] = await fetch(
        "SELECT a.amount_fen, p.id AS payment_id, p.received_on, p.method, p.reference FROM ar_allocation a "
        "JOIN ar_payment p ON p.id = a.payment_id WHERE a.receivable_id = {} ORDER BY p.id", receivable_id)
    r["extensions"] = await fetch(
        "SELECT e.*, u.full_name AS requester FROM ar_extension e LEFT JOIN app_user u ON u.id = e.requested_by "
        "WHERE e.receivable_id = {} ORDER BY e.id DESC", receivable_id)
    return r


async def list_statements(*, status: str = "", q: str = "", after: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    where, args = [], []
    if status:
        where.append("status = {}")
        args.append(status)
    if q:
        where.append("(customer_name LIKE {} OR number = {})")
        args += [f"%{q}%", q]
    if after:
        where.append("id < {}")
        args.append(after)
    sql = "SELECT * FROM ar_statement" + (" WHERE " + " AND ".join(where) if where else "")
    sql += f" ORDER BY id DESC LIMIT {int(limit) + 1}"
    rows = await fetch(sql, *args)
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], cursor


async def get_statement(statement_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM ar_statement WHERE id = {}", statement_id)
    if not rows:
        return None
    st = dict(rows[0])
    st["lines"] = await fetch(
        "SELECT l.*, r.source_type, r.source_id, r.paid_fen, r.amount_fen AS line_amount_fen, r.is_open "
        "FROM ar_statement_line l JOIN receivable r ON r.id = l.receivable_id WHERE l.statement_id = {} "
        "ORDER BY l.posted_on, l.id", statement_id)
    st["payments"] = await fetch("SELECT p.*, u.full_name AS recorder FROM ar_payment p LEFT JOIN app_user u ON u.id = p.recorded_by "
                                 "WHERE p.statement_id = {} ORDER BY p.id", statement_id)
    names = await fetch("SELECT id, full_name, username FROM app_user WHERE id IN ({}, {}, {}, {})",
                        st["drafted_by"] or 0, st["reviewed_by"] or 0, st["checked_by"] or 0, st["sent_by"] or 0)
    who = {n["id"]: n["full_name"] or n["username"] for n in names}
    for col in ("drafted_by", "reviewed_by", "checked_by", "sent_by"):
        st[col + "_name"] = who.get(st[col], "")
    st["open_fen"] = int(st["total_fen"]) - int(st["paid_fen"])
    # the printed statement is addressed to the customer (#12): a read-only look at the shared customer table
    customer = await fetch("SELECT address, phone FROM customer WHERE id = {}", st["customer_id"]) if st["customer_id"] else []
    if not customer:  # monthly statements are drafted by the customer's name (seeded and walk-in lines carry no id)
        customer = await fetch("SELECT address, phone FROM customer WHERE name = {} ORDER BY id LIMIT 1", st["customer_name"])
    st["customer_address"] = customer[0]["address"] if customer else ""
    st["customer_phone"] = customer[0]["phone"] if customer else ""
    st["status_label"] = status_label(st["status"])
    return st


async def list_extensions(status: str = "pending", limit: int = 100) -> list[dict]:
    return await fetch(
        "SELECT e.*, r.customer_name, r.amount_fen, r.paid_fen, r.description, u.full_name AS requester, u.username AS requester_username "
        "FROM ar_extension e JOIN receivable r ON r.id = e.receivable_id LEFT JOIN app_user u ON u.id = e.requested_by "
        f"WHERE e.status = {{}} ORDER BY e.id DESC LIMIT {int(limit)}", status)


async def technician_ledger(technician_user_id: int, week: dt.date) -> dict:
    """R-AR-04: one technician's sales ledger — the week's lines, the week check, and every open line."""
    start = week_start(week)
    end = start + dt.timedelta(days=6)
    week_lines = await fetch(
        "SELECT * FROM receivable WHERE technician_user_id = {} AND posted_on >= {} AND posted_on <= {} ORDER BY posted_on, id",
        technician_user_id, start, end)
    open_lines = await fetch(
        "SELECT * FROM receivable WHERE technician_user_id = {} AND is_open = true ORDER BY due_date, id LIMIT 500",
        technician_user_id)
    check = await fetch("SELECT c.*, u.full_name AS checker FROM ar_week_check c LEFT JOIN app_user u ON u.id = c.checked_by "
                        "WHERE c.technician_user_id = {} AND c.week_start = {}", technician_user_id, start)
    now = today()
    for r in open_lines:
        r["due_date"] = as_date(r["due_date"])
        r["overdue"] = bool(r["due_date"] and r["due_date"] < now)
    return {"start": start, "end": end, "week_lines": week_lines, "open_lines": open_lines,
            "check": check[0] if check else None,
            "week_total": sum(int(r["amount_fen"]) for r in week_lines),
            "open_total": sum(int(r["amount_fen"]) - int(r["paid_fen"]) for r in open_lines)}


async def overdue_review(as_of: dt.date | None = None, technician_user_id: int | None = None, limit: int = 200) -> dict:
    """R-AR-04: the Monday review — per technician the overdue count, amount and oldest due date, and the
    overdue lines (of one technician, or the oldest-due first overall), cached per ledger revision."""
    as_of = as_of or today()
    return await cached(("overdue_review", as_of, technician_user_id, limit),
                        lambda: _overdue_review(as_of, technician_user_id, limit))


async def _overdue_review(as_of: dt.date, technician_user_id: int | None, limit: int) -> dict:
    summary = await fetch(
        "SELECT r.technician_user_id AS uid, u.full_name AS tech_name, u.username AS tech_username, COUNT(*) AS n, "
        "SUM(r.amount_fen - r.paid_fen) AS open_fen, MIN(r.due_date) AS oldest FROM receivable r "
        "LEFT JOIN app_user u ON u.id = r.technician_user_id WHERE r.is_open = true AND r.due_date < {} "
        "GROUP BY r.technician_user_id, u.full_name, u.username ORDER BY SUM(r.amount_fen - r.paid_fen) DESC", as_of)
    where, args = ["r.is_open = true", "r.due_date < {}"], [as_of]
    if technician_user_id:
        where.append("r.technician_user_id = {}")
        args.append(technician_user_id)
    rows = await fetch(
        "SELECT r.*, u.full_name AS tech_name, u.username AS tech_username FROM receivable r "
        "LEFT JOIN app_user u ON u.id = r.technician_user_id WHERE " + " AND ".join(where) +
        f" ORDER BY r.technician_user_id, r.due_date, r.id LIMIT {int(limit)}", *args)
    out = []
    for r in rows:
        r = dict(r)
        r["due_date"] = as_date(r["due_date"])
        r["days_over"] = (as_of - r["due_date"]).days
        r["open_fen"] = int(r["amount_fen"]) - int(r["paid_fen"])
        out.append(r)
    techs = [{"uid": t["uid"], "name": t["tech_name"] or t["tech_username"] or "", "count": int(t["n"]),
              "open_fen": int(t["open_fen"] or 0), "oldest": as_date(t["oldest"])} for t in summary]
    return {"technicians": techs, "rows": out, "count": sum(t["count"] for t in techs),
            "total_fen": sum(t["open_fen"] for t in techs), "truncated": len(out) >= limit}


async def ageing(as_of: dt.date | None = None, *, account_class: str = "", limit: int = 100) -> dict:
    as_of = as_of or today()
    return await cached(("ageing", as_of, account_class, limit), lambda: _ageing(as_of, account_class=account_class, limit=limit))


async def _ageing(as_of: dt.date | None = None, *, account_class: str = "", limit: int = 100) -> dict:
    """R-AR-04: open amounts by age since posting — 0–30, 31–60, 61–90, 90+ days — per customer and in total.
    One aggregate over the open lines (index receivable_open)."""
    as_of = as_of or today()
    d30, d60, d90 = (as_of - dt.timedelta(days=n) for n in (30, 60, 90))
    where, args = ["is_open = true"], []
    if account_class in CLASSES:
        where.append("account_class = {}")
        args.append(account_class)
    rows = await fetch(
        "SELECT customer_name, COUNT(*) AS lines, "
        "SUM(CASE WHEN posted_on >= {} THEN amount_fen - paid_fen ELSE 0 END) AS b0, "
        "SUM(CASE WHEN posted_on < {} AND posted_on >= {} THEN amount_fen - paid_fen ELSE 0 END) AS b1, "
        "SUM(CASE WHEN posted_on < {} AND posted_on >= {} THEN amount_fen - paid_fen ELSE 0 END) AS b2, "
        "SUM(CASE WHEN posted_on < {} THEN amount_fen - paid_fen ELSE 0 END) AS b3 "
        "FROM receivable WHERE " + " AND ".join(where) + " GROUP BY customer_name",
        d30, d30, d60, d60, d90, d90, *args)
    customers = []
    totals = {"b0": 0, "b1": 0, "b2": 0, "b3": 0, "total": 0, "lines": 0}
    for r in rows:
        c = {"customer_name": r["customer_name"], "lines": int(r["lines"]),
             **{k: int(r[k] or 0) for k in ("b0", "b1", "b2", "b3")}}
        c["total"] = c["b0"] + c["b1"] + c["b2"] + c["b3"]
        customers.append(c)
        for k in totals:
            totals[k] += c[k]
    customers.sort(key=lambda c: (-c["b3"], -c["total"]))
    return {"as_of": as_of, "customers": customers[:limit], "all_customers": customers, "totals": totals,
            "more": max(0, len(customers) - limit)}


async def technicians() -> list[dict]:
    rows = await fetch("SELECT id, username, full_name, roles FROM app_user WHERE is_active = true AND "
                       "(roles LIKE {} OR roles LIKE {} OR roles LIKE {}) ORDER BY username", "%field%", "%bench%", "%desk%")
    return [{"id": r["id"], "username": r["username"], "display": r["full_name"] or r["username"]} for r in rows]


async def panel_counts() -> dict:
    return await cached(("panel_counts", today()), _panel_counts)


async def _panel_counts() -> dict:
    as_of = today()
    st = await fetch("SELECT status, COUNT(*) AS n FROM ar_statement WHERE status IN ('draft', 'reviewed', 'checked') GROUP BY status")
    over = await fetch("SELECT COUNT(*) AS n, SUM(amount_fen - paid_fen) AS fen FROM receivable WHERE is_open = true AND due_date < {}", as_of)
    ext = await fetch("SELECT COUNT(*) AS n FROM ar_extension WHERE status = 'pending'")
    counts = {r["status"]: int(r["n"]) for r in st}
    return {"draft": counts.get("draft", 0), "reviewed": counts.get("reviewed", 0), "checked": counts.get("checked", 0),
            "overdue": int(over[0]["n"] or 0), "overdue_fen": int(over[0]["fen"] or 0), "extensions": int(ext[0]["n"] or 0)}


async def recent_sales_confirmations(limit: int = 30) -> list[dict]:
    return await fetch("SELECT s.*, u.full_name AS tech_name, u.username AS tech_username FROM sales_confirmation s "
                       f"LEFT JOIN app_user u ON u.id = s.technician_user_id ORDER BY s.id DESC LIMIT {int(limit)}")

"""Slip ledger reads and reports (SPEC §G R-SLIP-08): book lists, every number of a book with its flags
(gaps, out-of-order use, amounts that do not tie), the monthly reconciliation per repairer."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core.dates import as_date
from app.core.db import Where, fetch
from app.ledger.common import cached, month_bounds
from app.ledger.status import SlipState

STATES = tuple(s.value for s in SlipState)


async def list_books(*, status: str = "", holder_user_id: int | None = None, number: int | None = None,
                     after: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    """Books newest first (keyset on id), with used / unaccounted counts per book."""
    where = Where()
    if status in ("stock", "issued", "closed"):
        where.add("b.status = {}", status)
    elif status == "backup":
        where.add("b.kind = 'backup'")
    where.eq("b.holder_user_id", holder_user_id)
    if number:
        where.add("b.first_number <= {} AND b.last_number >= {}", number, number)
    if after:
        where.add("b.id < {}", after)
    return await where.page(
        "SELECT b.*, (SELECT COUNT(*) FROM slip s WHERE s.book_id = b.id AND s.state = 'unused') AS unused, "
        "(SELECT MAX(number) FROM slip s WHERE s.book_id = b.id AND s.state <> 'unused') AS top "
        "FROM slip_book b", "b.id", limit)


async def get_book(book_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM slip_book WHERE id = {}", book_id)
    return rows[0] if rows else None


async def stock_books(limit: int = 30) -> list[dict]:
    return await fetch("SELECT id, series, first_number, last_number FROM slip_book WHERE status = 'stock' "
                       f"AND kind = 'regular' ORDER BY series, first_number LIMIT {int(limit)}")


async def books_to_exchange(limit: int = 10) -> list[dict]:
    """Issued books whose numbers are all accounted for (or nearly: ≤ 5 left) — finance's home panel."""
    return await fetch(
        "SELECT b.id, b.series, b.first_number, b.last_number, b.holder_name, b.holder_user_id, "
        "(SELECT COUNT(*) FROM slip s WHERE s.book_id = b.id AND s.state = 'unused') AS unused "
        "FROM slip_book b WHERE b.status = 'issued' AND b.kind = 'regular' AND "
        "(SELECT COUNT(*) FROM slip s WHERE s.book_id = b.id AND s.state = 'unused') <= 5 "
        f"ORDER BY unused, b.id LIMIT {int(limit)}")


async def book_slips(book_ids: list[int]) -> list[dict]:
    """Every number of the given books with its state, job, amount, receivable total, void/transfer/delay
    details and flags: `missing` (unused below a later accounted number — a gap) and `out_of_order`
    (used earlier in time than a lower number)."""
    if not book_ids:
        return []
    marks = ", ".join("{}" for _i in book_ids)
    rows = await fetch(
        "SELECT s.id, s.book_id, s.series, s.number, s.state, s.state_on, s.used_at, s.job_type, s.job_id, s.job_note, s.amount_fen, "
        "s.has_delay, s.version, s.holder_user_id, bk.kind AS book_kind, bk.holder_user_id AS book_holder_user_id, "
        "v.reason AS void_reason, v.handed_in_on, "
        "tf.signed_by, tfs.number AS to_number, tts.number AS from_number, "
        "(SELECT SUM(r.amount_fen) FROM receivable r WHERE r.source_type = s.job_type AND r.source_id = s.job_id "
        " AND s.job_id <> '') AS receivable_fen, "
        "(SELECT d.reason FROM slip_delay d WHERE d.slip_id = s.id ORDER BY d.id DESC LIMIT 1) AS delay_reason "
        "FROM slip s JOIN slip_book bk ON bk.id = s.book_id LEFT JOIN slip_void v ON v.slip_id = s.id "
        "LEFT JOIN slip_transfer tf ON tf.from_slip_id = s.id LEFT JOIN slip tfs ON tfs.id = tf.to_slip_id "
        "LEFT JOIN slip_transfer tt ON tt.to_slip_id = s.id LEFT JOIN slip tts ON tts.id = tt.from_slip_id "
        f"WHERE s.book_id IN ({marks}) ORDER BY s.book_id, s.number", *book_ids)
    out: list[dict] = []
    by_book: dict[int, list[dict]] = {}
    for row in rows:
        by_book.setdefault(row["book_id"], []).append(dict(row))
    for slips in by_book.values():
        top = max((s["number"] for s in slips if s["state"] != "unused"), default=None)
        latest = None
        for s in slips:
            # A backup book is drawn on in whatever order transfers need (R-SLIP-05): its unused lower
            # numbers are not gaps and its numbers are not "used out of order".
            regular = s["book_kind"] != "backup"
            s["missing"] = regular and s["state"] == "unused" and top is not None and s["number"] < top
            used_at = s["used_at"]
            s["out_of_order"] = bool(regular and s["state"] in ("used", "transferred") and used_at is not None
                                     and latest is not None and str(_iso(used_at)) < str(_iso(latest)))
            if s["state"] in ("used", "transferred") and used_at is not None and (latest is None or str(_iso(used_at)) > str(_iso(latest))):
                latest = used_at
            rec = s["receivable_fen"]
            s["receivable_fen"] = int(rec) if rec is not None else None
            s["mismatch"] = s["state"] == "used" and (s["receivable_fen"] or 0) != int(s["amount_fen"] or 0)
            s["state_on"] = as_date(s["state_on"])
            s["handed_in_on"] = as_date(s["handed_in_on"])
            out.append(s)
    return out


def _iso(value: Any) -> str:
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(dt.timezone.utc).isoformat()
    return str(value)


async def reconcile_month(month: str) -> dict:
    """Cached per ledger revision (see app.ledger.common.cached)."""
    return await cached(("reconcile_month", month), lambda: _reconcile_month(month))


async def _reconcile_month(month: str) -> dict:
    """R-SLIP-08: per repairer for one month — counts by state, gaps, out-of-order uses, the slip total
    and the receivables posted for the same jobs (they must tie). One pass of aggregate SQL."""
    start, end = month_bounds(month)
    per_state = await fetch(
        "SELECT s.holder_user_id AS uid, "
        "SUM(CASE WHEN s.state = 'used' THEN 1 ELSE 0 END) AS used, "
        "SUM(CASE WHEN s.state = 'void' THEN 1 ELSE 0 END) AS voided, "
        "SUM(CASE WHEN s.state = 'transferred' THEN 1 ELSE 0 END) AS transferred, "
        "SUM(CASE WHEN s.state = 'returned' THEN 1 ELSE 0 END) AS returned, "
        "SUM(CASE WHEN s.state = 'used' THEN s.amount_fen ELSE 0 END) AS amount_fen, "
        "SUM(CASE WHEN s.has_delay THEN 1 ELSE 0 END) AS delayed, "
        "COUNT(DISTINCT s.book_id) AS books "
        "FROM slip s WHERE s.state_on >= {} AND s.state_on <= {} GROUP BY s.holder_user_id", start, end)
    touched = ("SELECT book_id, MAX(number) AS top FROM slip WHERE state_on >= {} AND state_on <= {} "
               "AND state <> 'unused' GROUP BY book_id")
    gaps = await fetch(  # backup books are drawn on in any order: no gaps there
        f"SELECT b.holder_user_id AS uid, COUNT(*) AS n FROM slip s JOIN ({touched}) t ON t.book_id = s.book_id "
        "JOIN slip_book b ON b.id = s.book_id WHERE s.state = 'unused' AND s.number < t.top AND b.kind = 'regular' "
        "GROUP BY b.holder_user_id",
        start, end)
    # Out of order: a lower number of the same book was used later. The running MAX up to the current row
    # (incremental in SQLite and PostgreSQL) exceeds this row's time exactly when such a number exists.
    disorder = await fetch(
        "SELECT uid, COUNT(*) AS n FROM (SELECT s.holder_user_id AS uid, s.state_on, s.used_at, MAX(s.used_at) OVER "
        "(PARTITION BY s.book_id ORDER BY s.number ROWS BETWEEN UNBOUNDED PRECEDING AND CURRENT ROW) AS run_max "
        "FROM slip s WHERE s.book_id IN (SELECT book_id FROM slip WHERE state_on >= {} AND state_on <= {}) "
        "AND s.book_id IN (SELECT id FROM slip_book WHERE kind = 'regular') "
        "AND s.state IN ('used', 'transferred')) x "
        "WHERE x.run_max > x.used_at AND x.state_on >= {} AND x.state_on <= {} GROUP BY uid",
        start, end, start, end)
    tie = await fetch(
        "SELECT s.holder_user_id AS uid, SUM(r.amount_fen) AS fen FROM slip s JOIN receivable r "
        "ON r.source_type = s.job_type AND r.source_id = s.job_id "
        "WHERE s.state = 'used' AND s.state_on >= {} AND s.state_on <= {} AND s.job_id <> '' GROUP BY s.holder_user_id",
        start, end)
    users = {r["id"]: (r["full_name"] or r["username"]) for r in await fetch("SELECT id, username, full_name FROM app_user")}
    gap_map = {r["uid"]: int(r["n"]) for r in gaps}
    dis_map = {r["uid"]: int(r["n"]) for r in disorder}
    tie_map = {r["uid"]: int(r["fen"] or 0) for r in tie}
    rows = []
    totals = {k: 0 for k in ("used", "void", "transferred", "returned", "amount_fen", "receivable_fen", "gaps",
                             "out_of_order", "delayed", "books")}
    for r in per_state:
        uid = r["uid"]
        row = {"uid": uid, "name": users.get(uid, "—"), **{k: int(r[k] or 0) for k in
               ("used", "transferred", "returned", "amount_fen", "delayed", "books")}}
        row["void"] = int(r["voided"] or 0)
        row["gaps"] = gap_map.get(uid, 0)
        row["out_of_order"] = dis_map.get(uid, 0)
        row["receivable_fen"] = tie_map.get(uid, 0)
        row["difference_fen"] = row["amount_fen"] - row["receivable_fen"]
        rows.append(row)
        for k in totals:
            totals[k] += row[k]
    totals["difference_fen"] = totals["amount_fen"] - totals["receivable_fen"]
    rows.sort(key=lambda r: (-(r["gaps"] + r["out_of_order"] + (r["difference_fen"] != 0)), r["name"]))
    return {"start": start, "end": end, "rows": rows, "totals": totals}


async def holder_books_in_month(holder_user_id: int, month: str) -> list[dict]:
    """The books a repairer used (or held) in a month: books with a state change that month, plus the current one."""
    start, end = month_bounds(month)
    return await fetch(
        "SELECT * FROM slip_book WHERE id IN (SELECT DISTINCT book_id FROM slip WHERE holder_user_id = {} "
        "AND state_on >= {} AND state_on <= {}) OR (holder_user_id = {} AND status = 'issued' AND kind = 'regular' "
        "AND (issued_on IS NULL OR issued_on <= {})) ORDER BY series, first_number",
        holder_user_id, start, end, holder_user_id, end)


def in_month(slips: list[dict], holder_user_id: int, start: dt.date, end: dt.date) -> list[dict]:
    """The numbers behind one repairer's row of the month's summary (`_reconcile_month`), from `book_slips()` of
    the books the repairer touched: the slips accounted for in the month by this repairer, and the gaps — unused
    numbers of this repairer's regular books below the highest number accounted for in the month."""
    tops: dict[int, int] = {}
    for s in slips:
        if s["state"] != "unused" and s["state_on"] and start <= s["state_on"] <= end:
            tops[s["book_id"]] = max(tops.get(s["book_id"], 0), s["number"])
    out = []
    for s in slips:
        if s["state"] == "unused":
            s["missing"] = (s["book_kind"] != "backup" and s["book_holder_user_id"] == holder_user_id
                            and s["number"] < tops.get(s["book_id"], 0))
            if s["missing"]:
                out.append(s)
        elif s["holder_user_id"] == holder_user_id and s["state_on"] and start <= s["state_on"] <= end:
            out.append(s)
    return out


def summarize(slips: list[dict]) -> dict:
    out = {s: 0 for s in STATES}
    out.update(missing=0, out_of_order=0, amount_fen=0, receivable_fen=0, mismatch=0)
    for s in slips:
        out[s["state"]] += 1
        out["missing"] += s["missing"]
        out["out_of_order"] += s["out_of_order"]
        out["mismatch"] += s["mismatch"]
        if s["state"] == "used":
            out["amount_fen"] += int(s["amount_fen"] or 0)
            out["receivable_fen"] += int(s["receivable_fen"] or 0)
    out["difference_fen"] = out["amount_fen"] - out["receivable_fen"]
    return out

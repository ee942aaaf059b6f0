"""SELECTs on the scrap tables: the list (keyset on id), the history, finance's write-off list and the
quality report by supplier (R-SCR-02/03). Each list uses an index that matches its filter."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.core.db import fetch
from app.core.i18n import tz
from app.core.money import from_fen
from app.scrap.status import OPEN

PAGE = 50


def _with_money(rows: list[dict]) -> list[dict]:
    out = []
    for row in rows:
        row = dict(row)
        if "value_fen" in row:
            row["value"] = from_fen(row["value_fen"])
        out.append(row)
    return out


async def list_requests(*, status: str = "", q: str = "", mine_user_id: int | None = None, before: int | None = None,
                        limit: int = PAGE) -> tuple[list[dict], int | None]:
    """Newest first, keyset on id (never COUNT(*)); `status="open"` = every open state (scrap_request_status)."""
    where, args = [], []
    if status == "open":
        states = sorted(str(s) for s in OPEN)
        where.append(f"r.status IN ({', '.join(['{}'] * len(states))})")
        args += states
    elif status:
        where.append("r.status = {}")
        args.append(status)
    if q:
        where.append("(r.number = {} OR r.serial = {} OR r.part_no = {})")
        args += [q.strip().upper(), q.strip(), q.strip()]
    if mine_user_id is not None:
        where.append("r.id IN (SELECT a.request_id FROM scrap_appraiser a WHERE a.user_id = {})")
        args.append(mine_user_id)
    if before:
        where.append("r.id < {}")
        args.append(before)
    sql = ("SELECT r.id, r.number, r.status, r.part_no, r.part_name, r.model, r.serial, r.qty, r.reason, r.value_fen, "
           "r.gm_needed, r.requested_by_name, r.created_at, r.source_type, r.source_ref FROM scrap_request r"
           + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY r.id DESC LIMIT {int(limit) + 1}")
    rows = _with_money(await fetch(sql, *args))
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], cursor


async def history(request_id: int) -> list[dict]:
    return await fetch("SELECT * FROM status_change WHERE table_name = 'scrap_request' AND row_id = {} ORDER BY version",
                       request_id)


def _instant(day: dt.date) -> dt.datetime:
    """Midnight of a business day (Asia/Shanghai by default) as an aware timestamp."""
    return dt.datetime.combine(day, dt.time(), tzinfo=tz())


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    year, mon = (int(x) for x in month.split("-"))
    start = dt.date(year, mon, 1)
    end = dt.date(year + (mon == 12), mon % 12 + 1, 1)
    return start, end


async def writeoffs(month: str) -> dict[str, Any]:
    """R-SCR-03: the month's written-off records (disposed_on in the month) with totals by reason and supplier.
    Uses the partial index scrap_request_disposed (disposed_on, id)."""
    start, end = month_bounds(month)
    rows = _with_money(await fetch(
        "SELECT id, number, part_no, part_name, model, serial, qty, reason, supplier, value_fen, disposal_method, "
        "disposed_on, disposed_by_name FROM scrap_request WHERE status = 'disposed' AND disposed_on >= {} "
        "AND disposed_on < {} ORDER BY disposed_on, id", start, end))
    by_reason: dict[str, Decimal] = {}
    by_supplier: dict[str, Decimal] = {}
    total = Decimal("0.00")
    for row in rows:
        by_reason[row["reason"]] = by_reason.get(row["reason"], Decimal("0.00")) + row["value"]
        by_supplier[row["supplier"]] = by_supplier.get(row["supplier"], Decimal("0.00")) + row["value"]
        total += row["value"]
    return {"rows": rows, "total": total, "by_reason": sorted(by_reason.items(), key=lambda kv: -kv[1]),
            "by_supplier": sorted(by_supplier.items(), key=lambda kv: -kv[1])}


async def written_off_total(start: dt.date, end: dt.date) -> Decimal:
    rows = await fetch("SELECT COALESCE(SUM(value_fen), 0) AS fen FROM scrap_request WHERE status = 'disposed' "
                       "AND disposed_on >= {} AND disposed_on < {}", start, end)
    return from_fen(int(rows[0]["fen"] or 0))


async def quality_report(month: str) -> list[dict]:
    """R-SCR-02 / R-RMA-08: quality-defect records raised in the month, by supplier (for the quality department)."""
    start, end = month_bounds(month)
    start_ts, end_ts = _instant(start), _instant(end)
    rows = await fetch(
        "SELECT supplier, COUNT(*) AS records, SUM(qty) AS qty, SUM(value_fen) AS value_fen, "
        "SUM(CASE WHEN status = 'disposed' THEN qty ELSE 0 END) AS scrapped FROM scrap_request "
        "WHERE reason = 'quality_defect' AND created_at >= {} AND created_at < {} GROUP BY supplier ORDER BY supplier",
        start_ts, end_ts)
    return _with_money([dict(r, qty=int(r["qty"] or 0), scrapped=int(r["scrapped"] or 0), value_fen=int(r["value_fen"] or 0))
                        for r in rows])


async def quality_candidates(month: str) -> list[dict]:
    """Draft quality-defect records raised in the month and not yet in a batch (R-SCR-02)."""
    start, end = month_bounds(month)
    start_ts, end_ts = _instant(start), _instant(end)
    return _with_money(await fetch(
        "SELECT id, number, status, part_no, part_name, serial, qty, supplier, value_fen, batch_id FROM scrap_request "
        "WHERE reason = 'quality_defect' AND created_at >= {} AND created_at < {} ORDER BY id", start_ts, end_ts))


async def counts_by_status() -> dict[str, int]:
    """For the home panels: open records per state (the status index; open records are few)."""
    states = sorted(str(s) for s in OPEN)
    rows = await fetch(f"SELECT status, COUNT(*) AS n FROM scrap_request WHERE status IN "
                       f"({', '.join(['{}'] * len(states))}) GROUP BY status", *states)
    return {r["status"]: int(r["n"]) for r in rows}


async def waiting_for(user_id: int) -> int:
    """Open appraisals where this user sits and has not voted yet."""
    rows = await fetch(
        "SELECT COUNT(*) AS n FROM scrap_appraiser a JOIN scrap_request r ON r.id = a.request_id "
        "WHERE a.user_id = {} AND r.status = 'appraising' AND NOT EXISTS "
        "(SELECT 1 FROM scrap_opinion o WHERE o.request_id = a.request_id AND o.user_id = a.user_id)", user_id)
    return int(rows[0]["n"])

"""Gapless document numbers (X-02): RMAs, repair slips, exception slips, loaner notices,
scrap records, letters, statements …

The counter row is bumped with one `UPDATE … RETURNING` inside the caller's write
transaction, so a rollback of the document also rolls the number back and a
concurrent writer waits on the row (PostgreSQL) or the write lock (SQLite):
committed numbers are exactly 1..N per (series, period).
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.core.db import fetch, in_transaction, utcnow
from app.core.dates import today as business_today
from app.core.rows import insert, update
from app.core.tables import DocNumber

# Series later domains draw from. Prefix and format are data (doc_series rows) that
# an admin may change; these are the defaults seeded by the first migration.
DEFAULT_SERIES: list[tuple[str, str, str, str]] = [
    # code, prefix, English name, Chinese name
    ("repair_slip", "WX", "Repair slip", "维修单"),
    ("service_slip", "FW", "Service slip", "售后服务单"),
    ("dispatch", "PG", "Dispatch slip", "故障处理派工单"),
    ("rma", "RMA", "Return repair (RMA)", "返修单"),
    ("exception", "YC", "Exception slip", "异常处理单"),
    ("loaner_notice", "BP", "Spare-replacement notice", "故障处理备品替换通知"),
    ("scrap", "BF", "Scrap record", "报废品处理记录"),
    ("letter", "LLH", "Liaison letter", "售后服务联络函"),
    ("statement", "DZ", "Statement", "对账单"),
    ("sales_confirmation", "XS", "Sales confirmation", "销售确认书"),
    ("emergency_release", "YJ", "Emergency release", "应急出库单"),
    ("purchase_request", "CG", "Purchase request", "采购申请"),
    ("maintenance_report", "DJ", "Maintenance report", "点检维护工作报告"),
]


class NumberingError(RuntimeError):
    pass


@dataclass(frozen=True)
class DocumentNumber:
    series: str
    period: int
    number: int
    formatted: str


def format_number(fmt: str, *, prefix: str, year: int, n: int) -> str:
    return fmt.format(prefix=prefix, year=year, n=n)


async def next_number(
    series: str, *, entity_type: str = "", entity_id: str | int = "", today: dt.date | None = None
) -> DocumentNumber:
    """Draw the next number of `series`. Must run inside `write_transaction()`.

    Side effects: bumps doc_counter, inserts a doc_number row (both roll back with
    the caller's transaction).
    """
    if not in_transaction():
        raise NumberingError("next_number() must run inside write_transaction()")
    rows = await fetch("SELECT prefix, format, yearly FROM doc_series WHERE code = {}", series)
    if not rows:
        raise NumberingError(f"unknown document series {series!r}")
    spec = rows[0]
    year = (today or business_today()).year  # the business date (Asia/Shanghai), not the server's UTC date
    period = year if spec["yearly"] else 0
    # raw-sql: ON CONFLICT DO NOTHING creates the counter row once under concurrent first draws
    await fetch(
        "INSERT INTO doc_counter (series, period, last_value) VALUES ({}, {}, 0) "
        "ON CONFLICT (series, period) DO NOTHING",
        series,
        period,
    )
    # raw-sql: last_value = last_value + 1 RETURNING is the atomic bump that keeps numbers gapless
    bumped = await fetch(
        "UPDATE doc_counter SET last_value = last_value + 1 WHERE series = {} AND period = {} RETURNING last_value",
        series,
        period,
    )
    n = int(bumped[0]["last_value"])
    formatted = format_number(spec["format"], prefix=spec["prefix"], year=year, n=n)
    await insert(DocNumber, series=series, period=period, number=n, formatted=formatted, entity_type=entity_type,
                 entity_id=str(entity_id), created_at=utcnow())
    return DocumentNumber(series=series, period=period, number=n, formatted=formatted)


async def attach_entity(series: str, formatted: str, entity_id: str | int) -> None:
    """Record the document id once it is known (inserted after drawing its number)."""
    await update(DocNumber, (DocNumber.series == series) & (DocNumber.formatted == formatted), entity_id=str(entity_id))

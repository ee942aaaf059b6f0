"""Every XLSX export through HTTP (issue #12): money cells are numbers with the ¥ two-decimal format, date
columns are dates, and the Chinese file shows labels, never codes such as "rma"/"ticket"."""

from __future__ import annotations

import io
from decimal import Decimal

from openpyxl import load_workbook

from app.core.actor import Actor
from app.core.dates import today
from seed.factories import unique

YUAN = '"¥"#,##0.00'
ZH = {"accept-language": "zh-CN"}
DESK = Actor(user_id=None, username="system", roles=frozenset({"desk", "finance"}))


def _book(response):
    assert response.status_code == 200, response.text[:300]
    assert response.headers["content-type"].startswith("application/vnd.openxmlformats")
    return load_workbook(io.BytesIO(response.content))


def _column(ws, title: str) -> int:
    return [c.value for c in ws[1]].index(title) + 1


async def test_receivables_export_money_numbers_dates_and_source_labels(login_as):
    from app.ledger import receivables as ar

    name = unique("导出")
    ref = unique("FX")
    await ar.post_receivable(DESK, "rma", ref, None, name, "monthly", Decimal("1234.50"), "维修费", None)
    finance = await login_as("finance")
    ws = _book(await finance.get("/receivables/export.xlsx", params={"q": name}, headers=ZH)).active
    row = next(r for r in ws.iter_rows(min_row=2) if r[_column(ws, "客户") - 1].value == name)
    amount = row[_column(ws, "金额") - 1]
    assert amount.data_type == "n" and amount.value == 1234.5 and amount.number_format == YUAN
    posted = row[1]
    assert posted.is_date and posted.value.date() == today()
    source = row[4].value
    assert source.endswith(ref) and not source.startswith("rma") and source != ref  # a label, not the code


async def test_ageing_export_money_is_numeric(login_as):
    from app.ledger import receivables as ar

    await ar.post_receivable(DESK, "ticket", unique("T"), None, unique("账龄"), "monthly", Decimal("88.80"), "服务费", None)
    finance = await login_as("finance")
    ws = _book(await finance.get("/receivables/ageing.xlsx", headers=ZH)).active
    total = ws.cell(row=ws.max_row, column=ws.max_column)
    assert total.data_type == "n" and total.number_format == YUAN and total.value >= 88.8


async def test_reconcile_and_writeoff_and_bench_report_exports_open_with_typed_cells(login_as):
    manager = await login_as("manager", "finance")
    month = today().strftime("%Y-%m")
    for url in (f"/slips/reconcile.xlsx?month={month}", f"/scrap/reports/writeoffs.xlsx?month={month}",
                f"/bench/report.xlsx?month={month}"):
        book = _book(await manager.get(url, headers=ZH))
        for ws in book.worksheets:
            for row in ws.iter_rows(min_row=2):
                for cell in row:
                    if cell.number_format == YUAN:
                        assert cell.data_type == "n", (url, cell.coordinate)
                    if isinstance(cell.value, str):
                        assert not cell.value.startswith("="), (url, cell.coordinate)

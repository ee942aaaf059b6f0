"""XLSX exports (issue #12): money is a number with the ¥ two-decimal format, dates are dates, text is text —
checked by reading the files back with openpyxl."""

from __future__ import annotations

import datetime as dt
import io
import zoneinfo
from decimal import Decimal

from openpyxl import load_workbook

from app.core import xlsx

YUAN = '"¥"#,##0.00'


def _book(data: bytes):
    return load_workbook(io.BytesIO(data))


def test_money_is_a_number_with_the_yuan_format_and_dates_are_dates_on_every_sheet():
    data = xlsx.workbook([
        ("汇总", ["金额", "日期", "时间", "文本", "数量"], [
            [Decimal("1234.5"), dt.date(2026, 11, 29), dt.datetime(2026, 11, 29, 8, 30), "=SUM(A1)\x07", 3],
            [Decimal("-0.01"), "2026-10-31", "2026-10-31 09:15:00", "a&b<c>", 2.5],
        ]),
        ("明细", ["金额"], [[Decimal("0.10")]], (14,)),
    ])
    book = _book(data)
    assert book.sheetnames == ["汇总", "明细"]
    ws = book["汇总"]
    assert ws["A1"].value == "金额" and ws["A1"].font.b and ws.freeze_panes == "A2"
    money = ws["A2"]
    assert money.data_type == "n" and money.value == 1234.5 and money.number_format == YUAN
    assert ws["A3"].value == -0.01 and ws["A3"].number_format == YUAN
    assert ws["B2"].is_date and ws["B2"].value.date() == dt.date(2026, 11, 29) and ws["B2"].number_format == "yyyy-mm-dd"
    assert ws["B3"].is_date and ws["B3"].value.date() == dt.date(2026, 10, 31)  # SQLite's ISO text → a date
    assert ws["C2"].value == dt.datetime(2026, 11, 29, 8, 30) and ws["C2"].number_format == "yyyy-mm-dd hh:mm"
    assert ws["C3"].is_date and ws["C3"].value == dt.datetime(2026, 10, 31, 9, 15)
    assert ws["D2"].value == "'=SUM(A1)" and ws["D2"].data_type == "s"  # never a formula, control char dropped
    assert ws["D3"].value == "a&b<c>"
    assert ws["E2"].value == 3 and ws["E3"].value == 2.5
    detail = book["明细"]
    assert detail["A2"].value == 0.1 and detail["A2"].number_format == YUAN
    assert detail.column_dimensions["A"].width == 14


def test_aware_timestamps_are_written_in_the_office_time_zone():
    from app.core.i18n import tz

    moment = dt.datetime(2026, 11, 29, 0, 30, tzinfo=dt.timezone.utc)
    ws = _book(xlsx.workbook([("t", ["at"], [[moment]])])).active
    assert ws["A2"].value == moment.astimezone(tz()).replace(tzinfo=None)


def test_text_that_only_looks_like_a_date_stays_text_and_duplicate_sheet_names_are_kept_apart():
    data = xlsx.workbook([("同名", ["a"], [["2026-13-45"], ["BJ-2026-11"], ["20261129"]]), ("同名", ["a"], [])])
    book = _book(data)
    assert book.sheetnames == ["同名", "同名 (2)"]
    ws = book["同名"]
    assert [ws[f"A{i}"].value for i in (2, 3, 4)] == ["2026-13-45", "BJ-2026-11", "20261129"]
    assert all(ws[f"A{i}"].data_type == "s" for i in (2, 3, 4))


def test_an_empty_workbook_still_opens():
    assert _book(xlsx.workbook([])).sheetnames == ["Sheet"]

"""Working days (#11): the official calendar from `chinesecalendar` with work_calendar rows as overrides, the
R-AR-02 terms read from their settings and proven at their boundaries with a frozen clock."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.core.audit.services import Actor
from app.core.db import fetch
from app.core.settings import set_setting
from app.ledger import ar_reports, receivables as ar, workdays
from seed.factories import unique
from tests.ledger.factories import actor

SYSTEM = Actor(None, "test")
D = dt.date


def freeze(monkeypatch, day: dt.date) -> None:
    """The business date as every ledger module sees it."""
    for module in (ar, ar_reports):
        monkeypatch.setattr(module, "today", lambda: day)


@pytest.fixture
async def setting_value():
    """Change a setting for one test and put the old value back afterwards."""
    from app.core.settings import setting

    saved: dict[str, object] = {}

    async def change(key: str, value: object) -> None:
        saved.setdefault(key, await setting(key))
        await set_setting(SYSTEM, key, value)

    yield change
    for key, value in saved.items():
        await set_setting(SYSTEM, key, value)


@pytest.fixture
async def override():
    """Enter a work_calendar row for one test; removed afterwards (other tests count working days too)."""
    finance = await actor("finance")
    days: list[dt.date] = []

    async def put(day: dt.date, working: bool, name: str = "测试") -> None:
        days.append(day)
        await ar.set_calendar_day(finance, day, working, name)

    yield put
    for day in days:
        await ar.delete_calendar_day(finance, day)


async def _overdue(customer: str, as_of: dt.date) -> bool:
    rows, _cursor = await ar_reports.list_receivables(q=customer, status="overdue", as_of=as_of)
    return bool(rows)


# ---------------------------------------------------------------- the official calendar


async def test_national_day_2026_is_seven_days_off_from_the_library():
    """国庆节 2026-10-01..07 are days off although five of them are weekdays; the day before and after work."""
    assert workdays.known(D(2026, 10, 1))
    assert [workdays.is_working(D(2026, 10, d), {}) for d in range(1, 8)] == [False] * 7
    assert workdays.is_working(D(2026, 9, 30), {}) and workdays.is_working(D(2026, 10, 8), {})
    assert workdays.official(D(2026, 10, 1)) == (False, "国庆节")
    assert await ar.add_working_days(D(2026, 9, 30), 1) == D(2026, 10, 8)


async def test_make_up_saturday_counts_as_a_working_day():
    """Saturday 2026-10-10 is 国庆节调休: Friday 10-09 + 1 working day is that Saturday, not Monday."""
    assert D(2026, 10, 10).weekday() == 5
    assert workdays.official(D(2026, 10, 10)) == (True, "国庆节调休")
    assert await ar.add_working_days(D(2026, 10, 9), 1) == D(2026, 10, 10)
    # An ordinary Saturday does not count.
    assert await ar.add_working_days(D(2026, 10, 16), 1) == D(2026, 10, 19)


async def test_an_override_row_wins_over_the_library(override):
    """A work_calendar row replaces the official answer for its day, both ways."""
    await override(D(2026, 10, 10), False, "公司统一休息")   # the make-up Saturday given off
    await override(D(2026, 10, 8), False, "公司假")          # an official working day given off
    await override(D(2026, 10, 3), True, "盘点加班")          # a holiday Saturday worked
    assert await ar.add_working_days(D(2026, 10, 2), 1) == D(2026, 10, 3)
    assert await ar.add_working_days(D(2026, 10, 3), 2) == D(2026, 10, 12)  # 8 off, 9 works, 10 off, 12
    days = {d["day"]: d for d in await ar.calendar_days(2026)}
    assert days[D(2026, 10, 10)]["source"] == "override" and days[D(2026, 10, 10)]["is_working"] is False
    assert days[D(2026, 10, 1)]["source"] == "official"


async def test_beyond_the_library_counts_weekdays_plus_overrides_and_says_so(override):
    """A year the package does not know: Mon–Fri plus the rows entered, and `known()` is False."""
    assert not workdays.known(D(2031, 3, 1))
    assert await ar.add_working_days(D(2031, 2, 28), 1) == D(2031, 3, 3)
    await override(D(2031, 3, 1), True, "调休")
    assert await ar.add_working_days(D(2031, 2, 28), 1) == D(2031, 3, 1)
    assert workdays.unknown_years(D(2026, 11, 29), D(2027, 11, 30)) == [2027]


async def test_calendar_page_warns_when_the_official_calendar_is_unknown(login_as, monkeypatch):
    """The page warns for a year the package does not know, and ahead of time when the coming year is unknown."""
    finance = await login_as("finance")
    far = await finance.get("/receivables/calendar?year=2031")
    assert far.status_code == 200 and 'id="calendar-unknown-year"' in far.text
    freeze(monkeypatch, D(2026, 11, 29))
    page = await finance.get("/receivables/calendar?year=2026")
    assert 'id="calendar-unknown-ahead"' in page.text and "国庆节调休" in page.text
    freeze(monkeypatch, D(2025, 6, 1))
    calm = await finance.get("/receivables/calendar?year=2026")
    assert "calendar-unknown" not in calm.text
    absurd = await finance.get("/receivables/calendar?year=99999")
    assert absurd.status_code == 200


# ---------------------------------------------------------------- R-AR-02 at its boundaries


async def test_r_ar_02_retail_due_seven_working_days_over_national_day(monkeypatch):
    """Posted Wed 2026-09-30: 8, 9, 10 (make-up Sat), 12, 13, 14, 15 Oct → due Thu 10-15; overdue from 10-16."""
    desk = await actor("desk")
    name = unique("零售")
    freeze(monkeypatch, D(2026, 9, 30))
    rid = await ar.post_receivable(desk, "ticket", unique("T"), None, name, "retail", Decimal("80"), "维修费", None)
    line = await ar_reports.get_receivable(rid)
    assert line["due_date"] == D(2026, 10, 15)
    assert not await _overdue(name, D(2026, 10, 14))   # just inside
    assert not await _overdue(name, D(2026, 10, 15))   # on the due date
    assert await _overdue(name, D(2026, 10, 16))       # just outside
    freeze(monkeypatch, D(2026, 10, 15))
    assert (await ar_reports.get_receivable(rid))["overdue"] is False
    freeze(monkeypatch, D(2026, 10, 16))
    assert (await ar_reports.get_receivable(rid))["overdue"] is True


async def test_r_ar_02_retail_term_is_read_from_its_setting(monkeypatch, setting_value):
    """ledger.retail_due_working_days = 3: posted 09-30 → 8, 9, 10 Oct → due on the make-up Saturday."""
    await setting_value("ledger.retail_due_working_days", 3)
    desk = await actor("desk")
    name = unique("零售")
    freeze(monkeypatch, D(2026, 9, 30))
    rid = await ar.post_receivable(desk, "ticket", unique("T"), None, name, "retail", Decimal("80"), "维修费", None)
    assert (await ar_reports.get_receivable(rid))["due_date"] == D(2026, 10, 10)
    assert not await _overdue(name, D(2026, 10, 9))
    assert not await _overdue(name, D(2026, 10, 10))
    assert await _overdue(name, D(2026, 10, 11))
    await setting_value("ledger.retail_due_working_days", 4)
    rid4 = await ar.post_receivable(desk, "ticket", unique("T"), None, name, "retail", Decimal("80"), "维修费", None)
    assert (await ar_reports.get_receivable(rid4))["due_date"] == D(2026, 10, 12)


@pytest.mark.parametrize("days", [30, 10])
async def test_r_ar_02_monthly_statement_due_days_read_from_setting(monkeypatch, setting_value, days):
    """A statement sent on 2026-11-02 is due `ledger.monthly_due_days` calendar days later; overdue the day after."""
    await setting_value("ledger.monthly_due_days", days)
    desk, manager, finance = await actor("desk"), await actor("manager"), await actor("finance")
    name = unique("月结")
    await ar.post_receivable(desk, "ticket", unique("T"), None, name, "monthly", Decimal("100"), "服务费", None,
                             posted_on=D(2026, 10, 20))
    freeze(monkeypatch, D(2026, 11, 2))
    sid = await ar.draft_statement(desk, name, "2026-10")
    for who, verb in ((manager, "review"), (finance, "check"), (finance, "send")):
        await ar.move_statement(who, sid, verb, (await ar.get_statement(sid))["version"])
    due = D(2026, 11, 2) + dt.timedelta(days=days)
    st = (await fetch("SELECT due_on FROM ar_statement WHERE id = {}", sid))[0]
    assert str(st["due_on"])[:10] == due.isoformat()
    assert not await _overdue(name, due - dt.timedelta(days=1))
    assert not await _overdue(name, due)
    assert await _overdue(name, due + dt.timedelta(days=1))


async def test_retail_due_date_through_an_unknown_year_is_marked_estimated(login_as, monkeypatch):
    """Posted 2026-12-28, 7 working days run into 2027, which the package does not know: the line says its due date
    was counted Monday–Friday there; a line inside 2026 says nothing."""
    desk = await actor("desk")
    freeze(monkeypatch, D(2026, 12, 28))
    late = await ar.post_receivable(desk, "ticket", unique("T"), None, unique("零售"), "retail", Decimal("5"), "x", None)
    line = await ar_reports.get_receivable(late)
    # 29, 30, 31 Dec; 1 Jan is off (the 元旦 row entered for 2027); 4, 5, 6, 7 Jan
    assert line["due_date"] == D(2027, 1, 7) and line["due_estimated"] is True
    freeze(monkeypatch, D(2026, 9, 30))
    calm = await ar.post_receivable(desk, "ticket", unique("T"), None, unique("零售"), "retail", Decimal("5"), "x", None)
    assert (await ar_reports.get_receivable(calm))["due_estimated"] is False
    finance = await login_as("finance")
    assert 'id="due-estimated"' in (await finance.get(f"/receivables/{late}")).text
    assert 'id="due-estimated"' not in (await finance.get(f"/receivables/{calm}")).text

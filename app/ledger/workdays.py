"""Working days in mainland China (R-AR-02's retail term counts them).

The official calendar — public holidays and the make-up working days (调休) the State Council announces
each year — comes from the maintained `chinesecalendar` package. Rows of `work_calendar` (editable on
/receivables/calendar) override it day by day: a company day off, a correction, or a year the package
does not know yet. For a day beyond the package's years with no row, the count falls back to Monday–Friday
and says so: `known()` is False, `unknown_years()` lists the years, and the calendar page warns.
"""

from __future__ import annotations

import datetime as dt

import chinese_calendar
from chinese_calendar import constants
from chinese_calendar.constants import Holiday

from app.core.dates import as_date
from app.core.db import fetch

LIBRARY_VERSION = getattr(chinese_calendar, "__version__", "")
_YEARS = {d.year for d in constants.holidays} | {d.year for d in constants.workdays}
FIRST_YEAR, LAST_YEAR = min(_YEARS), max(_YEARS)
_ZH = {h.value: h.chinese for h in Holiday}


def known(day: dt.date) -> bool:
    """Does the official calendar package know this day's year?"""
    return FIRST_YEAR <= day.year <= LAST_YEAR


def official(day: dt.date) -> tuple[bool, str] | None:
    """(working?, holiday name) from the package, or None when it does not know the year."""
    if not known(day):
        return None
    is_holiday, holiday = chinese_calendar.get_holiday_detail(day)
    name = _ZH.get(holiday, holiday or "") if holiday else ""
    if holiday and not is_holiday:
        name += "调休"  # a make-up working day for that holiday
    return (not is_holiday, name)


def is_working(day: dt.date, overrides: dict[dt.date, bool]) -> bool:
    """A row of work_calendar wins; then the official calendar; Monday–Friday only beyond its years."""
    if day in overrides:
        return overrides[day]
    off = official(day)
    if off is not None:
        return off[0]
    return day.weekday() < 5


def add_working(start: dt.date, n: int, overrides: dict[dt.date, bool]) -> dt.date:
    """The date `n` working days after `start` (start itself not counted)."""
    day, left = start, n
    while left > 0:
        day += dt.timedelta(days=1)
        if is_working(day, overrides):
            left -= 1
    return day


async def overrides_between(start: dt.date, end: dt.date) -> dict[dt.date, bool]:
    rows = await fetch("SELECT day, is_working FROM work_calendar WHERE day > {} AND day <= {}", start, end)
    return {as_date(r["day"]): bool(r["is_working"]) for r in rows}


async def add_working_days(start: dt.date, n: int) -> dt.date:
    """`add_working()` with the overrides stored in work_calendar."""
    horizon = start + dt.timedelta(days=n * 3 + 60)  # the longest official break is 8–9 days
    return add_working(start, n, await overrides_between(start, horizon))


def official_days(year: int) -> list[dict]:
    """The package's exceptions to Monday–Friday in `year` (holidays on weekdays, make-up weekend days)."""
    if not (FIRST_YEAR <= year <= LAST_YEAR):
        return []
    out = []
    day = dt.date(year, 1, 1)
    while day.year == year:
        working, name = official(day)  # type: ignore[misc]
        if working != (day.weekday() < 5):
            out.append({"day": day, "is_working": working, "name": name})
        day += dt.timedelta(days=1)
    return out


def unknown_years(start: dt.date, end: dt.date) -> list[int]:
    """Years between `start` and `end` the official calendar does not know."""
    return [y for y in range(start.year, end.year + 1) if not (FIRST_YEAR <= y <= LAST_YEAR)]

"""Business dates: "today" in the business time zone, and dates read back from either database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.i18n import tz


def today() -> dt.date:
    """Today in the business time zone (Asia/Shanghai by default), not the server's UTC date."""
    return dt.datetime.now(tz()).date()


def as_date(value: Any) -> dt.date | None:
    """DB values come back as date/datetime (PostgreSQL, DATE columns on SQLite) or ISO text
    (SQLite expressions such as MIN(date))."""
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value.date()
    if isinstance(value, dt.date):
        return value
    return dt.date.fromisoformat(str(value)[:10])

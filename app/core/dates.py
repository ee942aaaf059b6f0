"""Business dates: "today" in the business time zone, and dates read back from either database."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core.i18n import tz


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


def parse_date(text: Any) -> dt.date | None:
    """Form text → date: '2026-03-01' (also 2026/3/1, 2026.3.1); '' → None; raises ValueError on junk
    or an impossible date."""
    if text is None:
        return None
    if isinstance(text, dt.datetime):
        return text.date()
    if isinstance(text, dt.date):
        return text
    cleaned = str(text).strip().replace("/", "-").replace(".", "-")
    if not cleaned:
        return None
    parts = cleaned.split("-")
    if len(parts) != 3 or not all(p.isdigit() for p in parts) or len(parts[0]) != 4:
        raise ValueError(text)
    return dt.date(int(parts[0]), int(parts[1]), int(parts[2]))

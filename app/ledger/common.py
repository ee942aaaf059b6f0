"""Shared bits of the ledger services: the error type, dates, settings, users."""

from __future__ import annotations

import datetime as dt
import json
from decimal import Decimal
from typing import Any

from app.core.dates import as_date, today  # noqa: F401 (re-exported for this domain)
from app.core.roles import parse_roles
from app.core.db import fetch
from app.core.i18n import tz
from app.core.money import MoneyError, parse_money


class LedgerError(Exception):
    """A refused ledger action; `errors` maps form fields to messages; 409 = changed meanwhile."""

    def __init__(self, message: str, errors: dict[str, str] | None = None, status: int = 400):
        super().__init__(message)
        self.message = message
        self.errors = errors or {}
        self.status = status


def parse_date(text: Any, field: str, errors: dict[str, str], *, required: bool = True, message: str = "") -> dt.date | None:
    from app.core.i18n import _

    raw = str(text or "").strip()
    if not raw:
        if required:
            errors[field] = message or _("Enter a date.")
        return None
    try:
        return dt.date.fromisoformat(raw)
    except ValueError:
        errors[field] = _("Use the format YYYY-MM-DD.")
        return None


def parse_amount(text: Any, field: str, errors: dict[str, str], *, allow_zero: bool = False) -> Decimal | None:
    from app.core.i18n import _

    try:
        value = parse_money(text if isinstance(text, Decimal) else str(text or ""))
    except MoneyError:
        errors[field] = _("Enter an amount such as 1234.50.")
        return None
    if value < 0 or (value == 0 and not allow_zero):
        errors[field] = _("The amount must be greater than zero.") if not allow_zero else _("The amount cannot be negative.")
        return None
    if value >= Decimal("100000000"):
        errors[field] = _("The amount is too large.")
        return None
    return value


def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-11' → (2026-11-01, 2026-11-30); raises ValueError on junk."""
    year, mon = (int(part) for part in month.split("-")[:2])
    start = dt.date(year, mon, 1)
    end = (dt.date(year + (mon == 12), mon % 12 + 1, 1)) - dt.timedelta(days=1)
    return start, end


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


async def setting(key: str, default: Any) -> Any:
    rows = await fetch("SELECT value FROM app_setting WHERE key = {}", key)
    if not rows:
        return default
    value = rows[0]["value"]
    if isinstance(value, str):
        try:
            return json.loads(value)
        except ValueError:
            return default
    return value if value is not None else default


async def user_row(user_id: int | None) -> dict | None:
    if not user_id:
        return None
    rows = await fetch("SELECT id, username, full_name, roles, is_active FROM app_user WHERE id = {}", user_id)
    if not rows:
        return None
    row = dict(rows[0])
    row["role_set"] = parse_roles(row["roles"])
    row["display"] = row["full_name"] or row["username"]
    return row


async def repairers() -> list[dict]:
    """Active users who carry slip books (field technicians and bench engineers)."""
    rows = await fetch(
        "SELECT id, username, full_name, roles FROM app_user WHERE is_active = {} AND "
        "(roles LIKE {} OR roles LIKE {}) ORDER BY username", True, "%field%", "%bench%")
    out = []
    for row in rows:
        roles = parse_roles(row["roles"])
        if roles & {"field", "bench"}:
            out.append({"id": row["id"], "username": row["username"], "display": row["full_name"] or row["username"]})
    return out


def is_unique_violation(exc: Exception) -> bool:
    text = f"{type(exc).__name__} {exc}".lower()
    return "unique" in text or "duplicate" in text


# ---------------------------------------------------------------- revision + read cache
#
# Every ledger write transaction stamps the `ledger.rev` setting row (an upsert of its updated_at,
# committed with the write). Reports over the whole month / all open lines (reconciliation summary,
# ageing, overdue review, panel counts) are cached per process under (report, args, rev): a cache
# entry is used only while the stamp it was computed under is still the current one, so a write in
# any process (or worker) invalidates it at once; nothing is ever served stale after a commit.

from contextlib import asynccontextmanager  # noqa: E402
from typing import AsyncIterator, Awaitable, Callable  # noqa: E402

REV_KEY = "ledger.rev"
_CACHE: dict[tuple, tuple[Any, Any]] = {}
_CACHE_MAX = 64


async def bump_rev() -> None:
    """Stamp the ledger revision; call inside the write transaction (done by ledger_tx)."""
    from app.core.db import utcnow

    now = utcnow()
    await fetch("INSERT INTO app_setting (key, value, updated_at) VALUES ({}, '0', {}) "
                "ON CONFLICT (key) DO UPDATE SET updated_at = excluded.updated_at", REV_KEY, now)


async def current_rev() -> Any:
    rows = await fetch("SELECT updated_at FROM app_setting WHERE key = {}", REV_KEY)
    return str(rows[0]["updated_at"]) if rows else None


@asynccontextmanager
async def ledger_tx(joined: bool = False) -> AsyncIterator[None]:
    """A ledger write transaction (or the caller's, when `joined` and one is open) that stamps the revision."""
    from app.core.db import in_transaction, write_transaction

    if joined and in_transaction():
        yield
        await bump_rev()
        return
    async with write_transaction():
        yield
        await bump_rev()


_INFLIGHT: dict[tuple, "asyncio.Future"] = {}


async def cached(key: tuple, compute: Callable[[], Awaitable[Any]]) -> Any:
    """The report for `key` at the current revision; concurrent misses share one computation."""
    import asyncio

    rev = await current_rev()
    hit = _CACHE.get(key)
    if hit is not None and hit[0] == rev:
        return hit[1]
    flight = (key, rev)
    pending = _INFLIGHT.get(flight)
    if pending is not None:
        return await asyncio.shield(pending)
    future = asyncio.get_running_loop().create_future()
    _INFLIGHT[flight] = future
    try:
        value = await compute()
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # mark retrieved: waiters (if any) re-raise it
        raise
    finally:
        _INFLIGHT.pop(flight, None)
    future.set_result(value)
    if len(_CACHE) >= _CACHE_MAX:
        _CACHE.clear()
    _CACHE[key] = (rev, value)
    return value


def clear_cache() -> None:
    _CACHE.clear()


_INDEXES: set[str] | None = None


async def sqlite_index(name: str) -> str:
    """` INDEXED BY name` on SQLite (its planner, without statistics, picks a range index and sorts
    thousands of rows for a newest-first page); nothing on PostgreSQL, or when the index is missing."""
    global _INDEXES
    from app.core.db import is_sqlite

    if not is_sqlite():
        return ""
    if _INDEXES is None or name not in _INDEXES:
        _INDEXES = {r["name"] for r in await fetch("SELECT name FROM sqlite_master WHERE type = 'index'")}
    return f" INDEXED BY {name}" if name in _INDEXES else ""

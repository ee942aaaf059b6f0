"""Shared bits of the ledger services: months and weeks, users, the revision stamp and report cache."""

from __future__ import annotations

import datetime as dt
from types import SimpleNamespace
from typing import Any

from app.core.errors import DomainError
from app.core.roles import parse_roles
from app.core.db import fetch




def month_bounds(month: str) -> tuple[dt.date, dt.date]:
    """'2026-11' → (2026-11-01, 2026-11-30); raises ValueError on junk."""
    year, mon = (int(part) for part in month.split("-")[:2])
    start = dt.date(year, mon, 1)
    end = (dt.date(year + (mon == 12), mon % 12 + 1, 1)) - dt.timedelta(days=1)
    return start, end


def week_start(day: dt.date) -> dt.date:
    return day - dt.timedelta(days=day.weekday())


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


def carries_books(role_set: frozenset[str]) -> bool:
    """May a user with these roles hold a slip book (permission `ledger.slips.carry`)?"""
    return can(SimpleNamespace(roles=role_set), "ledger.slips.carry")


async def repairers() -> list[dict]:
    """Active users who carry slip books (field technicians and bench engineers)."""
    ensure_installed()
    from app.core.permissions import roles_for

    carriers = sorted(roles_for("ledger.slips.carry"))
    rows = await fetch(
        "SELECT id, username, full_name, roles FROM app_user WHERE is_active = {} AND ("
        + " OR ".join("roles LIKE {}" for _r in carriers) + ") ORDER BY username", True, *[f"%{r}%" for r in carriers])
    out = []
    for row in rows:
        if carries_books(parse_roles(row["roles"])):
            out.append({"id": row["id"], "username": row["username"], "display": row["full_name"] or row["username"]})
    return out


# ---------------------------------------------------------------- revision + read cache
#
# Every ledger write transaction stamps the one `ledger_revision` row (an upsert of its updated_at,
# committed with the write). Reports over the whole month / all open lines (reconciliation summary,
# ageing, overdue review, panel counts) are cached per process under (report, args, rev): a cache
# entry is used only while the stamp it was computed under is still the current one, so a write in
# any process (or worker) invalidates it at once; nothing is ever served stale after a commit.

from contextlib import asynccontextmanager  # noqa: E402
from typing import AsyncIterator, Awaitable, Callable  # noqa: E402

_CACHE: dict[tuple, tuple[Any, Any]] = {}
_CACHE_MAX = 64


async def bump_rev() -> None:
    """Stamp the ledger revision; call inside the write transaction (done by ledger_tx)."""
    from app.core.db import utcnow

    now = utcnow()
    # raw-sql: ON CONFLICT DO UPDATE keeps the single revision row
    await fetch("INSERT INTO ledger_revision (id, updated_at) VALUES (1, {}) "
                "ON CONFLICT (id) DO UPDATE SET updated_at = excluded.updated_at", now)


async def current_rev() -> Any:
    rows = await fetch("SELECT updated_at FROM ledger_revision WHERE id = 1")
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


async def moved(table: str, row_id: int, version: int | None, transition: Any, actor: Any, message: str = "",
                **kwargs: Any) -> dict:
    """core.status.move(), keeping the ledger's own wording of a 409 (the row changed meanwhile or is no longer
    in the state the move starts from). The permission is checked by the caller (it names the refusal)."""
    from app.core.i18n import _
    from app.core.status import move

    kwargs.setdefault("check_perm", False)
    try:
        return await move(table, row_id, version, transition, actor=actor, **kwargs)
    except DomainError as exc:
        if exc.status != 409:
            raise
        raise DomainError(message or _("Someone else changed this meanwhile. Reload and try again."), status=409,
                          current=exc.current) from exc


def ensure_installed() -> None:
    """Install the ledger's manifest (permission names, setting specs) if create_app() has not yet.

    core's permission and setting registries know a domain only once its manifest is installed; a
    ledger service called before any app exists (another domain's service test, a script, the seed)
    would otherwise fail with KeyError. Idempotent, and a no-op once the app is built."""
    from app.core.permissions import PERMISSIONS

    if "ledger.view" not in PERMISSIONS:
        from app.core.manifest import install
        from app.ledger import MANIFEST

        install(MANIFEST)


def can(who: Any, *names: str) -> bool:
    """app.core.permissions.can() for ledger permission names (see ensure_installed)."""
    from app.core import permissions

    ensure_installed()
    return permissions.can(who, *names)


def require(who: Any, *names: str) -> None:
    """app.core.permissions.require() for ledger permission names: a 403 DomainError unless allowed."""
    from app.core import permissions

    ensure_installed()
    permissions.require(who, *names)


async def ledger_setting(key: str) -> Any:
    """`app.core.settings.setting(key)` for a ledger key (its spec lives in the manifest; see ensure_installed)."""
    from app.core.settings import setting

    ensure_installed()
    return await setting(key)

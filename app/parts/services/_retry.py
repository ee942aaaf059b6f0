"""Parts services: bounded retry of database conflicts (issue #11 item 3).

Two movements that touch the same stock-level rows in opposite orders could deadlock on PostgreSQL
(`DeadlockDetectedError`); `_book` now takes the rows in one global order (by location id), which
removes that cycle, but PostgreSQL may still abort a transaction as a deadlock or a serialization
failure under other mixes, and SQLite may answer "database is locked" once its busy timeout runs out.
Such a failure rolled the whole transaction back, so running the service again is safe: the movement
services run under `retrying()`, up to `ATTEMPTS` times with a short random back-off, and a conflict
that outlasts them is a 409 "try again" — never a 500.

Only the outermost call retries: inside a caller's transaction (`atomic()` joined with a SAVEPOINT) the
caller's transaction is lost with the conflict, so the error goes up to whoever owns the transaction.
"""

from __future__ import annotations

import asyncio
import functools
import random
from contextvars import ContextVar
from typing import Any, Awaitable, Callable, TypeVar

from app.core.db import in_transaction
from app.core.errors import DomainError
from app.core.i18n import _

# A movement is a few milliseconds; 8 attempts with a back-off of up to ~0.2 s each ride out bursts of
# dozens of concurrent movements of one part (measured by bench/stress_transfers.py) without hiding a
# real livelock for long.
ATTEMPTS = 8
_BACKOFF_S = 0.01

_PG_CONFLICTS = {"DeadlockDetectedError", "SerializationError", "TransactionRollbackError", "LockNotAvailableError"}
_retrying: ContextVar[bool] = ContextVar("parts_retrying", default=False)

T = TypeVar("T")


def is_conflict(exc: BaseException | None) -> bool:
    """A deadlock, a serialization failure or a busy SQLite database (anywhere in the cause chain)."""
    seen = 0
    while exc is not None and seen < 5:
        names = {c.__name__ for c in type(exc).__mro__}
        if names & _PG_CONFLICTS:
            return True
        if "OperationalError" in names and any(w in str(exc).lower() for w in ("database is locked", "database is busy")):
            return True
        exc = exc.__cause__ or exc.__context__
        seen += 1
    return False


def busy() -> DomainError:
    return DomainError(_("The stock is busy with other movements right now; nothing was booked. Please try again."),
                       status=409, current={"kind": "conflict"})


async def retrying(fn: Callable[..., Awaitable[T]], *args: Any, **kwargs: Any) -> T:
    """Run `fn` in its own transaction(s), again after a deadlock/serialization/busy failure (bounded)."""
    if in_transaction() or _retrying.get():
        return await fn(*args, **kwargs)
    flag = _retrying.set(True)
    try:
        for attempt in range(1, ATTEMPTS + 1):
            try:
                return await fn(*args, **kwargs)
            except DomainError:
                raise
            except Exception as exc:  # noqa: BLE001 - only conflicts are retried; anything else goes up unchanged
                if not is_conflict(exc):
                    raise
                if attempt == ATTEMPTS:
                    raise busy() from exc
                await asyncio.sleep(random.uniform(0, _BACKOFF_S * 2 ** min(attempt, 4)))
        raise busy()  # pragma: no cover - the loop returns or raises
    finally:
        _retrying.reset(flag)


def retry_conflicts(fn: Callable[..., Awaitable[T]]) -> Callable[..., Awaitable[T]]:
    """Decorator form of `retrying()` for a service that owns its transaction."""

    @functools.wraps(fn)
    async def wrapper(*args: Any, **kwargs: Any) -> T:
        return await retrying(fn, *args, **kwargs)

    return wrapper

"""Database layer: engine from DATABASE_URL, write transactions, gapless document numbers.

* SQLite (default): WAL journal (persistent, set by `migrate`), `synchronous=NORMAL`
  and a busy timeout on every connection; writes go through `write_transaction()`
  (`BEGIN IMMEDIATE`, so two writers queue instead of failing on lock upgrade);
  reads outside a transaction share one long-lived connection opened in the app
  lifespan instead of Piccolo's new connection per query (measured: 541 → 941 req/s
  on a 1M-row list page).
* PostgreSQL: asyncpg pool opened in the app lifespan.
* `SHOUHOU_COUNT_QUERIES=1` (benchmarks only, issue #15): the engine is built as a counting subclass that
  adds one to the current request's counter per statement; `count_queries(app)` wraps an ASGI app so each
  response carries `x-queries`. Without the variable the plain engine class is built: no cost at all.
"""

from __future__ import annotations

import datetime as dt
import os
from contextlib import asynccontextmanager
from contextvars import ContextVar
from typing import Any, AsyncIterator

import aiosqlite
from piccolo.engine.base import Engine
from piccolo.engine.postgres import PostgresEngine
from piccolo.engine.sqlite import SQLiteEngine, TransactionType, dict_factory

from app.core.config import get_settings


class ShouhouSQLiteEngine(SQLiteEngine):
    """SQLiteEngine with per-connection pragmas and a shared read connection."""

    _reader: aiosqlite.Connection | None = None

    async def _prepare(self, connection: aiosqlite.Connection) -> aiosqlite.Connection:
        connection.row_factory = dict_factory  # type: ignore[assignment]
        await connection.execute("PRAGMA foreign_keys = 1")
        await connection.execute("PRAGMA synchronous = NORMAL")
        # `INSERT OR REPLACE` deletes the row it replaces; only with recursive triggers on does that delete fire
        # the append-only tables' BEFORE DELETE trigger — without it the audit log could be rewritten (#11).
        await connection.execute("PRAGMA recursive_triggers = 1")
        return connection

    async def get_connection(self) -> aiosqlite.Connection:  # used by transactions
        return await self._prepare(await aiosqlite.connect(**self.connection_kwargs))

    async def start_reader(self) -> None:
        if self._reader is None:
            self._reader = await self._prepare(await aiosqlite.connect(**self.connection_kwargs))

    async def stop_reader(self) -> None:
        if self._reader is not None:
            reader, self._reader = self._reader, None
            await reader.close()

    async def _run_in_new_connection(self, query: str, args: list[Any] | None = None, query_type: str = "generic", table=None):
        args = args or []
        reader = self._reader
        if reader is not None and query_type != "insert" and query.lstrip()[:6].upper() == "SELECT":
            async with reader.execute(query, args) as cursor:
                return await cursor.fetchall()
        async with aiosqlite.connect(**self.connection_kwargs) as connection:
            await self._prepare(connection)
            async with connection.execute(query, args) as cursor:
                rows = await cursor.fetchall()
                await connection.commit()
                return rows


# --- Query counter (benchmarks, issue #15) --------------------------------------------------------------
# One list per request (set by count_queries); statements outside a request (lifespan, seeding) count nowhere.
_query_count: ContextVar[list[int] | None] = ContextVar("shouhou_query_count", default=None)


class CountingMixin:
    """Counts every statement the app sends through Piccolo (queries, raw SQL, DDL; not BEGIN/COMMIT)."""

    async def run_querystring(self, querystring, *args, **kwargs):
        counter = _query_count.get()
        if counter is not None:
            counter[0] += 1
        return await super().run_querystring(querystring, *args, **kwargs)  # type: ignore[misc]

    async def run_ddl(self, ddl: str, *args, **kwargs):
        counter = _query_count.get()
        if counter is not None:
            counter[0] += 1
        return await super().run_ddl(ddl, *args, **kwargs)  # type: ignore[misc]


class CountingSQLiteEngine(CountingMixin, ShouhouSQLiteEngine):
    pass


class CountingPostgresEngine(CountingMixin, PostgresEngine):
    pass


def counting_queries() -> bool:
    """SHOUHOU_COUNT_QUERIES=1: read once, when the engine is built."""
    return os.environ.get("SHOUHOU_COUNT_QUERIES", "").strip().lower() in {"1", "true", "yes", "on"}


def count_queries(app):
    """ASGI wrapper: counts the statements each HTTP request runs and sends them as `x-queries`.

    Used by the benchmark's counting server (bench/served.py); with the plain engine it always says 0."""

    async def wrapped(scope, receive, send):
        if scope["type"] != "http":
            await app(scope, receive, send)
            return
        counter = [0]
        token = _query_count.set(counter)

        async def send_counted(message):
            if message["type"] == "http.response.start":
                # Streaming bodies may query after this point; every page here renders before it starts.
                message = dict(message, headers=[*message.get("headers", []), (b"x-queries", str(counter[0]).encode())])
            await send(message)

        try:
            await app(scope, receive, send_counted)
        finally:
            _query_count.reset(token)

    return wrapped


def make_engine() -> Engine:
    settings = get_settings()
    counting = counting_queries()
    if settings.is_sqlite:
        cls = CountingSQLiteEngine if counting else ShouhouSQLiteEngine
        return cls(path=settings.sqlite_path, timeout=settings.sqlite_busy_timeout)
    if settings.database_url.startswith(("postgresql://", "postgres://")):
        pg = CountingPostgresEngine if counting else PostgresEngine
        return pg(config={"dsn": settings.database_url})
    raise RuntimeError(f"Unsupported DATABASE_URL: {settings.database_url!r}")


def engine() -> Engine:
    from app.piccolo_conf import DB

    return DB


def is_sqlite() -> bool:
    return engine().engine_type == "sqlite"


async def startup() -> None:
    """App lifespan start: open the PostgreSQL pool or the SQLite shared reader."""
    db = engine()
    settings = get_settings()
    if isinstance(db, PostgresEngine):
        await db.start_connection_pool(min_size=settings.db_pool_min, max_size=settings.db_pool_max)
    elif isinstance(db, ShouhouSQLiteEngine) and settings.sqlite_shared_reader:
        await db.start_reader()


async def shutdown() -> None:
    db = engine()
    if isinstance(db, PostgresEngine):
        await db.close_connection_pool()
    elif isinstance(db, ShouhouSQLiteEngine):
        await db.stop_reader()


@asynccontextmanager
async def write_transaction() -> AsyncIterator[Any]:
    """One write transaction; never joins an outer one (allow_nested=False).

    SQLite: `BEGIN IMMEDIATE` takes the write lock up front, so concurrent writers
    wait (busy timeout) rather than fail on a read→write upgrade.
    """
    db = engine()
    if db.engine_type == "sqlite":
        tx = db.transaction(transaction_type=TransactionType.immediate, allow_nested=False)
    else:
        tx = db.transaction(allow_nested=False)
    async with tx as transaction:
        yield transaction


def in_transaction() -> bool:
    return engine().current_transaction.get() is not None


async def fetch(sql: str, *args: Any) -> list[dict]:
    """Raw SQL with `{}` placeholders (Piccolo style); joins the current transaction."""
    from app.core.tables import AppSetting

    return await AppSetting.raw(sql, *args)


class Where:
    """A list page's filter, built clause by clause (audit log, ticket queue …): `eq()` adds
    `column = {}` only when the value is set; `add()` any clause with its arguments; `page()` runs
    `<select> WHERE … ORDER BY <key> DESC LIMIT n+1` and returns (rows, next keyset cursor)."""

    def __init__(self) -> None:
        self.clauses: list[str] = []
        self.args: list[Any] = []

    def add(self, clause: str, *args: Any) -> "Where":
        self.clauses.append(clause)
        self.args.extend(args)
        return self

    def eq(self, column: str, value: Any) -> "Where":
        return self.add(f"{column} = {{}}", value) if value else self

    def sql(self) -> str:
        return " WHERE " + " AND ".join(self.clauses) if self.clauses else ""

    async def page(self, select: str, key: str, limit: int) -> tuple[list[dict], Any]:
        rows = await fetch(select + self.sql() + f" ORDER BY {key} DESC LIMIT {int(limit) + 1}", *self.args)
        return rows[:limit], (rows[limit - 1]["id"] if len(rows) > limit else None)


_health: list[float | bool] = [float("-inf"), False]  # [checked at (monotonic), answer]


async def healthcheck(max_age: float = 1.0) -> bool:
    """Is the database answering? Asked at most once per `max_age` seconds per worker (issue #15: a load
    balancer polling /healthz must not cost a database round trip each time)."""
    import time

    now = time.monotonic()
    if now - float(_health[0]) < max_age:
        return bool(_health[1])
    try:
        rows = await fetch("SELECT 1 AS ok")
        ok = bool(rows) and rows[0]["ok"] == 1
    except Exception:  # noqa: BLE001 - any failure means the database is unreachable
        ok = False
    _health[:] = [now, ok]
    return ok


def utcnow() -> dt.datetime:
    return dt.datetime.now(dt.timezone.utc)


_savepoints = __import__("itertools").count(1)


@asynccontextmanager
async def atomic() -> AsyncIterator[None]:
    """Own a write transaction, or join the caller's inside a SAVEPOINT (so a refused step rolls back
    only itself). The one way a service says "my writes are one unit, whoever calls me"."""
    if in_transaction():
        name = f"sp_{next(_savepoints)}"
        await fetch(f"SAVEPOINT {name}")
        try:
            yield
        except BaseException:
            await fetch(f"ROLLBACK TO SAVEPOINT {name}")
            await fetch(f"RELEASE SAVEPOINT {name}")
            raise
        await fetch(f"RELEASE SAVEPOINT {name}")
    else:
        async with write_transaction():
            yield


def is_unique_violation(exc: BaseException) -> bool:
    """A UNIQUE index refused the row (SQLite IntegrityError / asyncpg UniqueViolationError)."""
    name = type(exc).__name__
    return name == "UniqueViolationError" or (name == "IntegrityError" and "UNIQUE" in str(exc).upper())


def new_form_token() -> str:
    """A one-time token a form carries, so a double submit books once (each domain keeps its own token table)."""
    import secrets

    return secrets.token_urlsafe(18)

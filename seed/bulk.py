"""Bulk loading for `python -m seed --scale N` (issue #15): rows built in Python in chunks, then one
prepared INSERT per chunk through `executemany` (SQLite) or COPY (`copy_records_to_table`, PostgreSQL),
on the connection of the caller's `write_transaction()`.

* Ids are drawn up front (`reserve_ids`), so child rows (contacts, visits, doc_number entity ids,
  repeat links) are built in the same pass — no RETURNING, no follow-up UPDATE.
* Document numbers come from the app's own counters (`doc_counter`), bumped once per chunk and year
  (`reserve_numbers`); the doc_number rows are the ones `app.core.numbers.next_number()` writes, so the
  app's next number follows the last seeded one without a gap (X-02).
* `tuned()`: SQLite connections opened while seeding get `synchronous=OFF`, a 256 MB page cache and
  in-memory temp storage; the engine's own connection setup is put back afterwards (the journal stays WAL).
* `Meter`: rows/s and seconds per step, printed at the end of each step.
"""

from __future__ import annotations

import sys
import time
from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Iterable, Sequence

from app.core.db import engine, fetch, is_sqlite, utcnow

CHUNK = 50_000


def _connection() -> Any:
    tx = engine().current_transaction.get()
    if tx is None:
        raise RuntimeError("seed.bulk needs the caller's write_transaction()")
    return tx.connection


async def insert(table: str, columns: Sequence[str], rows: Iterable[Sequence[Any]]) -> int:
    """Append `rows` to `table` (inside a write transaction). Returns the row count."""
    rows = rows if isinstance(rows, list) else list(rows)
    if not rows:
        return 0
    conn = _connection()
    if is_sqlite():
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES ({', '.join('?' for _ in columns)})"
        await conn.executemany(sql, rows)
    else:
        await conn.copy_records_to_table(table, columns=list(columns), records=rows)
    return len(rows)


async def execute_many(sql_qmark: str, rows: list[Sequence[Any]]) -> None:
    """One prepared statement (`?` placeholders) run for every row (UPDATEs after a bulk load)."""
    if not rows:
        return
    conn = _connection()
    if is_sqlite():
        await conn.executemany(sql_qmark, rows)
    else:
        parts = sql_qmark.split("?")
        sql = parts[0] + "".join(f"${i}{p}" for i, p in enumerate(parts[1:], start=1))
        await conn.executemany(sql, rows)


async def reserve_ids(table: str, count: int) -> int:
    """First of `count` fresh ids for `table` (inside a write transaction); the caller inserts them explicitly.
    PostgreSQL: the id sequence is moved past them, so the app's next INSERT continues after the block."""
    first = int((await fetch(f"SELECT COALESCE(MAX(id), 0) + 1 AS n FROM {table}"))[0]["n"])
    if not is_sqlite() and count:
        seq = await fetch("SELECT last_value, is_called FROM " + await _sequence(table))
        last = int(seq[0]["last_value"]) if seq[0]["is_called"] else int(seq[0]["last_value"]) - 1
        first = max(first, last + 1)
        await fetch(f"SELECT setval(pg_get_serial_sequence('{table}', 'id'), {{}})", first + count - 1)
    return first


async def _sequence(table: str) -> str:
    return (await fetch(f"SELECT pg_get_serial_sequence('{table}', 'id') AS s"))[0]["s"]


async def reserve_numbers(series: str, year: int, count: int) -> tuple[int, int, str, str]:
    """Bump `series`'s counter for `year` by `count` in one UPDATE (the rows next_number() bumps one by one).
    Returns (period, first number, format, prefix); the caller writes the doc_number rows with `number_rows`."""
    spec = (await fetch("SELECT prefix, format, yearly FROM doc_series WHERE code = {}", series))[0]
    period = year if spec["yearly"] else 0
    await fetch("INSERT INTO doc_counter (series, period, last_value) VALUES ({}, {}, 0) "
                "ON CONFLICT (series, period) DO NOTHING", series, period)
    last = int((await fetch("UPDATE doc_counter SET last_value = last_value + {} WHERE series = {} AND period = {} "
                            "RETURNING last_value", count, series, period))[0]["last_value"])
    return period, last - count + 1, spec["format"], spec["prefix"]


class Numbers:
    """Gapless numbers of one series, drawn per year in blocks; `take(year)` → formatted number, and the
    doc_number rows to insert (`rows`, entity ids filled in by `attach`)."""

    COLUMNS = ["series", "period", "number", "formatted", "entity_type", "entity_id", "created_at"]

    def __init__(self, series: str, entity_type: str) -> None:
        self.series, self.entity_type = series, entity_type
        self.blocks: dict[int, list[Any]] = {}  # year → [period, next n, format, prefix]
        self.rows: list[list[Any]] = []
        self.now = utcnow()

    async def reserve(self, counts_by_year: dict[int, int]) -> None:
        """At most `n` numbers per year (what `flush` does not use goes back to the counter)."""
        for year, n in sorted(counts_by_year.items()):
            if n:
                period, first, fmt, prefix = await reserve_numbers(self.series, year, n)
                self.blocks[year] = [period, first, fmt, prefix, first + n - 1]

    def take(self, year: int, entity_id: int | str = "") -> str:
        block = self.blocks[year]
        n = block[1]
        block[1] = n + 1
        formatted = block[2].format(prefix=block[3], year=year, n=n)
        self.rows.append([self.series, block[0], n, formatted, self.entity_type, str(entity_id), self.now])
        return formatted

    async def flush(self) -> None:
        """Write the doc_number rows; a block not used up is handed back, so the counter = the last number used."""
        await insert("doc_number", self.COLUMNS, self.rows)
        self.rows = []
        for block in self.blocks.values():
            period, next_n, _fmt, _prefix, last = block
            if next_n <= last:
                await fetch("UPDATE doc_counter SET last_value = {} WHERE series = {} AND period = {} AND last_value = {}",
                            next_n - 1, self.series, period, last)
                block[4] = next_n - 1


@asynccontextmanager
async def tuned() -> AsyncIterator[None]:
    """SQLite: faster (non-durable) connections while seeding; the engine's own setup is restored after."""
    db = engine()
    prepare = getattr(db, "_prepare", None)
    if not is_sqlite() or prepare is None:
        yield
        return

    async def fast(connection):
        connection = await prepare(connection)
        await connection.execute("PRAGMA synchronous = OFF")
        await connection.execute("PRAGMA cache_size = -262144")
        await connection.execute("PRAGMA temp_store = MEMORY")
        return connection

    db._prepare = fast  # type: ignore[method-assign]
    try:
        yield
    finally:
        del db._prepare  # back to the class's method


class Meter:
    """Seconds and rows/s of one seed step (printed unless quiet)."""

    def __init__(self, label: str, quiet: bool) -> None:
        self.label, self.quiet = label, quiet
        self.started = time.perf_counter()
        self.cpu = time.process_time()  # this process, all threads (the aiosqlite one too): wall on a quiet host
        self.counts: dict[str, int] = {}

    def add(self, table: str, n: int) -> None:
        self.counts[table] = self.counts.get(table, 0) + n

    def done(self) -> float:
        seconds = time.perf_counter() - self.started
        cpu = time.process_time() - self.cpu
        if not self.quiet:
            total = sum(self.counts.values())
            detail = ", ".join(f"{t} {n:,}" for t, n in self.counts.items())
            print(f"seed {self.label}: {total:,} rows in {seconds:.1f} s wall, {cpu:.1f} s CPU "
                  f"({total / max(seconds, 1e-9):,.0f} rows/s wall; {detail})", file=sys.stderr, flush=True)
        return seconds

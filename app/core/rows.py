"""Inserts and single-table updates through Piccolo's query builder (issue #10, item 8).

    new_id = await insert(RmaPartUse, returning=RmaPartUse.id, rma_id=rma_id, part_id=part_id, qty=n, ...)
    await update(Part, Part.id == part_id, name=name, updated_at=utcnow())

Every keyword must be a column of the Table class (its Python name), else `UnknownColumn` says which table
and which names — a typo fails on the first run, on both engines, instead of as a database error on one.

The insert names ONLY the columns given (Piccolo's own `Table.insert(Table(...))` would also write the
Python-side default of every other column; here the migrated database default applies, exactly as with the
raw `INSERT` these calls replace). Values go through Piccolo's `convert_to_sql_value` (enums → value, dicts
for JSON columns → JSON text), then the same engine adapters as raw SQL, so Decimal, dates, timestamps with
time zone and booleans are stored as before on SQLite and PostgreSQL.

Both run through the engine's `run_querystring`, which joins the transaction in Piccolo's contextvar: inside
`write_transaction()` / `atomic()` they commit or roll back with the caller's other statements.

Raw SQL stays where it is the clearer tool (compare-and-set in `core.status.move`, `x = x + 1`, sums,
reports, INSERT … SELECT, ON CONFLICT, multi-table statements) with a `# raw-sql: reason` comment above it.
"""

from __future__ import annotations

from typing import Any, Sequence

from piccolo.columns import Column
from piccolo.custom_types import Combinable
from piccolo.query.methods.insert import Insert
from piccolo.querystring import QueryString
from piccolo.table import Table
from piccolo.utils.sql_values import convert_to_sql_value


class UnknownColumn(ValueError):
    """A keyword that is not a column of the Table class (a programming error, never a user's)."""


def _columns(table: type[Table], values: dict[str, Any]) -> list[Column]:
    if not values:
        raise UnknownColumn(f"{table.__name__}: no columns given")
    by_name = {c._meta.name: c for c in table._meta.columns}
    unknown = sorted(k for k in values if k not in by_name)
    if unknown:
        raise UnknownColumn(f"{table.__name__} ({table._meta.tablename}) has no column {', '.join(unknown)}")
    return [by_name[k] for k in values]


class _GivenColumnsInsert(Insert):
    """Piccolo's Insert, writing only the given columns of one row (RETURNING and transactions as Piccolo's)."""

    __slots__ = ("given",)

    def __init__(self, table: type[Table], given: dict[Column, Any]):
        super().__init__(table)
        self.given = given

    def _raw_response_callback(self, results: list) -> None:  # no Table instance to write the id back to
        return None

    @property
    def default_querystrings(self) -> Sequence[QueryString]:
        names = ", ".join(f'"{c._meta.db_column_name}"' for c in self.given)
        marks = ", ".join("{}" for _ in self.given)
        args = [convert_to_sql_value(value=v, column=c) for c, v in self.given.items()]
        query = QueryString(f"INSERT INTO {self.table._meta.get_formatted_tablename()} ({names}) VALUES ({marks})",
                            *args, query_type="insert", table=self.table)
        returning = self.returning_delegate._returning
        if returning:
            query = QueryString("{}{}", query, returning.querystring, query_type="insert", table=self.table)
        return [query]


async def insert(table: type[Table], /, *, returning: Column | Sequence[Column] | None = None, **values: Any) -> Any:
    """Insert one row of `table` with the given columns. Returns None, the value of the one `returning`
    column (e.g. the new id), or a dict when several columns are returned."""
    columns = _columns(table, values)
    query = _GivenColumnsInsert(table, dict(zip(columns, values.values())))
    if returning is None:
        await query.run()
        return None
    several = not isinstance(returning, Column)
    query.returning(*(returning if several else [returning]))
    rows = await query.run()
    row = rows[0] if rows else None
    if row is None or several:
        return row
    return row[returning._meta.name]  # type: ignore[union-attr]


async def update(table: type[Table], where: Combinable, /, *, returning: Column | Sequence[Column] | None = None,
                 **values: Any) -> Any:
    """`UPDATE table SET <given columns> WHERE <where>` (a Piccolo expression, required). Returns None, or the
    returned rows (list of dicts) when `returning` is given — an empty list means no row matched."""
    columns = _columns(table, values)
    query = table.update(dict(zip(columns, values.values()))).where(where)
    if returning is None:
        await query.run()
        return None
    query = query.returning(*(returning if not isinstance(returning, Column) else [returning]))
    return await query.run()

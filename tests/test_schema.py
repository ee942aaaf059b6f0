"""The Piccolo Table classes and the migrated schema describe the same database (issue #10, item 8):
every table, every column, its kind of type and its nullability — on SQLite and on PostgreSQL."""

from __future__ import annotations

import pytest
from piccolo.columns import (JSON, JSONB, BigInt, Boolean, Date, Decimal, Integer, Numeric, Real, Serial, SmallInt,
                             Text, Timestamp, Timestamptz, Varchar)
from piccolo.columns.column_types import ForeignKey

from app.core.db import fetch
from app.domains import all_tables
from tests.conftest import is_postgres

KIND = [(Serial, "int"), (BigInt, "int"), (SmallInt, "int"), (Integer, "int"), (ForeignKey, "int"),
        (Boolean, "bool"), (Timestamptz, "timestamp"), (Timestamp, "timestamp"), (Date, "date"),
        (Numeric, "numeric"), (Decimal, "numeric"), (Real, "real"), (JSONB, "json"), (JSON, "json"),
        (Varchar, "text"), (Text, "text")]


def _kind_of_column(column) -> str:
    for cls, kind in KIND:
        if isinstance(column, cls):
            return kind
    return type(column).__name__


def _kind_of_sql(sql_type: str) -> str:
    t = sql_type.lower()
    if "int" in t or t == "serial":
        return "int"
    if "bool" in t:
        return "bool"
    if "timestamp" in t or "datetime" in t:
        return "timestamp"
    if t == "date":
        return "date"
    if "numeric" in t or "decimal" in t:
        return "numeric"
    if "real" in t or "double" in t or "float" in t:
        return "real"
    if "json" in t:
        return "json"
    if "char" in t or "text" in t or "clob" in t:
        return "text"
    return t


async def _columns(table: str) -> dict[str, tuple[str, bool]]:
    """name → (kind, nullable) as the database has it."""
    if is_postgres():
        rows = await fetch("SELECT column_name, data_type, is_nullable FROM information_schema.columns "
                           "WHERE table_schema = 'public' AND table_name = {}", table)
        return {r["column_name"]: (_kind_of_sql(r["data_type"]), r["is_nullable"] == "YES") for r in rows}
    rows = await fetch(f"PRAGMA table_info({table})")  # table names come from the Table classes
    return {r["name"]: (_kind_of_sql(r["type"]), not r["notnull"] and not r["pk"]) for r in rows}


@pytest.mark.parametrize("table", all_tables(), ids=lambda t: t._meta.tablename)
async def test_table_class_matches_migrated_schema(table):
    """Same columns, same kind of type, same nullability (a drift between tables.py and migrations fails here)."""
    db = await _columns(table._meta.tablename)
    assert db, f"{table._meta.tablename} is not in the migrated database"
    declared = {c._meta.db_column_name: c for c in table._meta.columns}
    problems = []
    for name, column in declared.items():
        if name not in db:
            problems.append(f"{name}: in the Table class, not in the database")
            continue
        kind, nullable = db[name]
        if _kind_of_column(column) != kind:
            problems.append(f"{name}: class {_kind_of_column(column)} vs database {kind}")
        if not column._meta.primary_key and bool(column._meta.null) != nullable:
            problems.append(f"{name}: class null={column._meta.null} vs database nullable={nullable}")
    for name in db.keys() - declared.keys():
        problems.append(f"{name}: in the database, not in the Table class")
    assert not problems, f"{table._meta.tablename}:\n" + "\n".join(problems)

"""Helpers for hand-written migrations (ARCHITECTURE: Piccolo cannot ALTER or add
constraints on SQLite, so schema is plain DDL with a few per-dialect tokens).

Tokens: `{pk}` → SERIAL / INTEGER primary key, `{money}` → NUMERIC(14,2).
"""

from __future__ import annotations

from piccolo.engine.finder import engine_finder

TOKENS = {
    "sqlite": {"pk": '"id" INTEGER PRIMARY KEY AUTOINCREMENT NOT NULL', "money": "NUMERIC(14, 2)"},
    "postgres": {"pk": '"id" SERIAL PRIMARY KEY NOT NULL', "money": "NUMERIC(14, 2)"},
}


def dialect() -> str:
    engine = engine_finder()
    assert engine is not None
    return "sqlite" if engine.engine_type == "sqlite" else "postgres"


async def run(*statements: str) -> None:
    """Run DDL statements (one per string) in the migration's transaction."""
    engine = engine_finder()
    assert engine is not None
    tokens = TOKENS[dialect()]
    for statement in statements:
        sql = statement
        for key, value in tokens.items():
            sql = sql.replace("{" + key + "}", value)
        await engine.run_ddl(sql)


def append_only(table: str) -> list[str]:
    """Triggers that make `table` append-only: UPDATE and DELETE are refused by the database."""
    if dialect() == "sqlite":
        return [
            f"CREATE TRIGGER {table}_no_update BEFORE UPDATE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
            f"CREATE TRIGGER {table}_no_delete BEFORE DELETE ON {table} "
            f"BEGIN SELECT RAISE(ABORT, '{table} is append-only'); END",
        ]
    return [
        f"CREATE OR REPLACE FUNCTION {table}_append_only() RETURNS trigger AS $$ "
        f"BEGIN RAISE EXCEPTION '{table} is append-only'; END; $$ LANGUAGE plpgsql",
        f"CREATE TRIGGER {table}_no_update BEFORE UPDATE OR DELETE ON {table} "
        f"FOR EACH ROW EXECUTE FUNCTION {table}_append_only()",
        f"CREATE TRIGGER {table}_no_truncate BEFORE TRUNCATE ON {table} "
        f"FOR EACH STATEMENT EXECUTE FUNCTION {table}_append_only()",
    ]

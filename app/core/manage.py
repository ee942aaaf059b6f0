"""`python -m app.core.manage migrate`: create the database (SQLite: WAL journal) and apply migrations."""

from __future__ import annotations

import asyncio
import contextlib
import io
import sqlite3
import sys
from pathlib import Path

import app  # noqa: F401  (sets PICCOLO_CONF)
from app.core.config import get_settings


def prepare_sqlite(path: str) -> None:
    """WAL persists in the database file; set it once before anything else opens it."""
    Path(path).parent.mkdir(parents=True, exist_ok=True)
    with sqlite3.connect(path) as connection:
        connection.execute("PRAGMA journal_mode = WAL")


async def migrate(quiet: bool = False) -> None:
    from piccolo.apps.migrations.commands.forwards import run_forwards

    settings = get_settings()
    if settings.is_sqlite:
        prepare_sqlite(settings.sqlite_path)
    out = io.StringIO() if quiet else sys.stdout
    with contextlib.redirect_stdout(out):
        result = await run_forwards("shouhou")
    if not result.success:
        raise SystemExit(f"migration failed: {result.message}")


def main(argv: list[str]) -> None:
    command = argv[0] if argv else "migrate"
    if command == "migrate":
        asyncio.run(migrate())
    else:
        raise SystemExit(f"unknown command {command!r}; try: migrate")


if __name__ == "__main__":
    main(sys.argv[1:])

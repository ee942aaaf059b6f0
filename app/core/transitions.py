"""Status transitions as one compare-and-set (ARCHITECTURE rule 3).

`UPDATE <table> SET status = to, version = version + 1, updated_at = now, <sets>
 WHERE id = ? AND status IN (<allowed from>) RETURNING …` — a stale second click
matches no row and changes nothing; the caller turns the empty answer into a 409.
"""

from __future__ import annotations

from typing import Any, Iterable

from app.core.db import fetch, utcnow


async def move_status(table: str, row_id: int, frm: Iterable[str], to: str, *, sets: dict[str, Any] | None = None,
                      returning: str = "*") -> list[dict]:
    """Run the transition; `table`, column names and `returning` are code constants, never user input.
    Returns the updated row(s) — empty when the row was not in one of the `frm` states."""
    sets = sets or {}
    allowed = tuple(frm)
    cols = "".join(f", {column} = {{}}" for column in sets)
    placeholders = ", ".join("{}" for _ in allowed)
    return await fetch(
        f"UPDATE {table} SET status = {{}}, version = version + 1, updated_at = {{}}{cols} "
        f"WHERE id = {{}} AND status IN ({placeholders}) RETURNING {returning}",
        to, utcnow(), *sets.values(), row_id, *allowed,
    )

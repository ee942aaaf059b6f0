"""One status machine for every domain (ARCHITECTURE rule 3; InvenTree `generic/states`).

A domain declares, in its own `status.py`, a `StrEnum` of states, its groups (open / finished …),
labels, and a `TRANSITIONS` table of `Transition(action, frm, to, perm)`. Every change of a
status column goes through `move()`: one compare-and-set on (id, status[, version]) that

* refuses (403) an actor without the transition's permission,
* bumps `version` and stamps `updated_at`, with the caller's extra `sets=` in the same UPDATE,
* writes one `status_change` row (who, when, from → to) in the caller's transaction,
* returns the updated row — or raises `Stale` (409: "already changed by X at HH:MM") when the row
  moved since it was shown, or a 409 `DomainError` when the transition is not possible from the
  row's current state, or 404 when there is no such row.

Plain versioned edits (a customer's address, a price tier) use `update_versioned()`: the same
compare-and-set on (id, version) without a status.

Table and column names are code constants from the domain, never user input.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from enum import StrEnum
from typing import Any, Iterable, Mapping

from app.core.actor import Actor
from app.core.db import fetch, utcnow
from app.core.errors import DomainError, Stale, not_found
from app.core.i18n import _
from app.core.permissions import require
from app.core.rows import insert
from app.core.tables import StatusChange


@dataclass(frozen=True)
class Transition:
    """`action` names the move (audit, history); `frm` the states it may start from; `perm` who may."""

    action: str
    frm: tuple[str, ...]
    to: str
    perm: str | None = None
    label: Any = ""

    def __post_init__(self) -> None:
        object.__setattr__(self, "frm", tuple(str(s) for s in self.frm))
        object.__setattr__(self, "to", str(self.to))

    def allowed_from(self, status: str) -> bool:
        return str(status) in self.frm


def transitions_from(table: Iterable[Transition], status: str) -> list[Transition]:
    """The moves possible from `status` (for buttons: show only what can be done)."""
    return [t for t in table if t.allowed_from(status)]


def label_of(labels: Mapping[Any, Any], status: Any) -> str:
    """The translated label of a state (never the code itself in a Chinese page)."""
    value = labels.get(status)
    if value is None and isinstance(status, str):
        value = next((v for k, v in labels.items() if str(k) == status), None)
    return str(value) if value is not None else str(status)


async def _current(table: str, row_id: int, column: str) -> dict | None:
    rows = await fetch(f"SELECT id, {column} AS status, version FROM {table} WHERE id = {{}}", row_id)
    return rows[0] if rows else None


async def last_change(table: str, row_id: int) -> dict:
    """Who last moved this row and when (for the Stale message)."""
    rows = await fetch(
        "SELECT display_name, username, created_at FROM status_change WHERE table_name = {} AND row_id = {} "
        "ORDER BY version DESC LIMIT 1", table, row_id)
    if not rows:
        return {}
    row = rows[0]
    return {"changed_by": row["display_name"] or row["username"], "changed_at": row["created_at"]}


async def _stale(table: str, row_id: int, current: dict) -> Stale:
    info = {"changed_by": current.get("moved_by") or current.get("updated_by") or "?",
            "changed_at": current.get("moved_at") or current.get("updated_at")}
    info.update(await last_change(table, row_id))
    return Stale({**current, **info})


async def move(table: str, row_id: int, version: int | None, t: Transition, *, actor: Actor,
               sets: Mapping[str, Any] | None = None, column: str = "status", note: str = "",
               labels: Mapping[Any, Any] | None = None, stamp: bool = True, now: dt.datetime | None = None,
               returning: str = "*", check_perm: bool = True) -> dict:
    """Compare-and-set `table.column` from one of `t.frm` to `t.to`; must run in the caller's write
    transaction. `version=None` means "whatever version it has now" (system moves, sweeps);
    a form always sends the version it showed, and a missing or unreadable one is refused upstream."""
    if check_perm and t.perm:
        require(actor, t.perm)
    current = await _current(table, row_id, column)
    if current is None:
        raise not_found()
    if version is not None and int(current["version"]) != int(version):
        raise await _stale(table, row_id, current)
    if not t.allowed_from(current["status"]):
        state = label_of(labels or {}, current["status"])
        raise DomainError(_("Not possible now: it is “%(state)s”.", state=state), status=409, current=current)
    now = now or utcnow()
    values: dict[str, Any] = {column: t.to, **dict(sets or {})}
    if stamp:
        values.setdefault("updated_at", now)
    assignments = ", ".join(f"{col} = {{}}" for col in values) + ", version = version + 1"
    # compare-and-set on the exact (status, version) read above: a concurrent mover makes it match nothing
    # raw-sql: compare-and-set on (id, status, version) with RETURNING, for any domain's table
    rows = await fetch(
        f"UPDATE {table} SET {assignments} WHERE id = {{}} AND {column} = {{}} AND version = {{}} RETURNING {returning}",
        *values.values(), row_id, current["status"], int(current["version"]))
    if not rows:
        fresh = await _current(table, row_id, column) or current
        raise await _stale(table, row_id, fresh)
    await insert(StatusChange, table_name=table, row_id=row_id, version=int(current["version"]) + 1,
                 from_status=str(current["status"]), to_status=t.to, action=t.action, user_id=actor.user_id,
                 username=actor.username[:100], display_name=actor.display[:100], note=(note or "")[:1000], created_at=now)
    row = dict(rows[0])
    row["from_status"] = current["status"]
    return row


async def update_versioned(table: str, row_id: int, version: int | None, sets: Mapping[str, Any], *,
                           stamp: bool = True, returning: str = "*", where: str = "", where_args: Iterable[Any] = ()) -> dict:
    """A plain edit as compare-and-set on (id, version): returns the row, or raises Stale / 404.
    `where` adds a condition (e.g. `"paid_fen + {} <= amount_fen"`) whose failure reads as a 409."""
    values = dict(sets)
    if stamp:
        values.setdefault("updated_at", utcnow())
    assignments = ", ".join(f"{col} = {{}}" for col in values) + ", version = version + 1"
    cond = " AND version = {}" if version is not None else ""
    args: list[Any] = [*values.values(), row_id] + ([int(version)] if version is not None else [])
    if where:
        cond += f" AND ({where})"
        args += list(where_args)
    # raw-sql: versioned update for any domain's table (version = version + 1 RETURNING)
    rows = await fetch(f"UPDATE {table} SET {assignments} WHERE id = {{}}{cond} RETURNING {returning}", *args)
    if rows:
        return dict(rows[0])
    current = await fetch(f"SELECT * FROM {table} WHERE id = {{}}", row_id)
    if not current:
        raise not_found()
    raise await _stale(table, row_id, dict(current[0]))


class Status(StrEnum):
    """Base for a domain's states: `class LoanStatus(Status): OUT = "out" …`."""

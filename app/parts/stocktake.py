"""Stocktake (R-INV-06): a count sheet per location, entered counts, differences posted as
adjustments (kind `stocktake`, reason with the sheet number) once a manager approves.

Lines snapshot the on-hand when the count starts; approval posts counted − expected for
each line through the ledger (conditional updates: a difference that would make stock
negative because of movements during the count is refused with a 409 and nothing posted).
Serialised parts are counted too, but their differences must be resolved unit by unit
(adjust with the serial) — approval refuses while one remains.
"""

from __future__ import annotations

from typing import Any

from app.core.audit.services import Actor, record
from app.core.numbers import attach_entity, next_number
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError, Stale, not_found, refused
from app.core.i18n import _
from app.parts.services._retry import retry_conflicts
from app.core.status import move, update_versioned
from app.parts.perms import allowed
from app.parts.services import MAX_QTY, adjust, claim_token, get_location, over_limit
from app.parts.status import STOCKTAKE_LABELS, STOCKTAKE_TRANSITIONS, StocktakeStatus

# Permissions (app/parts/manifest.py): parts.stocktake (count: warehouse, manager, gm), parts.stocktake.approve.


def _need(actor: Actor, perm_name: str, message: str) -> None:
    if not allowed(actor, perm_name):
        raise refused(message)


async def start(actor: Actor, location: Any, token: str | None = None) -> int:
    _need(actor, "parts.stocktake", _("Your roles do not allow stocktakes."))
    loc = await get_location(location)
    if loc is None:
        raise DomainError(_("Unknown location."), field="location")
    async with atomic():
        await claim_token(token, actor, "stocktake")
        number = await next_number("stocktake", entity_type="stocktake")
        now = utcnow()
        rows = await fetch(
            "INSERT INTO stocktake (number, location_id, status, created_by, created_by_name, version, created_at, updated_at) "
            "VALUES ({}, {}, 'counting', {}, {}, 1, {}, {}) RETURNING id",
            number.formatted, loc["id"], actor.user_id, actor.username, now, now,
        )
        st_id = int(rows[0]["id"])
        await attach_entity("stocktake", number.formatted, st_id)
        await fetch(
            "INSERT INTO stocktake_line (stocktake_id, part_id, expected_qty, counted_qty) "
            "SELECT {}, part_id, on_hand, NULL FROM stock_level WHERE location_id = {} AND (on_hand > 0 OR min_qty > 0)",
            st_id, loc["id"],
        )
        await record(actor, "stocktake.started", "stocktake", st_id, after={"number": number.formatted, "location": loc["code"]})
        return st_id


async def get(st_id: int) -> dict | None:
    rows = await fetch("SELECT s.*, l.name AS location_name, l.code AS location_code, l.kind AS location_kind FROM stocktake s "
                       "JOIN stock_location l ON l.id = s.location_id WHERE s.id = {}", st_id)
    if not rows:
        return None
    st = rows[0]
    st["lines"] = await fetch(
        "SELECT sl.*, p.part_no, p.name, p.model, p.unit, p.serialised FROM stocktake_line sl JOIN part p ON p.id = sl.part_id "
        "WHERE sl.stocktake_id = {} ORDER BY p.part_no", st_id)
    st["differences"] = [line for line in st["lines"]
                         if line["counted_qty"] is not None and line["counted_qty"] != line["expected_qty"]]
    return st


async def list_stocktakes(before_id: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    sql = ("SELECT s.*, l.name AS location_name FROM stocktake s JOIN stock_location l ON l.id = s.location_id"
           + (" WHERE s.id < {}" if before_id else "") + f" ORDER BY s.id DESC LIMIT {int(limit) + 1}")
    rows = await fetch(sql, *([before_id] if before_id else []))
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], cursor


async def add_line(actor: Actor, st_id: int, part_no: str) -> None:
    """A part found at the location that the sheet did not list."""
    _need(actor, "parts.stocktake", _("Your roles do not allow stocktakes."))
    part = await fetch("SELECT id FROM part WHERE part_no = {}", part_no.strip())
    if not part:
        raise DomainError(_("Unknown part number %(no)s.", no=part_no), field="part_no")
    async with atomic():
        st = await fetch("SELECT location_id, status FROM stocktake WHERE id = {}", st_id)
        if not st or st[0]["status"] != StocktakeStatus.COUNTING:
            raise DomainError(_("The count is closed."), status=409)
        level = await fetch("SELECT on_hand FROM stock_level WHERE part_id = {} AND location_id = {}",
                            part[0]["id"], st[0]["location_id"])
        await fetch("INSERT INTO stocktake_line (stocktake_id, part_id, expected_qty, counted_qty) VALUES ({}, {}, {}, NULL) "
                    "ON CONFLICT (stocktake_id, part_id) DO NOTHING", st_id, part[0]["id"],
                    int(level[0]["on_hand"]) if level else 0)
        await record(actor, "stocktake.line_added", "stocktake", st_id, after={"part_no": part_no.strip()})


async def enter_counts(actor: Actor, st_id: int, counts: dict[int, Any]) -> None:
    _need(actor, "parts.stocktake", _("Your roles do not allow stocktakes."))
    errors = {}
    clean: dict[int, int | None] = {}
    for line_id, raw in counts.items():
        text = str(raw).strip() if raw is not None else ""
        if text == "":
            clean[line_id] = None
            continue
        try:
            n = int(text)
        except ValueError:
            n = -1
        if n < 0:
            errors[f"count{line_id}"] = _("Enter a whole number, zero or more.")
        elif n > MAX_QTY:
            errors[f"count{line_id}"] = over_limit()
        clean[line_id] = n
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with atomic():
        st = await fetch("SELECT status FROM stocktake WHERE id = {}", st_id)
        if not st or st[0]["status"] != StocktakeStatus.COUNTING:
            raise DomainError(_("The count is closed."), status=409)
        for line_id, n in clean.items():
            await fetch("UPDATE stocktake_line SET counted_qty = {} WHERE id = {} AND stocktake_id = {}", n, line_id, st_id)
        try:  # bump the sheet's version (a count entered meanwhile makes a stale decision page 409)
            await update_versioned("stocktake", st_id, None, {}, returning="id", where="status = {}",
                                   where_args=[StocktakeStatus.COUNTING.value])
        except Stale:
            raise DomainError(_("The count is closed."), status=409) from None
        await record(actor, "stocktake.counted", "stocktake", st_id, after={"counts": {str(k): v for k, v in clean.items()}})


async def _transition(actor: Actor, st_id: int, action: str, *, version: int | None = None, **sets: Any) -> None:
    """core.status.move(); a sheet that moved meanwhile changes nothing and gets a 409."""
    t = STOCKTAKE_TRANSITIONS[action]
    try:
        await move("stocktake", st_id, version, t, actor=actor, sets=sets, labels=STOCKTAKE_LABELS, returning="id",
                   check_perm=False)  # the caller refused already, with its own message
    except DomainError:  # not there, moved on, or stale: the sheet's one message, as before
        raise DomainError(_("This stocktake changed meanwhile; nothing was changed."), status=409) from None
    await record(actor, t.action, "stocktake", st_id, before={"status": t.frm[0]}, after={"status": t.to, **sets})


async def submit(actor: Actor, st_id: int) -> None:
    _need(actor, "parts.stocktake", _("Your roles do not allow stocktakes."))
    async with atomic():
        missing = await fetch("SELECT 1 AS x FROM stocktake_line WHERE stocktake_id = {} AND counted_qty IS NULL LIMIT 1", st_id)
        if missing:
            raise DomainError(_("Enter a count on every line first (0 when nothing is there)."), status=400)
        await _transition(actor, st_id, "submit")


@retry_conflicts
async def approve(actor: Actor, st_id: int, reason: str = "") -> int:
    """Post the differences as adjustments (R-INV-06); returns how many lines were adjusted."""
    _need(actor, "parts.stocktake.approve", _("Only a manager approves stocktake differences."))
    async with atomic():
        st = await get(st_id)
        if st is None:
            raise not_found(_("No such stocktake."))
        if st["location_kind"] == "emergency" and st["differences"] and not allowed(actor, "parts.emergency.approve"):
            # R-INV-05 (#11): a count difference in the emergency store moves its stock: the general manager decides.
            raise refused(_("Differences in the emergency store are posted only with the general manager's approval."))
        serial_diffs = [line["part_no"] for line in st["differences"] if line["serialised"]]
        if serial_diffs:
            raise DomainError(_("Serialised parts differ (%(parts)s): adjust those units by serial, then recount.",
                               parts=", ".join(serial_diffs)), status=409)
        await _transition(actor, st_id, "approve", decided_by=actor.user_id,
                          decided_by_name=actor.username, decided_at=utcnow(), reason=reason.strip())
        for line in st["differences"]:
            delta = int(line["counted_qty"]) - int(line["expected_qty"])
            why = _("Stocktake %(number)s: counted %(counted)s, expected %(expected)s", number=st["number"],
                    counted=line["counted_qty"], expected=line["expected_qty"])
            await adjust(actor, line["part_id"], st["location_id"], delta, why + (f" — {reason.strip()}" if reason.strip() else ""),
                         kind="stocktake", document_type="stocktake", document_id=st_id, check_roles=False)
        return len(st["differences"])


async def reject(actor: Actor, st_id: int, reason: str = "") -> None:
    """Send the count back for a recount."""
    _need(actor, "parts.stocktake.approve", _("Only a manager approves stocktake differences."))
    async with atomic():
        await _transition(actor, st_id, "return", reason=reason.strip())


async def submitted_count() -> int:
    rows = await fetch("SELECT COUNT(*) AS n FROM stocktake WHERE status = {}", StocktakeStatus.SUBMITTED.value)
    return int(rows[0]["n"])

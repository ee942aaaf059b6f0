"""Stocktake (R-INV-06): a count sheet per location, entered counts, differences posted as
adjustments (kind `stocktake`, reason with the sheet number) once a manager approves.

Lines snapshot the on-hand when the count starts; approval posts counted − expected for
each line through the ledger (conditional updates: a difference that would make stock
negative because of movements during the count is refused with a 409 and nothing posted).

Counting by scanning (#12.1): each scan of a part number adds 1 to its line; each scan of a serial marks that
unit present (the sheet snapshots the serialised units at the location when the count starts). A line nobody
scanned counts as 0 only when the counter says the location (or a category of parts) is done. A blind count
hides the book quantities from the counter. On approval, serialised parts post unit by unit: a missing unit
is written off to "lost", an extra unit is booked in (moved here from where the system had it, or received).
"""

from __future__ import annotations

from typing import Any

from app.core.audit.services import Actor, record
from app.core.numbers import attach_entity, next_number
from app.core.rows import insert, update
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError, Stale, not_found, refused
from app.core.i18n import _
from app.parts.services._retry import retry_conflicts
from app.core.status import move, update_versioned
from app.parts.perms import allowed
from app.parts.services import MAX_QTY, adjust, claim_token, get_location, over_limit, transfer
from app.parts.status import STOCKTAKE_LABELS, STOCKTAKE_TRANSITIONS, StocktakeStatus
from app.parts.tables import Stocktake, StocktakeLine, StocktakeUnit

# Permissions (app/parts/manifest.py): parts.stocktake (count: warehouse, manager, gm), parts.stocktake.approve.


def _need(actor: Actor, perm_name: str, message: str) -> None:
    if not allowed(actor, perm_name):
        raise refused(message)


async def start(actor: Actor, location: Any, token: str | None = None, *, blind: bool = False) -> int:
    _need(actor, "parts.stocktake", _("Your roles do not allow stocktakes."))
    loc = await get_location(location)
    if loc is None:
        raise DomainError(_("Unknown location."), field="location")
    async with atomic():
        await claim_token(token, actor, "stocktake")
        number = await next_number("stocktake", entity_type="stocktake")
        now = utcnow()
        st_id = int(await insert(
            Stocktake, returning=Stocktake.id, number=number.formatted, location_id=loc["id"], status="counting",
            created_by=actor.user_id, created_by_name=actor.display, version=1, blind=bool(blind), created_at=now,
            updated_at=now))
        await attach_entity("stocktake", number.formatted, st_id)
        # raw-sql: INSERT … SELECT snapshots every stock level of the location in one statement
        await fetch(
            "INSERT INTO stocktake_line (stocktake_id, part_id, expected_qty, counted_qty) "
            "SELECT {}, part_id, on_hand, NULL FROM stock_level WHERE location_id = {} AND (on_hand > 0 OR min_qty > 0)",
            st_id, loc["id"],
        )
        # raw-sql: INSERT … SELECT snapshots every serial unit of the location in one statement
        await fetch(
            "INSERT INTO stocktake_unit (stocktake_id, part_id, serial_unit_id, serial, expected, present) "
            "SELECT {}, part_id, id, serial, true, false FROM serial_unit WHERE location_id = {}",
            st_id, loc["id"],
        )
        await record(actor, "stocktake.started", "stocktake", st_id,
                     after={"number": number.formatted, "location": loc["code"], "blind": bool(blind)})
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
    units = await fetch(
        "SELECT su.*, p.part_no, p.name, l.name AS now_location_name, l.code AS now_location_code FROM stocktake_unit su JOIN part p ON p.id = su.part_id "
        "LEFT JOIN serial_unit u ON u.id = su.serial_unit_id LEFT JOIN stock_location l ON l.id = u.location_id "
        "WHERE su.stocktake_id = {} ORDER BY p.part_no, su.serial", st_id)
    st["missing_units"] = [u for u in units if u["expected"] and not u["present"]]
    st["extra_units"] = [u for u in units if u["present"] and not u["expected"]]
    st["scanned_units"] = [u for u in units if u["present"]]
    st["has_differences"] = bool(st["differences"] or st["missing_units"] or st["extra_units"])
    st["unit_differences"] = len(st["missing_units"]) + len(st["extra_units"])
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
        # raw-sql: ON CONFLICT DO NOTHING — a part already on the sheet stays as counted
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
        serialised = {int(r["id"]): r for r in await fetch(
            "SELECT sl.id, sl.part_id, sl.expected_qty, sl.counted_qty FROM stocktake_line sl JOIN part p ON p.id = sl.part_id "
            "WHERE sl.stocktake_id = {} AND p.serialised = true", st_id)}
        for line_id, n in clean.items():
            line = serialised.get(line_id)
            if line is not None and n is not None and n != line["counted_qty"]:
                # #12.1: a serialised part's count comes from its serials; typing the book quantity confirms every
                # expected unit is there, any other number must be scanned so the missing or extra units are known.
                if n != line["expected_qty"]:
                    raise DomainError(_("This part is serialised: scan the serial of each unit found, so the missing "
                                        "and extra units are known."), field=f"count{line_id}")
                await update(StocktakeUnit, (StocktakeUnit.stocktake_id == st_id) & (StocktakeUnit.part_id == line["part_id"])
                             & (StocktakeUnit.expected == True), present=True)  # noqa: E712
                await fetch("DELETE FROM stocktake_unit WHERE stocktake_id = {} AND part_id = {} AND expected = false",
                            st_id, line["part_id"])
            await update(StocktakeLine, (StocktakeLine.id == line_id) & (StocktakeLine.stocktake_id == st_id), counted_qty=n)
        await _touch(st_id)
        await record(actor, "stocktake.counted", "stocktake", st_id, after={"counts": {str(k): v for k, v in clean.items()}})


async def _counting(st_id: int) -> dict:
    rows = await fetch("SELECT id, location_id, status FROM stocktake WHERE id = {}", st_id)
    if not rows:
        raise not_found(_("No such stocktake."))
    if rows[0]["status"] != StocktakeStatus.COUNTING:
        raise DomainError(_("The count is closed."), status=409)
    return rows[0]


async def _line_for(st: dict, part_id: int) -> None:
    level = await fetch("SELECT on_hand FROM stock_level WHERE part_id = {} AND location_id = {}", part_id, st["location_id"])
    # raw-sql: ON CONFLICT DO NOTHING — a part already on the sheet stays as counted
    await fetch("INSERT INTO stocktake_line (stocktake_id, part_id, expected_qty, counted_qty) VALUES ({}, {}, {}, NULL) "
                "ON CONFLICT (stocktake_id, part_id) DO NOTHING", st["id"], part_id, int(level[0]["on_hand"]) if level else 0)


async def _touch(st_id: int) -> None:
    try:  # bump the sheet's version (a count entered meanwhile makes a stale decision page 409)
        await update_versioned("stocktake", st_id, None, {}, returning="id", where="status = {}",
                               where_args=[StocktakeStatus.COUNTING.value])
    except Stale:
        raise DomainError(_("The count is closed."), status=409) from None


# long: the two scan kinds (part number, serial) share the sheet checks and the answer shape
async def scan(actor: Actor, st_id: int, code: str, part_no: str = "") -> dict:
    """#12.1: one scan. A part number adds 1 to its line; a serial marks that unit present (a unit the sheet did not
    expect here is listed as extra). A serial the system does not know is taken as a found unit when the part number
    is given with it. Returns what was counted: {"part_no", "name", "serial", "counted", "extra", "again"}."""
    _need(actor, "parts.stocktake", _("Your roles do not allow stocktakes."))
    code = (code or "").strip()
    part_no = (part_no or "").strip()
    if not code:
        raise DomainError(_("Scan or type a part number or serial."), field="code")
    async with atomic():
        st = await _counting(st_id)
        units = await fetch("SELECT su.id, su.part_id, su.serial FROM serial_unit su JOIN part p ON p.id = su.part_id "
                            "WHERE su.serial = {}" + (" AND p.part_no = {}" if part_no else "") + " ORDER BY su.id",
                            code, *([part_no] if part_no else []))
        part = None
        if len(units) > 1:
            expected = await fetch("SELECT serial_unit_id FROM stocktake_unit WHERE stocktake_id = {} AND serial = {} "
                                   "AND expected = true", st_id, code)
            units = [u for u in units if u["id"] in {e["serial_unit_id"] for e in expected}] or units
            if len(units) > 1:
                raise DomainError(_("Several parts have a unit with serial %(serial)s; give the part number too.", serial=code),
                                  field="part_no")
        if units:
            part = (await fetch("SELECT * FROM part WHERE id = {}", units[0]["part_id"]))[0]
            unit_id, serial = units[0]["id"], units[0]["serial"]
        else:
            rows = await fetch("SELECT * FROM part WHERE part_no = {}", code)
            if rows and not part_no:
                part = rows[0]
                if part["serialised"]:
                    raise DomainError(_("%(part)s is serialised: scan the serial of each unit.", part=part["part_no"]),
                                      field="code")
                await _line_for(st, part["id"])
                # raw-sql: relative count (COALESCE(counted, 0) + 1) RETURNING the new count
                line = (await fetch("UPDATE stocktake_line SET counted_qty = COALESCE(counted_qty, 0) + 1 "
                                    "WHERE stocktake_id = {} AND part_id = {} RETURNING counted_qty", st_id, part["id"]))[0]
                await _touch(st_id)
                await record(actor, "stocktake.scanned", "stocktake", st_id, after={"part_no": part["part_no"]})
                return {"part_no": part["part_no"], "name": part["name"], "serial": "", "counted": int(line["counted_qty"]),
                        "extra": False, "again": False}
            owner = await fetch("SELECT * FROM part WHERE part_no = {}", part_no) if part_no else []
            if not owner:
                raise DomainError(_("Unknown part number or serial %(code)s.", code=code), field="code")
            if not owner[0]["serialised"]:
                raise DomainError(_("%(part)s is not serialised: scan its part number.", part=part_no), field="part_no")
            part, unit_id, serial = owner[0], None, code
        await _line_for(st, part["id"])
        existing = await fetch("SELECT id, present, expected FROM stocktake_unit WHERE stocktake_id = {} AND part_id = {} "
                               "AND serial = {}", st_id, part["id"], serial)
        again = bool(existing and existing[0]["present"])
        if existing:
            await update(StocktakeUnit, StocktakeUnit.id == existing[0]["id"], present=True)
        else:
            # raw-sql: ON CONFLICT DO UPDATE — a unit scanned twice stays one row
            await fetch("INSERT INTO stocktake_unit (stocktake_id, part_id, serial_unit_id, serial, expected, present) "
                        "VALUES ({}, {}, {}, {}, false, true) ON CONFLICT (stocktake_id, part_id, serial) DO UPDATE SET "
                        "present = true", st_id, part["id"], unit_id, serial[:100])
        # raw-sql: the count from a sub-select on the units, RETURNING it
        line = (await fetch(
            "UPDATE stocktake_line SET counted_qty = (SELECT COUNT(*) FROM stocktake_unit WHERE stocktake_id = {} "
            "AND part_id = {} AND present = true) WHERE stocktake_id = {} AND part_id = {} RETURNING counted_qty",
            st_id, part["id"], st_id, part["id"]))[0]
        await _touch(st_id)
        extra = not (existing and existing[0]["expected"])
        await record(actor, "stocktake.scanned", "stocktake", st_id,
                     after={"part_no": part["part_no"], "serial": serial, "extra": extra})
        return {"part_no": part["part_no"], "name": part["name"], "serial": serial, "counted": int(line["counted_qty"]),
                "extra": extra, "again": again}


async def finish(actor: Actor, st_id: int, category: str = "") -> int:
    """#12.1: the counter says the location (or one category of parts) is done: lines nobody counted become 0
    (a serialised line counts its scanned units). Returns how many lines were set."""
    _need(actor, "parts.stocktake", _("Your roles do not allow stocktakes."))
    category = (category or "").strip()
    async with atomic():
        await _counting(st_id)
        # raw-sql: correlated sub-select per line, optionally filtered by a part category
        sql = ("UPDATE stocktake_line SET counted_qty = (SELECT COUNT(*) FROM stocktake_unit su WHERE su.stocktake_id = "
               "stocktake_line.stocktake_id AND su.part_id = stocktake_line.part_id AND su.present = true) "
               "WHERE stocktake_id = {} AND counted_qty IS NULL")
        args: list[Any] = [st_id]
        if category:
            sql += " AND part_id IN (SELECT id FROM part WHERE category = {})"
            args.append(category)
        rows = await fetch(sql + " RETURNING id", *args)
        await _touch(st_id)
        await record(actor, "stocktake.finished", "stocktake", st_id, after={"category": category, "lines": len(rows)})
        return len(rows)


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
        if st["location_kind"] == "emergency" and st["has_differences"] and not allowed(actor, "parts.emergency.approve"):
            # R-INV-05 (#11): a count difference in the emergency store moves its stock: the general manager decides.
            raise refused(_("Differences in the emergency store are posted only with the general manager's approval."))
        await _transition(actor, st_id, "approve", decided_by=actor.user_id,
                          decided_by_name=actor.display, decided_at=utcnow(), reason=reason.strip())
        posted = 0
        note = f" — {reason.strip()}" if reason.strip() else ""
        for line in st["differences"]:
            if line["serialised"]:
                continue  # posted unit by unit below
            posted += 1
            delta = int(line["counted_qty"]) - int(line["expected_qty"])
            why = _("Stocktake %(number)s: counted %(counted)s, expected %(expected)s", number=st["number"],
                    counted=line["counted_qty"], expected=line["expected_qty"])
            await adjust(actor, line["part_id"], st["location_id"], delta, why + (f" — {reason.strip()}" if reason.strip() else ""),
                         kind="stocktake", document_type="stocktake", document_id=st_id, check_roles=False)
        posted += await _post_units(actor, st, note)
        return posted


async def _post_units(actor: Actor, st: dict, note: str) -> int:
    """#12.1: missing units are written off as lost; extra units are booked in here — moved from where the system had
    them, or received when they were outside the stock or new. A unit that moved meanwhile makes the whole approval 409."""
    for unit in st["missing_units"]:
        if unit["now_location_code"] == "QUARANTINE":
            continue  # #12: a scrap record was raised for it during the review; the appraisal decides its end, not "lost"
        why = _("Stocktake %(number)s: unit %(serial)s missing, written off as lost", number=st["number"], serial=unit["serial"])
        await adjust(actor, unit["part_id"], st["location_id"], -1, why + note, serial=unit["serial"], kind="stocktake",
                     document_type="stocktake", document_id=st["id"], check_roles=False)
    for unit in st["extra_units"]:
        why = _("Stocktake %(number)s: unit %(serial)s found here", number=st["number"], serial=unit["serial"])
        now = await fetch("SELECT location_id FROM serial_unit WHERE id = {}", unit["serial_unit_id"]) \
            if unit["serial_unit_id"] else []
        where = now[0]["location_id"] if now else None
        if where == st["location_id"]:
            continue  # it was moved here during the count: nothing to correct
        if where is not None:
            await transfer(actor, unit["part_id"], 1, where, st["location_id"], serial=unit["serial"], kind="stocktake",
                           document_type="stocktake", document_id=st["id"], reason=why + note, check_roles=False)
        else:
            await adjust(actor, unit["part_id"], st["location_id"], 1, why + note, serial=unit["serial"], kind="stocktake",
                         document_type="stocktake", document_id=st["id"], check_roles=False)
    return len(st["missing_units"]) + len(st["extra_units"])


async def reject(actor: Actor, st_id: int, reason: str = "") -> None:
    """Send the count back for a recount."""
    _need(actor, "parts.stocktake.approve", _("Only a manager approves stocktake differences."))
    async with atomic():
        await _transition(actor, st_id, "return", reason=reason.strip())


async def submitted_count() -> int:
    rows = await fetch("SELECT COUNT(*) AS n FROM stocktake WHERE status = {}", StocktakeStatus.SUBMITTED.value)
    return int(rows[0]["n"])

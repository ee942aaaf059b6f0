"""Parts services, part 3: ledger reads, reconciliation (R-INV-03), the catalogue and search (R-INV-01)."""

from __future__ import annotations


from app.core.audit.services import Actor, record
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError, Stale
from app.core.i18n import _
from app.core.status import update_versioned
from app.core.rows import insert
from app.parts.schemas import PartInput
from app.parts.tables import PartSubstitute
from app.parts.services._base import _part, list_locations, location_id, part_by_no, require_perm, substitutes_in_stock


# ---------------------------------------------------------------------------
# ledger reads and reconciliation


async def stock_by_location(part_id: int) -> list[dict]:
    return await fetch(
        "SELECT sl.*, l.code, l.name AS location_name, l.kind FROM stock_level sl "
        "JOIN stock_location l ON l.id = sl.location_id WHERE sl.part_id = {} "
        "AND (sl.on_hand > 0 OR sl.min_qty > 0 OR sl.installed_qty > 0) ORDER BY l.sort, l.name",
        part_id,
    )


async def recent_moves(*, part_id: int | None = None, location_id: int | None = None, unit_id: int | None = None,
                       document: tuple[str, str] | None = None, before_id: int | None = None,
                       limit: int = 50) -> tuple[list[dict], int | None]:
    """Newest first, keyset on id; uses the (part_id, id) / (location, id) / (unit, id) indexes."""
    where, args = [], []
    if part_id is not None:
        where.append("m.part_id = {}")
        args.append(part_id)
    if unit_id is not None:
        where.append("m.serial_unit_id = {}")
        args.append(unit_id)
    if document is not None:
        where.append("m.document_type = {} AND m.document_id = {}")
        args += [document[0], str(document[1])]
    if before_id:
        where.append("m.id < {}")
        args.append(before_id)
    select = ("SELECT m.*, p.part_no, p.name AS part_name, p.unit, fl.name AS from_name, tl.name AS to_name "
              "FROM stock_move m JOIN part p ON p.id = m.part_id LEFT JOIN stock_location fl ON fl.id = m.from_location_id "
              "LEFT JOIN stock_location tl ON tl.id = m.to_location_id")
    if location_id is not None:
        # two index range scans merged (from / to), each limited
        base = " AND ".join(where) or "1=1"
        sql = (f"SELECT * FROM ({select} WHERE {base} AND m.from_location_id = {{}} ORDER BY m.id DESC LIMIT {limit + 1}) a "
               f"UNION ALL SELECT * FROM ({select} WHERE {base} AND m.to_location_id = {{}} ORDER BY m.id DESC LIMIT {limit + 1}) b "
               f"ORDER BY id DESC LIMIT {limit + 1}")
        rows = await fetch(sql, *args, location_id, *args, location_id)
    else:
        sql = select + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY m.id DESC LIMIT {int(limit) + 1}"
        rows = await fetch(sql, *args)
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], cursor


_LEDGER_SUM = (
    "SELECT part_id, location_id, SUM(q) AS ledger FROM ("
    "SELECT part_id, to_location_id AS location_id, qty AS q FROM stock_move WHERE to_location_id IS NOT NULL {extra} "
    "UNION ALL SELECT part_id, from_location_id AS location_id, -qty AS q FROM stock_move "
    "WHERE from_location_id IS NOT NULL {extra}) f GROUP BY part_id, location_id"
)


async def reconcile(part_id: int | None = None) -> dict:
    """R-INV-03 proof: on-hand = ledger sum for every (part, location), and serialised parts'
    on-hand = units there. Returns {"checked": n, "mismatches": [...]}."""
    extra = "AND part_id = {}" if part_id is not None else ""
    ledger_args = [part_id, part_id] if part_id is not None else []
    ledger = await fetch(_LEDGER_SUM.format(extra=extra), *ledger_args)
    levels = await fetch("SELECT part_id, location_id, on_hand FROM stock_level" + (" WHERE part_id = {}" if part_id else ""),
                         *([part_id] if part_id else []))
    units = await fetch(
        "SELECT su.part_id, su.location_id, COUNT(*) AS n FROM serial_unit su WHERE su.location_id IS NOT NULL"
        + (" AND su.part_id = {}" if part_id else "") + " GROUP BY su.part_id, su.location_id",
        *([part_id] if part_id else []),
    )
    serialised = {r["id"] for r in await fetch("SELECT id FROM part WHERE serialised = true"
                                                + (" AND id = {}" if part_id else ""), *([part_id] if part_id else []))}
    keys: dict[tuple[int, int], dict] = {}
    for r in levels:
        keys.setdefault((r["part_id"], r["location_id"]), {})["on_hand"] = int(r["on_hand"])
    for r in ledger:
        keys.setdefault((r["part_id"], r["location_id"]), {})["ledger"] = int(r["ledger"])
    for r in units:
        keys.setdefault((r["part_id"], r["location_id"]), {})["units"] = int(r["n"])
    mismatches = []
    for (pid, lid), v in sorted(keys.items()):
        oh, lg = v.get("on_hand", 0), v.get("ledger", 0)
        un = v.get("units", 0) if pid in serialised else None
        if oh != lg or oh < 0 or (un is not None and un != oh):
            mismatches.append({"part_id": pid, "location_id": lid, "on_hand": oh, "ledger": lg, "units": un})
    if mismatches:
        names = {r["id"]: r for r in await fetch("SELECT id, part_no, name FROM part WHERE id IN ("
                                                  + ", ".join(str(int(m["part_id"])) for m in mismatches[:200]) + ")")}
        locs = {r["id"]: r for r in await list_locations(active_only=False)}
        for m in mismatches[:200]:
            m["part_no"] = names.get(m["part_id"], {}).get("part_no", "")
            m["location_name"] = locs.get(m["location_id"], {}).get("name", "")
    return {"checked": len(keys), "mismatches": mismatches}


# ---------------------------------------------------------------------------
# catalogue (R-INV-01) and search


def _validate_part(data: PartInput) -> tuple[dict, list[str]]:
    from app.core.money import MoneyError, parse_money, to_fen

    errors: dict[str, str] = {}
    if not data.part_no.strip():
        errors["part_no"] = _("Enter the part number.")
    if not data.name.strip():
        errors["name"] = _("Enter the name.")
    if data.category not in ("part", "consumable", "device"):
        errors["category"] = _("Choose a category.")
    if not data.unit.strip():
        errors["unit"] = _("Enter the unit.")
    cost_fen = 0
    try:
        cost = parse_money(data.cost or "0")
        if cost < 0:
            errors["cost"] = _("The cost cannot be negative.")
        cost_fen = to_fen(cost)
    except MoneyError:
        errors["cost"] = _("Enter an amount such as 120.50.")
    subs = [s for s in data.substitutes.replace("，", ",").replace(",", " ").split() if s]
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    return {
        "part_no": data.part_no.strip()[:60], "name": data.name.strip()[:200], "model": data.model.strip()[:100],
        "category": data.category, "unit": data.unit.strip()[:20], "cost_fen": cost_fen,
        "supplier": data.supplier.strip()[:200], "serialised": bool(data.serialised),
        "discontinued": bool(data.discontinued), "note": data.note.strip(),
    }, subs


async def _set_substitutes(part_id: int, part_nos: list[str]) -> None:
    ids = []
    for no in part_nos:
        row = await part_by_no(no)
        if row is None:
            raise DomainError(_("Unknown part number %(no)s.", no=no), field="substitutes")
        if row["id"] == part_id:
            raise DomainError(_("A part cannot substitute itself."), field="substitutes")
        ids.append(row["id"])
    await fetch("DELETE FROM part_substitute WHERE part_id = {}", part_id)
    for sid in dict.fromkeys(ids):
        await insert(PartSubstitute, part_id=part_id, substitute_id=sid)


async def create_part(actor: Actor, data: PartInput) -> int:
    require_perm(actor, "parts.edit")
    values, subs = _validate_part(data)
    async with atomic():
        now = utcnow()
        # raw-sql: ON CONFLICT (part_no) DO NOTHING RETURNING — a duplicate part number is refused, not an error
        rows = await fetch(
            "INSERT INTO part (part_no, name, model, category, unit, cost_fen, supplier, serialised, discontinued, note, "
            "version, created_at, updated_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, 1, {}, {}) "
            "ON CONFLICT (part_no) DO NOTHING RETURNING id",
            values["part_no"], values["name"], values["model"], values["category"], values["unit"], values["cost_fen"],
            values["supplier"], values["serialised"], values["discontinued"], values["note"], now, now,
        )
        if not rows:
            raise DomainError(_("Part number %(no)s exists already.", no=values["part_no"]), field="part_no")
        part_id = int(rows[0]["id"])
        await _set_substitutes(part_id, subs)
        await record(actor, "part.created", "part", part_id, after={**values, "substitutes": subs})
        return part_id


async def update_part(actor: Actor, part_id: int, data: PartInput, *, version: int | None = None) -> None:
    require_perm(actor, "parts.edit")
    values, subs = _validate_part(data)
    async with atomic():
        before = await _part(part_id)
        if before["part_no"] != values["part_no"] and await part_by_no(values["part_no"]):
            raise DomainError(_("Part number %(no)s exists already.", no=values["part_no"]), field="part_no")
        if bool(before["serialised"]) != values["serialised"]:
            moved = await fetch("SELECT 1 AS x FROM stock_move WHERE part_id = {} LIMIT 1", part_id)
            if moved:
                raise DomainError(_("Stock of this part has moved; it can no longer change between serialised and bulk."),
                                 field="serialised")
        try:
            await update_versioned("part", part_id, version, {k: values[k] for k in (
                "part_no", "name", "model", "category", "unit", "cost_fen", "supplier", "serialised", "discontinued",
                "note")}, returning="id")
        except Stale:
            raise DomainError(_("Someone else changed this part meanwhile. Reload and try again."), status=409) from None
        await _set_substitutes(part_id, subs)
        await record(actor, "part.updated", "part", part_id, before={k: before[k] for k in values},
                     after={**values, "substitutes": subs})


async def part_substitutes(part_id: int) -> list[dict]:
    return await substitutes_in_stock(part_id)


async def search_parts(q: str = "", *, category: str = "", after: str | None = None, limit: int = 50,
                       below_min: bool = False) -> tuple[list[dict], str | None]:
    """Catalogue list: part number, name or model contains `q`; keyset on part_no."""
    where, args = [], []
    q = q.strip()
    if q:
        like = f"%{q.lower()}%"
        where.append("(LOWER(p.part_no) LIKE {} OR LOWER(p.name) LIKE {} OR LOWER(p.model) LIKE {})")
        args += [like, like, like]
    if category in ("part", "consumable", "device"):
        where.append("p.category = {}")
        args.append(category)
    if after:
        where.append("p.part_no > {}")
        args.append(after)
    sql = ("SELECT p.*, (SELECT COALESCE(SUM(sl.on_hand), 0) FROM stock_level sl WHERE sl.part_id = p.id) AS total "
           "FROM part p" + (" WHERE " + " AND ".join(where) if where else "") + f" ORDER BY p.part_no LIMIT {int(limit) + 1}")
    rows = await fetch(sql, *args)
    cursor = rows[limit - 1]["part_no"] if len(rows) > limit else None
    return rows[:limit], cursor


async def lookup(q: str) -> tuple[str, int] | None:
    """The keeper's one search box: an exact part number or a scanned serial → ("part"|"unit", id)."""
    q = q.strip()
    if not q:
        return None
    part = await fetch("SELECT id FROM part WHERE part_no = {} OR UPPER(part_no) = {}", q, q.upper())
    if part:
        return "part", int(part[0]["id"])
    units = await fetch("SELECT id FROM serial_unit WHERE serial = {} ORDER BY id LIMIT 2", q)
    if len(units) == 1:
        return "unit", int(units[0]["id"])
    return None

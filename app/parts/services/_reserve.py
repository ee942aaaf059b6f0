"""Parts services, part 5: reservations (R-TKT-04 "parts to bring are reserved") and the stock-at-a-location read.

A reservation holds `qty` of a part at a location for a document (a ticket's number): `stock_level.reserved`
goes up by one conditional UPDATE (`on_hand - reserved >= qty`), so of two dispatchers reserving the last
unit one wins and the other gets the usual 409 not-enough-stock refusal. Every taking movement of the ledger
respects "available = on hand − reserved" (`_take`), except count corrections (adjust/stocktake: the count is
the truth). A movement naming the reservation's document (issue to the ticket, transfer of the reserved parts to
the technician) consumes the reservation first, so the reserved units are available to it. `stock_reservation`
keeps one row per reservation: open (qty > 0), consumed or released, with who and when.
"""

from __future__ import annotations

from typing import Any

from app.core.audit.services import Actor, record
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError
from app.core.i18n import _
from app.core.rows import insert
from app.parts.tables import StockReservation
from app.parts.services._base import Location, _location, _part, not_enough_stock, require_perm, substitutes_in_stock

# count corrections book the counted truth: a reservation does not stop them
RESERVATION_BLIND = frozenset({"adjust", "stocktake"})


def _doc(document_type: str, document_id: Any) -> tuple[str, str]:
    return (document_type or "")[:40], str(document_id if document_id is not None else "")[:60]


async def reserve(actor: Actor, part_id: int, location: Location, qty: Any, document_type: str, document_id: Any,
                  *, check_roles: bool = True) -> int:
    """Hold `qty` of a part at `location` for a document (R-TKT-04). Joins the caller's transaction
    (SAVEPOINT). Refused with a 409 not-enough-stock (`current["available"]` = on hand − reserved) when the
    location cannot spare it. Side effects: stock_level.reserved, stock_reservation row, audit `stock.reserved`."""
    from app.parts.services._ledger import _qty

    require_perm(actor, "parts.move", check=check_roles)
    doc_type, doc_id = _doc(document_type, document_id)
    if not doc_type or not doc_id:
        raise DomainError(_("Name the ticket or repair the part is issued to."), field="document_id")
    async with atomic():
        part = await _part(part_id)
        qty = _qty(qty)
        loc = await _location(location, "location")
        # raw-sql: R-TKT-04 conditional reservation (on_hand - reserved >= qty) in one statement
        rows = await fetch(
            "UPDATE stock_level SET reserved = reserved + {}, updated_at = {} WHERE part_id = {} AND location_id = {} "
            "AND on_hand - reserved >= {} RETURNING on_hand", qty, utcnow(), part["id"], loc["id"], qty)
        if not rows:
            level = await fetch("SELECT on_hand, reserved FROM stock_level WHERE part_id = {} AND location_id = {}",
                                part["id"], loc["id"])
            on_hand = int(level[0]["on_hand"]) if level else 0
            have = max(on_hand - int(level[0]["reserved"]), 0) if level else 0
            subs = [s for s in await substitutes_in_stock(part["id"], loc["id"]) if int(s["on_hand"]) > 0]
            if have == on_hand:
                raise not_enough_stock(
                    _("Not enough stock: %(location)s holds %(have)s of %(part)s, %(qty)s asked.",
                      location=loc["name"], have=have, part=part["part_no"], qty=qty), available=have, substitutes=subs)
            raise not_enough_stock(
                _("Not enough stock: %(location)s can spare %(have)s of %(part)s (the rest is reserved), %(qty)s asked.",
                  location=loc["name"], have=have, part=part["part_no"], qty=qty), available=have, substitutes=subs)
        now = utcnow()
        reservation_id = await insert(
            StockReservation, returning=StockReservation.id, part_id=part["id"], location_id=loc["id"], qty=qty,
            reserved_qty=qty, document_type=doc_type, document_id=doc_id, status="open", created_by=actor.user_id,
            created_at=now, closed_at=None)
        ins = [{"id": reservation_id}]
        await record(actor, "stock.reserved", "part", part["id"], after={
            "reservation": ins[0]["id"], "part": part["part_no"], "qty": qty, "location": loc["code"],
            "document": f"{doc_type}:{doc_id}"})
        return int(ins[0]["id"])


async def _close(rows: list[dict], want: int | None, status: str) -> int:
    """Take up to `want` (None = all) off the open reservations `rows`; returns the quantity closed."""
    done, now = 0, utcnow()
    for row in rows:
        if want is not None and done >= want:
            break
        take = int(row["qty"]) if want is None else min(int(row["qty"]), want - done)
        if take <= 0:
            continue
        left = int(row["qty"]) - take
        # raw-sql: compare-and-set on the quantity read (a concurrent close makes it skip)
        got = await fetch(
            "UPDATE stock_reservation SET qty = {}, status = {}, closed_at = {} WHERE id = {} AND qty = {} RETURNING id",
            left, "open" if left else status, None if left else now, row["id"], row["qty"])
        if not got:  # closed meanwhile by another transaction: skip it
            continue
        # raw-sql: relative decrement of the reserved count
        await fetch("UPDATE stock_level SET reserved = reserved - {}, updated_at = {} WHERE part_id = {} AND location_id = {} "
                    "AND reserved >= {}", take, now, row["part_id"], row["location_id"], take)
        done += take
    return done


async def consume_reservation(part_id: int, location_id: int, qty: int, document_type: str, document_id: Any) -> int:
    """Inside a movement (`_take`): the movement for this document uses what was reserved for it."""
    doc_type, doc_id = _doc(document_type, document_id)
    if not doc_type or not doc_id:
        return 0
    rows = await fetch("SELECT * FROM stock_reservation WHERE part_id = {} AND location_id = {} AND document_type = {} "
                       "AND document_id = {} AND status = 'open' ORDER BY id", part_id, location_id, doc_type, doc_id)
    return await _close(rows, qty, "consumed") if rows else 0


async def release_reservations(actor: Actor, document_type: str, document_id: Any, *, part_id: int | None = None,
                               qty: int | None = None, reason: str = "") -> int:
    """Give back what a document still holds (the ticket closed, or its visit used the parts from elsewhere):
    all of it, or up to `qty` of one part. Joins the caller's transaction. Audit `stock.reservation_released`
    when anything was released. Returns the quantity released."""
    doc_type, doc_id = _doc(document_type, document_id)
    async with atomic():
        sql = "SELECT * FROM stock_reservation WHERE document_type = {} AND document_id = {} AND status = 'open'"
        args: list[Any] = [doc_type, doc_id]
        if part_id is not None:
            sql += " AND part_id = {}"
            args.append(part_id)
        rows = await fetch(sql + " ORDER BY id", *args)
        released = await _close(rows, qty, "released") if rows else 0
        if released:
            await record(actor, "stock.reservation_released", "stock_reservation", rows[0]["id"], after={
                "document": f"{doc_type}:{doc_id}", "part_id": part_id, "qty": released, "reason": reason})
        return released


async def reservations_for(document_type: str, document_id: Any) -> list[dict]:
    """A document's reservations (open first), with part number, name and location name."""
    doc_type, doc_id = _doc(document_type, document_id)
    return await fetch(
        "SELECT r.id, r.part_id, r.location_id, r.qty, r.reserved_qty, r.status, r.created_at, r.closed_at, p.part_no, "
        "p.name AS part_name, l.name AS location_name, l.code AS location_code FROM stock_reservation r "
        "JOIN part p ON p.id = r.part_id JOIN stock_location l ON l.id = r.location_id "
        "WHERE r.document_type = {} AND r.document_id = {} ORDER BY CASE WHEN r.status = 'open' THEN 0 ELSE 1 END, r.id",
        doc_type, doc_id)


async def available(part_id: int, location: Location) -> int:
    """On hand minus reserved at a location (what a movement may take)."""
    from app.parts.services._base import get_location

    loc = await get_location(location)
    if loc is None:
        return 0
    rows = await fetch("SELECT on_hand - reserved AS n FROM stock_level WHERE part_id = {} AND location_id = {}",
                       part_id, loc["id"])
    return max(int(rows[0]["n"]), 0) if rows else 0


async def stock_at(location: Location, *, part_nos: list[str] | None = None, in_stock_only: bool = True,
                   limit: int = 200) -> list[dict]:
    """The parts a location holds, for pickers: part_id, part_no, name, serialised, on_hand, reserved, available."""
    from app.parts.services._base import get_location

    loc = await get_location(location)
    if loc is None:
        return []
    sql = ("SELECT p.id AS part_id, p.part_no, p.name, p.serialised, sl.on_hand, sl.reserved, "
           "sl.on_hand - sl.reserved AS available FROM stock_level sl JOIN part p ON p.id = sl.part_id "
           "WHERE sl.location_id = {}")
    args: list[Any] = [loc["id"]]
    if in_stock_only:
        sql += " AND sl.on_hand > 0"
    if part_nos:
        sql += " AND p.part_no IN (" + ", ".join(["{}"] * len(part_nos)) + ")"
        args += list(part_nos)
    return await fetch(sql + f" ORDER BY p.part_no LIMIT {int(limit)}", *args)


async def dispatch_stores(user_id: int | None = None, offices: list[str] | None = None) -> list[dict]:
    """Where parts for a job may be reserved: the technician's own stock (when given and existing), the central
    store and the office stores — all of them, or those whose `office` is one of `offices` (a service office's
    code, city or name) — never the emergency store (R-INV-05)."""
    sql = ("SELECT id, code, name, kind, keeper_user_id FROM stock_location WHERE active = true AND "
           "(kind = 'central' OR (kind = 'technician' AND keeper_user_id = {}) OR (kind = 'office'")
    args: list[Any] = [user_id or 0]
    if offices is not None:
        keys = [o for o in offices if o] or [""]
        sql += " AND office IN (" + ", ".join(["{}"] * len(keys)) + ")"
        args += keys
    sql += ")) ORDER BY CASE WHEN kind = 'technician' THEN 0 WHEN kind = 'central' THEN 1 ELSE 2 END, sort, name"
    return await fetch(sql, *args)

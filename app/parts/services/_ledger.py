"""Parts services, part 2: the stock ledger — one movement (`_book`) and the public movement API (R-INV-03)."""

from __future__ import annotations

from contextlib import asynccontextmanager
from typing import Any, AsyncIterator, Iterable

from app.core.audit.services import Actor, record
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError, Stale, refused
from app.core.i18n import _
from app.parts.services._retry import retry_conflicts
from app.core.status import update_versioned
from app.core.rows import insert
from app.parts.perms import allowed
from app.parts.status import UnitStatus
from app.parts.tables import StockMove
from app.parts.services._base import (
    KINDS, MAX_QTY, Location, Move, over_limit, _EMERGENCY_EXEMPT, _emergency_release, _location, _part, _unit, claim_token, get_location,
    not_enough_stock, require_perm, substitutes_in_stock,
)


# ---------------------------------------------------------------------------
# the core: one movement


def _qty(qty: Any) -> int:
    try:
        value = int(str(qty).strip())
    except (TypeError, ValueError):
        raise DomainError(_("Enter a whole number greater than zero."), field="qty") from None
    if value <= 0:
        raise DomainError(_("Enter a whole number greater than zero."), field="qty")
    if value > MAX_QTY:
        raise DomainError(over_limit(), field="qty")
    return value


def _unit_status(kind: str, to_loc: dict | None) -> str:
    if to_loc is None:
        return {"scrap": UnitStatus.SCRAPPED, "adjust": UnitStatus.LOST, "stocktake": UnitStatus.LOST}.get(
            kind, UnitStatus.ISSUED).value
    return {"customer": UnitStatus.AT_CUSTOMER, "quarantine": UnitStatus.QUARANTINE}.get(
        to_loc["kind"], UnitStatus.IN_STOCK).value


async def _take(part: dict, loc: dict, qty: int, *, kind: str = "", document_type: str = "", document_id: Any = "") -> None:
    """R-INV-03: one conditional UPDATE; zero rows back means not enough stock (never read-check-write).
    R-TKT-04: what is reserved is not available (`on_hand - reserved`), except to the movement of the document
    it is reserved for (consumed first) and to count corrections."""
    from app.parts.services._reserve import RESERVATION_BLIND, consume_reservation

    blind = kind in RESERVATION_BLIND
    if not blind and document_type:
        await consume_reservation(part["id"], loc["id"], qty, document_type, document_id)
    # raw-sql: the R-INV-03 conditional decrement (on_hand >= qty) in one statement
    rows = await fetch(
        "UPDATE stock_level SET on_hand = on_hand - {}, updated_at = {} "
        "WHERE part_id = {} AND location_id = {} AND on_hand" + ("" if blind else " - reserved") + " >= {} RETURNING on_hand",
        qty, utcnow(), part["id"], loc["id"], qty,
    )
    if rows:
        return
    available = await fetch("SELECT on_hand, reserved FROM stock_level WHERE part_id = {} AND location_id = {}",
                            part["id"], loc["id"])
    have = int(available[0]["on_hand"]) if available else 0
    reserved = int(available[0]["reserved"]) if available and not blind else 0
    subs = [s for s in await substitutes_in_stock(part["id"], loc["id"]) if int(s["on_hand"]) > 0]
    if reserved:
        raise not_enough_stock(
            _("Not enough stock: %(location)s can spare %(have)s of %(part)s (the rest is reserved), %(qty)s asked.",
              location=loc["name"], have=max(have - reserved, 0), part=part["part_no"], qty=qty),
            available=max(have - reserved, 0), substitutes=subs,
        )
    raise not_enough_stock(
        _("Not enough stock: %(location)s holds %(have)s of %(part)s, %(qty)s asked.",
          location=loc["name"], have=have, part=part["part_no"], qty=qty),
        available=have, substitutes=subs,
    )


async def _put(part: dict, loc: dict, qty: int) -> None:
    # raw-sql: ON CONFLICT DO UPDATE adds to the level, creating it on first receipt
    await fetch(
        "INSERT INTO stock_level (part_id, location_id, on_hand, updated_at) VALUES ({}, {}, {}, {}) "
        "ON CONFLICT (part_id, location_id) DO UPDATE SET on_hand = stock_level.on_hand + excluded.on_hand, "
        "updated_at = excluded.updated_at",
        part["id"], loc["id"], qty, utcnow(),
    )


# long: one movement in one place (on-hand, unit, ledger row, audit), kept whole so the R-INV-03 invariant reads at once.
async def _book(
    actor: Actor,
    *,
    kind: str,
    part: dict,
    qty: int,
    from_loc: dict | None,
    to_loc: dict | None,
    unit: dict | None = None,
    document_type: str = "",
    document_id: Any = "",
    reason: str = "",
) -> Move:
    """Write one movement (inside atomic()): on-hand, the unit's location, the ledger row, the audit event."""
    if from_loc is None and to_loc is None:
        raise DomainError(_("Choose a location."), field="location")
    if from_loc is not None and to_loc is not None and from_loc["id"] == to_loc["id"]:
        raise DomainError(_("From and to are the same location."), field="to_location")
    if from_loc is not None and from_loc["kind"] == "emergency" and kind not in _EMERGENCY_EXEMPT:
        # R-INV-05: nothing leaves the emergency store without an approved release request.
        if not (document_type == "emergency_release" and _emergency_release.get() == str(document_id)):
            raise DomainError(
                _("Nothing leaves the emergency store without a GM-approved release request."), field="from_location",
                status=409,
            )
    if kind in _EMERGENCY_EXEMPT and any(loc is not None and loc["kind"] == "emergency" for loc in (from_loc, to_loc)) \
            and not allowed(actor, "parts.emergency.approve"):
        # R-INV-05 (#11): count corrections there need the general manager too — else a "-5 adjustment" empties the store.
        raise refused(_("Only the general manager may correct the stock of the emergency store; "
                        "ask the general manager to post this adjustment."))
    now = utcnow()
    if part["serialised"]:
        if unit is None or qty != 1:
            raise DomainError(_("This part is serialised: move one unit at a time, by serial."), field="serial")
        expected = from_loc["id"] if from_loc else None
        try:  # compare-and-set on the unit's location (the status follows it): one of two movers wins
            await update_versioned(
                "serial_unit", unit["id"], None,
                {"location_id": to_loc["id"] if to_loc else None, "status": _unit_status(kind, to_loc), "updated_at": now},
                returning="id", where="location_id = {}" if expected is not None else "location_id IS NULL",
                where_args=[expected] if expected is not None else [])
        except Stale:
            where = from_loc["name"] if from_loc else _("outside the stock")
            raise DomainError(_("Unit %(serial)s is not in %(location)s (it may have just been moved).",
                                serial=unit["serial"], location=where), field="serial", status=409) from None
    elif unit is not None:
        raise DomainError(_("This part is not serialised: leave the serial empty."), field="serial")
    # Issue #11 item 3: the stock-level rows are taken in one global order (by location id), so two movements of
    # one part in opposite directions (CENTRAL→BENCH and BENCH→CENTRAL at once) queue instead of deadlocking.
    steps = [(from_loc["id"], 0, _take, from_loc)] if from_loc is not None else []
    steps += [(to_loc["id"], 1, _put, to_loc)] if to_loc is not None else []
    for _id, _order, step, loc in sorted(steps, key=lambda s: (s[0], s[1])):
        if step is _take:
            await _take(part, loc, qty, kind=kind, document_type=document_type, document_id=document_id)
        else:
            await step(part, loc, qty)
    move_id = await insert(
        StockMove, returning=StockMove.id, created_at=now, kind=kind, part_id=part["id"],
        serial_unit_id=unit["id"] if unit else None, serial=unit["serial"] if unit else "", qty=qty,
        from_location_id=from_loc["id"] if from_loc else None, to_location_id=to_loc["id"] if to_loc else None,
        document_type=(document_type or "")[:40], document_id=str(document_id if document_id is not None else "")[:60],
        user_id=actor.user_id, username=actor.username, reason=(reason or "")[:500])
    move = Move(id=int(move_id), kind=kind, part_id=int(part["id"]), qty=qty,
                from_location_id=from_loc["id"] if from_loc else None, to_location_id=to_loc["id"] if to_loc else None,
                serial_unit_id=unit["id"] if unit else None, serial=unit["serial"] if unit else "")
    await record(actor, f"stock.{kind}", "part", part["id"], after={
        "move": move.id, "part": part["part_no"], "qty": qty, "serial": move.serial,
        "from": from_loc["code"] if from_loc else None, "to": to_loc["code"] if to_loc else None,
        "document": f"{document_type}:{document_id}" if document_type else "", "reason": reason,
    })
    return move


async def _prepare(part_id: Any, qty: Any, serial: Any) -> tuple[dict, int, dict | None]:
    part = await _part(part_id)
    qty = _qty(qty)
    unit = None
    if part["serialised"]:
        if qty != 1:
            raise DomainError(_("This part is serialised: move one unit at a time, by serial."), field="qty")
        unit = await _unit(part, serial)
    elif serial not in (None, ""):
        raise DomainError(_("This part is not serialised: leave the serial empty."), field="serial")
    return part, qty, unit


# ---------------------------------------------------------------------------
# the public movement API


@retry_conflicts
async def issue_to(
    actor: Actor,
    part_id: int,
    qty: int,
    from_location: Location,
    document_type: str,
    document_id: Any,
    serial: str | int | None = None,
    reason: str = "",
    *,
    to_location: Location | None = None,
    token: str | None = None,
    check_roles: bool = True,
) -> Move:
    """Issue to a ticket or a repair: the part leaves `from_location` (consumed), or moves to
    `to_location` (e.g. CUSTOMER for a unit installed at the customer).

    Side effects: on-hand down, ledger row, audit `stock.issue`. Raises NotEnoughStock (409).
    """
    require_perm(actor, "parts.move", check=check_roles)
    if not document_type or document_id in (None, ""):
        raise DomainError(_("Name the ticket or repair the part is issued to."), field="document_id")
    async with atomic():
        await claim_token(token, actor, "issue")
        part, qty, unit = await _prepare(part_id, qty, serial)
        from_loc = await _location(from_location, "from_location")
        to_loc = await _location(to_location, "to_location") if to_location not in (None, "") else None
        return await _book(actor, kind="issue", part=part, qty=qty, from_loc=from_loc, to_loc=to_loc, unit=unit,
                           document_type=document_type, document_id=document_id, reason=reason)


@retry_conflicts
async def return_stock(
    actor: Actor,
    part_id: int,
    qty: int,
    to_location: Location,
    *,
    from_location: Location | None = None,
    document_type: str = "",
    document_id: Any = "",
    serial: str | int | None = None,
    reason: str = "",
    token: str | None = None,
    check_roles: bool = True,
) -> Move:
    """A part comes back (unused from a ticket, or from a location such as CUSTOMER) into `to_location`."""
    require_perm(actor, "parts.move", check=check_roles)
    async with atomic():
        await claim_token(token, actor, "return")
        part, qty, unit = await _prepare(part_id, qty, serial)
        to_loc = await _location(to_location, "to_location")
        from_loc = await _location(from_location, "from_location") if from_location not in (None, "") else None
        if unit is not None and from_loc is None and unit["location_id"] is not None:
            raise DomainError(_("Unit %(serial)s is still in stock; use a transfer.", serial=unit["serial"]), field="serial",
                             status=409)
        return await _book(actor, kind="return", part=part, qty=qty, from_loc=from_loc, to_loc=to_loc, unit=unit,
                           document_type=document_type, document_id=document_id, reason=reason)


@retry_conflicts
async def transfer(
    actor: Actor,
    part_id: int,
    qty: int,
    from_location: Location,
    to_location: Location,
    *,
    serial: str | int | None = None,
    document_type: str = "",
    document_id: Any = "",
    reason: str = "",
    kind: str = "transfer",
    token: str | None = None,
    check_roles: bool = True,
) -> Move:
    """Move stock between two locations (also to/from a technician's stock, the bench, the loaner pool)."""
    require_perm(actor, "parts.move", check=check_roles)
    if kind not in KINDS:
        raise DomainError(_("Unknown movement kind."))
    async with atomic():
        await claim_token(token, actor, kind)
        part, qty, unit = await _prepare(part_id, qty, serial)
        from_loc = await _location(from_location, "from_location")
        to_loc = await _location(to_location, "to_location")
        return await _book(actor, kind=kind, part=part, qty=qty, from_loc=from_loc, to_loc=to_loc, unit=unit,
                           document_type=document_type, document_id=document_id, reason=reason)


async def quarantine(
    actor: Actor, part_id: int, qty: int, from_location: Location, *, serial: str | int | None = None,
    reason: str = "", document_type: str = "", document_id: Any = "", token: str | None = None, check_roles: bool = True,
) -> Move:
    """Move suspect or faulty stock to the quarantine location (scrap decides later)."""
    if not (reason or "").strip():
        raise DomainError(_("Give a reason."), field="reason")
    return await transfer(actor, part_id, qty, from_location, "QUARANTINE", serial=serial, reason=reason,
                          document_type=document_type, document_id=document_id, kind="quarantine", token=token,
                          check_roles=check_roles)


@retry_conflicts
async def move_serial_unit(
    actor: Actor,
    unit: str | int,
    to_location: Location | None,
    *,
    expect_from: Location | None = None,
    kind: str = "transfer",
    document_type: str = "",
    document_id: Any = "",
    reason: str = "",
    part_id: int | None = None,
    token: str | None = None,
    check_roles: bool = True,
) -> Move:
    """Move one serialised unit (by unit id or serial) to `to_location` (None = leaves the stock,
    e.g. kind="scrap"). Loaners: kind="loan_out" to "CUSTOMER", kind="loan_back" to "LOANER".

    The move is a compare-and-set on the unit's current location (`expect_from` if given):
    two keepers moving the same unit at once → one wins, the other gets a 409.
    """
    require_perm(actor, "parts.move", check=check_roles)
    if kind not in KINDS:
        raise DomainError(_("Unknown movement kind."))
    async with atomic():
        await claim_token(token, actor, kind)
        if isinstance(unit, int):
            rows = await fetch("SELECT * FROM serial_unit WHERE id = {}", unit)
        else:
            sql = "SELECT * FROM serial_unit WHERE serial = {}" + (" AND part_id = {}" if part_id else "") + " ORDER BY id"
            rows = await fetch(sql, str(unit).strip(), *([part_id] if part_id else []))
        if not rows:
            raise DomainError(_("No unit with serial %(serial)s.", serial=unit), field="serial")
        if len(rows) > 1:
            raise DomainError(_("Several parts have a unit with serial %(serial)s; choose the part.", serial=unit),
                             field="serial")
        row = rows[0]
        part = await _part(row["part_id"])
        if expect_from not in (None, ""):
            from_loc = await _location(expect_from, "from_location")
            if row["location_id"] != from_loc["id"]:
                raise DomainError(_("Unit %(serial)s is not in %(location)s (it may have just been moved).",
                                   serial=row["serial"], location=from_loc["name"]), field="serial", status=409)
        else:
            from_loc = await get_location(row["location_id"]) if row["location_id"] is not None else None
        to_loc = await _location(to_location, "to_location") if to_location not in (None, "") else None
        return await _book(actor, kind=kind, part=part, qty=1, from_loc=from_loc, to_loc=to_loc, unit=row,
                           document_type=document_type, document_id=document_id, reason=reason)


@retry_conflicts
async def receive(
    actor: Actor,
    part_id: int,
    qty: int,
    to_location: Location,
    *,
    serials: Iterable[str] = (),
    document_type: str = "",
    document_id: Any = "",
    reason: str = "",
    token: str | None = None,
    check_roles: bool = True,
) -> list[Move]:
    """Receive new stock into `to_location`; a serialised part needs one new serial per unit."""
    require_perm(actor, "parts.move", check=check_roles)
    async with atomic():
        await claim_token(token, actor, "receive")
        part = await _part(part_id)
        qty = _qty(qty)
        to_loc = await _location(to_location, "to_location")
        if not part["serialised"]:
            if any(s.strip() for s in serials):
                raise DomainError(_("This part is not serialised: leave the serials empty."), field="serials")
            return [await _book(actor, kind="receive", part=part, qty=qty, from_loc=None, to_loc=to_loc,
                                document_type=document_type, document_id=document_id, reason=reason)]
        clean = [s.strip() for s in serials if s.strip()]
        if len(clean) != qty or len(set(clean)) != len(clean):
            raise DomainError(_("Give %(qty)s different serial numbers, one per unit.", qty=qty), field="serials")
        moves = []
        for serial in clean:
            unit = await new_unit(part, serial)
            moves.append(await _book(actor, kind="receive", part=part, qty=1, from_loc=None, to_loc=to_loc, unit=unit,
                                     document_type=document_type, document_id=document_id, reason=reason))
        return moves


async def new_unit(part: dict, serial: str) -> dict:
    """A new serialised unit, outside the stock until its first movement books it in."""
    now = utcnow()
    # raw-sql: ON CONFLICT DO NOTHING RETURNING * — a duplicate serial is refused, not an error
    rows = await fetch(
        "INSERT INTO serial_unit (part_id, serial, location_id, status, version, created_at, updated_at) "
        "VALUES ({}, {}, NULL, 'new', 1, {}, {}) ON CONFLICT (part_id, serial) DO NOTHING RETURNING *",
        part["id"], serial[:100], now, now,
    )
    if not rows:
        raise DomainError(_("Serial %(serial)s already exists for this part.", serial=serial), field="serials", status=409)
    return rows[0]


@retry_conflicts
async def adjust(
    actor: Actor,
    part_id: int,
    location: Location,
    delta: int,
    reason: str,
    *,
    serial: str | None = None,
    kind: str = "adjust",
    document_type: str = "",
    document_id: Any = "",
    token: str | None = None,
    check_roles: bool = True,
) -> Move:
    """Count correction with a reason: +n books found stock in, -n writes missing stock off.
    Serialised: +1 with a new serial creates the unit; -1 with a serial writes that unit off."""
    require_perm(actor, "parts.move", check=check_roles)
    if not (reason or "").strip():
        raise DomainError(_("Give a reason for the adjustment."), field="reason")
    try:
        delta = int(str(delta).strip())
    except (TypeError, ValueError):
        raise DomainError(_("Enter a whole number other than zero (minus to write off)."), field="qty") from None
    if delta == 0:
        raise DomainError(_("Enter a whole number other than zero (minus to write off)."), field="qty")
    if abs(delta) > MAX_QTY:
        raise DomainError(over_limit(), field="qty")
    async with atomic():
        await claim_token(token, actor, kind)
        part = await _part(part_id)
        loc = await _location(location, "location")
        unit = None
        if part["serialised"]:
            if abs(delta) != 1:
                raise DomainError(_("This part is serialised: move one unit at a time, by serial."), field="qty")
            if delta > 0:
                if not (serial or "").strip():
                    raise DomainError(_("This part is serialised: give the serial number."), field="serial")
                existing = await fetch("SELECT * FROM serial_unit WHERE part_id = {} AND serial = {}", part["id"], serial.strip())
                unit = existing[0] if existing else await new_unit(part, serial.strip())
            else:
                unit = await _unit(part, serial)
        elif serial:
            raise DomainError(_("This part is not serialised: leave the serial empty."), field="serial")
        if delta > 0:
            return await _book(actor, kind=kind, part=part, qty=delta, from_loc=None, to_loc=loc, unit=unit,
                               document_type=document_type, document_id=document_id, reason=reason)
        return await _book(actor, kind=kind, part=part, qty=-delta, from_loc=loc, to_loc=None, unit=unit,
                           document_type=document_type, document_id=document_id, reason=reason)


@retry_conflicts
async def scrap(
    actor: Actor,
    part_id: int,
    qty: int,
    document_id: Any,
    *,
    from_location: Location = "QUARANTINE",
    serial: str | int | None = None,
    reason: str = "",
    document_type: str = "scrap",
    check_roles: bool = True,
) -> Move:
    """Write scrapped stock off (R-SCR-03: the scrap domain calls this once the scrap is approved):
    it leaves `from_location` (the quarantine by default); a serialised unit ends as `scrapped`."""
    require_perm(actor, "parts.move", check=check_roles)
    if document_id in (None, ""):
        raise DomainError(_("Name the approved scrap record."), field="document_id")
    async with atomic():
        part, qty, unit = await _prepare(part_id, qty, serial)
        from_loc = await _location(from_location, "from_location")
        return await _book(actor, kind="scrap", part=part, qty=qty, from_loc=from_loc, to_loc=None, unit=unit,
                           document_type=document_type, document_id=document_id, reason=reason)


@asynccontextmanager
async def emergency_release(request_id: Any) -> AsyncIterator[None]:
    """Used only by app.parts.emergency: lets movements of this approved request leave the emergency store."""
    token = _emergency_release.set(str(request_id))
    try:
        yield
    finally:
        _emergency_release.reset(token)

"""Spare parts: the stock ledger and its service API (R-INV-01…04).

Other domains move stock only through the functions here:

    from app.parts import services as parts
    await parts.issue_to(actor, part_id, 1, "BENCH", "rma", rma_id, check_roles=False)
    await parts.move_serial_unit(actor, "SN123", "CUSTOMER", kind="loan_out", document_type="loaner", document_id=7)
    await parts.transfer(actor, part_id, 2, "CENTRAL", tech_location_id)
    await parts.receive(actor, part_id, 3, "CENTRAL", document_type="purchase_request", document_id=5)
    await parts.scrap(actor, part_id, 1, scrap_id, serial="SN9")   # from QUARANTINE once approved

* Locations are given as an id or a code: CENTRAL, EMERGENCY, BENCH, LOANER (the loaner
  pool), QUARANTINE, CUSTOMER ("at customer") always exist; office and technician stores
  are rows of `stock_location` (`technician_location(user_id)` finds or makes one).
* Every function owns its transaction, and joins the caller's `write_transaction()`
  when there is one (inside a SAVEPOINT, so a refused movement leaves the caller's
  transaction usable: catch the 409 `DomainError` (`is_not_enough_stock(exc)`; its `current` holds
  `available` and in-stock `substitutes`) and offer a substitute).
* R-INV-03: each movement is one append-only `stock_move` row (`from`/`to` NULL means
  outside the stock: a supplier, a ticket or repair that consumed the part, a write-off);
  on-hand per (part, location) changes in the same transaction by one conditional
  `UPDATE … WHERE on_hand >= q RETURNING` (the database refuses negatives as well).
* Serialised parts move one unit at a time (qty 1, `serial=`); the unit's location is a
  compare-and-set, so two keepers moving the same unit at once → one wins, one 409.
* Permission `parts.move` (warehouse, manager, gm) moves stock. A domain that has already
  authorised its own user (bench consuming parts into an RMA) passes `check_roles=False`.
* `token=`: a one-time form token; the same token booked twice raises a 409 `DomainError`
  (`is_duplicate_submit(exc)`).
"""

from __future__ import annotations

import math
from contextlib import asynccontextmanager
from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any, AsyncIterator, Iterable

from app.core.audit.services import Actor, record
from app.core.db import atomic, fetch, new_form_token, utcnow
from app.core.errors import DomainError, Stale, refused
from app.core.i18n import _
from app.core.permissions import can
from app.core.settings import setting
from app.core.status import update_versioned
from app.parts.schemas import MoveInput, PartInput  # noqa: F401  (services.PartInput: seeds and other domains)
from app.parts.status import UnitStatus

SYSTEM_CODES = ("CENTRAL", "EMERGENCY", "BENCH", "LOANER", "QUARANTINE", "CUSTOMER")
KINDS = ("receive", "issue", "return", "transfer", "quarantine", "adjust", "loan_out", "loan_back", "scrap",
         "stocktake", "emergency")
# Kinds that may take stock out of the emergency store without a release (count corrections).
_EMERGENCY_EXEMPT = ("adjust", "stocktake")
_emergency_release: ContextVar[str | None] = ContextVar("parts_emergency_release", default=None)

Location = int | str


# The parts domain raises core's DomainError (issue #10): 400 bad input, 403 not allowed, 409 conflict.
# `StockError` stays as an alias for callers not migrated yet (rma, loaners catch `parts.StockError`).
StockError = DomainError


def not_enough_stock(message: str, *, available: int = 0, substitutes: list[dict] | None = None) -> DomainError:
    """409 on the qty field; `current` carries what the page offers: {"available": n, "substitutes": [...]}."""
    return DomainError(message, field="qty", status=409,
                       current={"available": available, "substitutes": list(substitutes or []), "kind": "not_enough_stock"})


def is_not_enough_stock(exc: BaseException) -> bool:
    return isinstance(exc, DomainError) and (exc.current or {}).get("kind") == "not_enough_stock"


def duplicate_submit(ref: str = "") -> DomainError:
    """The one-time form token was used already: the movement was booked once."""
    return DomainError(_("This form was already submitted; it was booked once."), status=409,
                       current={"kind": "duplicate_submit", "ref": ref})


def is_duplicate_submit(exc: BaseException) -> bool:
    return isinstance(exc, DomainError) and (exc.current or {}).get("kind") == "duplicate_submit"


@dataclass(frozen=True)
class Move:
    id: int
    kind: str
    part_id: int
    qty: int
    from_location_id: int | None
    to_location_id: int | None
    serial_unit_id: int | None = None
    serial: str = ""


# ---------------------------------------------------------------------------
# transactions, roles, tokens


def require_roles(actor: Actor, perm_name: str = "parts.move", check: bool = True) -> None:
    """Refuse (403) unless the actor holds `perm_name`; `check=False` when the calling domain authorised its user."""
    if check and not can(actor, perm_name):
        raise refused(_("Your roles do not allow moving stock."))


async def claim_token(token: str | None, actor: Actor, ref: str = "") -> None:
    """Book a one-time form token in the current transaction (rolled back with it)."""
    if not token:
        return
    rows = await fetch(
        "INSERT INTO parts_form_token (token, user_id, ref, created_at) VALUES ({}, {}, {}, {}) "
        "ON CONFLICT (token) DO NOTHING RETURNING id",
        str(token)[:64], actor.user_id, ref[:100], utcnow(),
    )
    if not rows:
        raise duplicate_submit(ref)


new_token = new_form_token  # kept: forms and tests ask services.new_token()


# ---------------------------------------------------------------------------
# reads: parts, locations, units


async def get_part(part_id: Any) -> dict | None:
    try:
        pid = int(part_id)
    except (TypeError, ValueError):
        return None
    rows = await fetch("SELECT * FROM part WHERE id = {}", pid)
    return rows[0] if rows else None


async def part_by_no(part_no: str) -> dict | None:
    rows = await fetch("SELECT * FROM part WHERE part_no = {}", part_no.strip())
    return rows[0] if rows else None


async def _part(part_id: Any) -> dict:
    part = await get_part(part_id)
    if part is None:
        raise DomainError(_("Unknown part."), field="part")
    return part


async def get_location(location: Location | None) -> dict | None:
    if location is None or location == "":
        return None
    if isinstance(location, int) or (isinstance(location, str) and location.isdigit()):
        rows = await fetch("SELECT * FROM stock_location WHERE id = {}", int(location))
    else:
        rows = await fetch("SELECT * FROM stock_location WHERE code = {}", str(location).strip().upper())
    return rows[0] if rows else None


async def location_id(code: Location) -> int:
    loc = await get_location(code)
    if loc is None:
        raise DomainError(_("Unknown location."), field="location")
    return int(loc["id"])


async def _location(location: Location | None, field_name: str) -> dict:
    loc = await get_location(location)
    if loc is None:
        raise DomainError(_("Unknown location."), field=field_name)
    if not loc["active"]:
        raise DomainError(_("This location is closed."), field=field_name)
    return loc


async def list_locations(active_only: bool = True) -> list[dict]:
    sql = ("SELECT l.*, u.username AS keeper_username, u.full_name AS keeper_name FROM stock_location l "
           "LEFT JOIN app_user u ON u.id = l.keeper_user_id")
    if active_only:
        sql += " WHERE l.active = true"
    return await fetch(sql + " ORDER BY l.sort, l.name, l.id")


async def technician_location(user_id: int, *, create: bool = True) -> int | None:
    """The technician stock of a user (R-INV-02), made on first use."""
    rows = await fetch("SELECT id FROM stock_location WHERE kind = 'technician' AND keeper_user_id = {} ORDER BY id LIMIT 1",
                       user_id)
    if rows:
        return int(rows[0]["id"])
    if not create:
        return None
    users = await fetch("SELECT username, full_name FROM app_user WHERE id = {}", user_id)
    if not users:
        raise DomainError(_("Unknown user."), field="keeper")
    name = _("Technician stock: %(name)s", name=users[0]["full_name"] or users[0]["username"])
    async with atomic():
        rows = await fetch(
            "INSERT INTO stock_location (code, name, kind, keeper_user_id, sort, active, created_at) "
            "VALUES ({}, {}, 'technician', {}, 50, true, {}) ON CONFLICT (code) DO NOTHING RETURNING id",
            f"TECH-{users[0]['username']}".upper()[:40], name, user_id, utcnow(),
        )
        if rows:
            return int(rows[0]["id"])
    again = await fetch("SELECT id FROM stock_location WHERE code = {}", f"TECH-{users[0]['username']}".upper()[:40])
    return int(again[0]["id"])


async def find_units(serial: str) -> list[dict]:
    """Serialised units with exactly this serial (scanner input), with part and location."""
    return await fetch(
        "SELECT su.*, p.part_no, p.name AS part_name, l.name AS location_name, l.code AS location_code "
        "FROM serial_unit su JOIN part p ON p.id = su.part_id LEFT JOIN stock_location l ON l.id = su.location_id "
        "WHERE su.serial = {} ORDER BY su.id",
        serial.strip(),
    )


async def get_unit(unit_id: int) -> dict | None:
    rows = await fetch(
        "SELECT su.*, p.part_no, p.name AS part_name, p.model, l.name AS location_name, l.code AS location_code, "
        "l.kind AS location_kind FROM serial_unit su JOIN part p ON p.id = su.part_id "
        "LEFT JOIN stock_location l ON l.id = su.location_id WHERE su.id = {}",
        unit_id,
    )
    return rows[0] if rows else None


async def _unit(part: dict, serial: str | int | None, field_name: str = "serial") -> dict:
    if serial is None or str(serial).strip() == "":
        raise DomainError(_("This part is serialised: give the serial number."), field=field_name)
    if isinstance(serial, int):
        rows = await fetch("SELECT * FROM serial_unit WHERE id = {} AND part_id = {}", serial, part["id"])
    else:
        rows = await fetch("SELECT * FROM serial_unit WHERE part_id = {} AND serial = {}", part["id"], str(serial).strip())
    if not rows:
        raise DomainError(_("No unit with serial %(serial)s for this part.", serial=serial), field=field_name)
    return rows[0]


async def on_hand(part_id: int, location: Location) -> int:
    loc = await get_location(location)
    if loc is None:
        return 0
    rows = await fetch("SELECT on_hand FROM stock_level WHERE part_id = {} AND location_id = {}", part_id, loc["id"])
    return int(rows[0]["on_hand"]) if rows else 0


async def substitutes_in_stock(part_id: int, location_id: int | None = None) -> list[dict]:
    """R-INV-01: substitutes offered when a part is out of stock (with stock at the location, or anywhere)."""
    if location_id is None:
        return await fetch(
            "SELECT p.id, p.part_no, p.name, p.model, COALESCE(SUM(sl.on_hand), 0) AS on_hand FROM part_substitute s "
            "JOIN part p ON p.id = s.substitute_id LEFT JOIN stock_level sl ON sl.part_id = p.id "
            "WHERE s.part_id = {} GROUP BY p.id, p.part_no, p.name, p.model ORDER BY p.part_no",
            part_id,
        )
    return await fetch(
        "SELECT p.id, p.part_no, p.name, p.model, COALESCE(sl.on_hand, 0) AS on_hand FROM part_substitute s "
        "JOIN part p ON p.id = s.substitute_id LEFT JOIN stock_level sl ON sl.part_id = p.id AND sl.location_id = {} "
        "WHERE s.part_id = {} ORDER BY p.part_no",
        location_id, part_id,
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
    return value


def _unit_status(kind: str, to_loc: dict | None) -> str:
    if to_loc is None:
        return {"scrap": UnitStatus.SCRAPPED, "adjust": UnitStatus.LOST, "stocktake": UnitStatus.LOST}.get(
            kind, UnitStatus.ISSUED).value
    return {"customer": UnitStatus.AT_CUSTOMER, "quarantine": UnitStatus.QUARANTINE}.get(
        to_loc["kind"], UnitStatus.IN_STOCK).value


async def _take(part: dict, loc: dict, qty: int) -> None:
    """R-INV-03: one conditional UPDATE; zero rows back means not enough stock (never read-check-write)."""
    rows = await fetch(
        "UPDATE stock_level SET on_hand = on_hand - {}, updated_at = {} "
        "WHERE part_id = {} AND location_id = {} AND on_hand >= {} RETURNING on_hand",
        qty, utcnow(), part["id"], loc["id"], qty,
    )
    if rows:
        return
    available = await fetch("SELECT on_hand FROM stock_level WHERE part_id = {} AND location_id = {}", part["id"], loc["id"])
    have = int(available[0]["on_hand"]) if available else 0
    subs = [s for s in await substitutes_in_stock(part["id"], loc["id"]) if int(s["on_hand"]) > 0]
    raise not_enough_stock(
        _("Not enough stock: %(location)s holds %(have)s of %(part)s, %(qty)s asked.",
          location=loc["name"], have=have, part=part["part_no"], qty=qty),
        available=have, substitutes=subs,
    )


async def _put(part: dict, loc: dict, qty: int) -> None:
    await fetch(
        "INSERT INTO stock_level (part_id, location_id, on_hand, updated_at) VALUES ({}, {}, {}, {}) "
        "ON CONFLICT (part_id, location_id) DO UPDATE SET on_hand = stock_level.on_hand + excluded.on_hand, "
        "updated_at = excluded.updated_at",
        part["id"], loc["id"], qty, utcnow(),
    )


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
    if from_loc is not None:
        await _take(part, from_loc, qty)
    if to_loc is not None:
        await _put(part, to_loc, qty)
    rows = await fetch(
        "INSERT INTO stock_move (created_at, kind, part_id, serial_unit_id, serial, qty, from_location_id, to_location_id, "
        "document_type, document_id, user_id, username, reason) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
        "RETURNING id",
        now, kind, part["id"], unit["id"] if unit else None, unit["serial"] if unit else "", qty,
        from_loc["id"] if from_loc else None, to_loc["id"] if to_loc else None,
        (document_type or "")[:40], str(document_id if document_id is not None else "")[:60],
        actor.user_id, actor.username, (reason or "")[:500],
    )
    move = Move(id=int(rows[0]["id"]), kind=kind, part_id=int(part["id"]), qty=qty,
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
    require_roles(actor, check=check_roles)
    if not document_type or document_id in (None, ""):
        raise DomainError(_("Name the ticket or repair the part is issued to."), field="document_id")
    async with atomic():
        await claim_token(token, actor, "issue")
        part, qty, unit = await _prepare(part_id, qty, serial)
        from_loc = await _location(from_location, "from_location")
        to_loc = await _location(to_location, "to_location") if to_location not in (None, "") else None
        return await _book(actor, kind="issue", part=part, qty=qty, from_loc=from_loc, to_loc=to_loc, unit=unit,
                           document_type=document_type, document_id=document_id, reason=reason)


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
    require_roles(actor, check=check_roles)
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
    require_roles(actor, check=check_roles)
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
    require_roles(actor, check=check_roles)
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
    require_roles(actor, check=check_roles)
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
    rows = await fetch(
        "INSERT INTO serial_unit (part_id, serial, location_id, status, version, created_at, updated_at) "
        "VALUES ({}, {}, NULL, 'new', 1, {}, {}) ON CONFLICT (part_id, serial) DO NOTHING RETURNING *",
        part["id"], serial[:100], now, now,
    )
    if not rows:
        raise DomainError(_("Serial %(serial)s already exists for this part.", serial=serial), field="serials", status=409)
    return rows[0]


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
    require_roles(actor, check=check_roles)
    if not (reason or "").strip():
        raise DomainError(_("Give a reason for the adjustment."), field="reason")
    try:
        delta = int(str(delta).strip())
    except (TypeError, ValueError):
        raise DomainError(_("Enter a whole number other than zero (minus to write off)."), field="qty") from None
    if delta == 0:
        raise DomainError(_("Enter a whole number other than zero (minus to write off)."), field="qty")
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
    require_roles(actor, check=check_roles)
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
        await fetch("INSERT INTO part_substitute (part_id, substitute_id) VALUES ({}, {})", part_id, sid)


async def create_part(actor: Actor, data: PartInput) -> int:
    require_roles(actor, "parts.edit")
    values, subs = _validate_part(data)
    async with atomic():
        now = utcnow()
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
    require_roles(actor, "parts.edit")
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


# ---------------------------------------------------------------------------
# locations and minimum stock (R-INV-02, R-INV-04)


async def create_location(actor: Actor, *, code: str, name: str, kind: str, keeper: str = "", office: str = "") -> int:
    require_roles(actor, "parts.edit")
    errors = {}
    code = code.strip().upper()
    if not code:
        errors["code"] = _("Enter a short code.")
    if not name.strip():
        errors["name"] = _("Enter the name.")
    if kind not in ("central", "emergency", "office", "technician", "bench", "loaner_pool", "quarantine", "customer"):
        errors["kind"] = _("Choose a kind.")
    keeper_id = None
    if keeper.strip():
        users = await fetch("SELECT id FROM app_user WHERE username = {}", keeper.strip())
        if not users:
            errors["keeper"] = _("Unknown user.")
        else:
            keeper_id = users[0]["id"]
    if kind == "technician" and keeper_id is None and "keeper" not in errors:
        errors["keeper"] = _("A technician stock belongs to a technician: give the username.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with atomic():
        rows = await fetch(
            "INSERT INTO stock_location (code, name, kind, keeper_user_id, office, sort, active, created_at) "
            "VALUES ({}, {}, {}, {}, {}, {}, true, {}) ON CONFLICT (code) DO NOTHING RETURNING id",
            code[:40], name.strip()[:100], kind, keeper_id, office.strip()[:60],
            {"office": 30, "technician": 50}.get(kind, 100), utcnow(),
        )
        if not rows:
            raise DomainError(_("Code %(code)s exists already.", code=code), field="code")
        await record(actor, "stock_location.created", "stock_location", rows[0]["id"],
                     after={"code": code, "name": name, "kind": kind, "keeper": keeper})
        return int(rows[0]["id"])


async def set_keeper(actor: Actor, location: Location, username: str) -> None:
    """The emergency store's named keeper (R-INV-02), or any location's."""
    require_roles(actor, "parts.edit")
    loc = await _location(location, "location")
    users = await fetch("SELECT id FROM app_user WHERE username = {}", username.strip())
    if not users:
        raise DomainError(_("Unknown user."), field="keeper")
    async with atomic():
        await fetch("UPDATE stock_location SET keeper_user_id = {} WHERE id = {}", users[0]["id"], loc["id"])
        await record(actor, "stock_location.keeper_set", "stock_location", loc["id"],
                     before={"keeper_user_id": loc["keeper_user_id"]}, after={"keeper_user_id": users[0]["id"]})


async def min_stock_percent() -> float:
    return float(await setting("parts.min_stock_percent"))


def default_minimum(installed_qty: int, percent: float) -> int:
    """R-INV-04 default rule: local spares ≥ 3% (setting) of the installed quantity the location serves."""
    return math.ceil(installed_qty * percent / 100) if installed_qty > 0 else 0


async def set_minimum(actor: Actor, part_id: int, location: Location, *, min_qty: Any = None,
                      installed_qty: Any = None) -> dict:
    """Set the installed quantity a location serves and/or a manual minimum; blank minimum → the default rule."""
    require_roles(actor, "parts.edit")
    part = await _part(part_id)
    loc = await _location(location, "location")
    errors = {}

    def whole(value: Any, name: str) -> int | None:
        if value is None or str(value).strip() == "":
            return None
        try:
            n = int(str(value).strip())
        except ValueError:
            errors[name] = _("Enter a whole number, zero or more.")
            return None
        if n < 0:
            errors[name] = _("Enter a whole number, zero or more.")
        return n

    manual = whole(min_qty, "min_qty")
    installed = whole(installed_qty, "installed_qty")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    pct = await min_stock_percent()
    async with atomic():
        await fetch("INSERT INTO stock_level (part_id, location_id, on_hand, updated_at) VALUES ({}, {}, 0, {}) "
                    "ON CONFLICT (part_id, location_id) DO NOTHING", part["id"], loc["id"], utcnow())
        before = (await fetch("SELECT installed_qty, min_qty, min_manual FROM stock_level WHERE part_id = {} AND location_id = {}",
                              part["id"], loc["id"]))[0]
        inst = installed if installed is not None else int(before["installed_qty"])
        new_min = manual if manual is not None else default_minimum(inst, pct)
        await fetch("UPDATE stock_level SET installed_qty = {}, min_qty = {}, min_manual = {}, updated_at = {} "
                    "WHERE part_id = {} AND location_id = {}", inst, new_min, manual is not None, utcnow(), part["id"], loc["id"])
        after = {"installed_qty": inst, "min_qty": new_min, "min_manual": manual is not None}
        await record(actor, "stock.minimum_set", "part", part["id"], before={**before, "location": loc["code"]},
                     after={**after, "location": loc["code"]})
        return after


async def reorder_list(location_id: int | None = None, limit: int = 200) -> list[dict]:
    """R-INV-04: (part, location) below its minimum, with the shortfall (uses the partial index)."""
    sql = ("SELECT sl.part_id, sl.location_id, sl.on_hand, sl.min_qty, sl.installed_qty, sl.min_qty - sl.on_hand AS shortfall, "
           "p.part_no, p.name, p.model, p.unit, p.supplier, p.cost_fen, l.name AS location_name, l.code AS location_code "
           "FROM stock_level sl JOIN part p ON p.id = sl.part_id JOIN stock_location l ON l.id = sl.location_id "
           "WHERE sl.on_hand < sl.min_qty")
    args: list[Any] = []
    if location_id:
        sql += " AND sl.location_id = {}"
        args.append(location_id)
    sql += f" ORDER BY l.sort, l.name, p.part_no LIMIT {int(limit)}"
    return await fetch(sql, *args)


async def reorder_count() -> int:
    rows = await fetch("SELECT COUNT(*) AS n FROM stock_level WHERE on_hand < min_qty")
    return int(rows[0]["n"])


FORM_KINDS = ("receive", "issue", "return", "transfer", "quarantine", "adjust")


async def book_form(actor: Actor, part_id: int, data: MoveInput) -> Move:
    """Dispatch the part page's movement form to the service for its kind."""
    if data.kind not in FORM_KINDS:
        raise DomainError(_("Choose a movement."), field="kind")
    serial = data.serial.strip() or None
    if data.kind == "receive":
        return await _receive_against_request(actor, part_id, data)
    if data.kind == "issue":
        return await issue_to(actor, part_id, data.qty, data.from_location, data.document_type or "ticket",
                              data.document_id, serial=serial, reason=data.reason, token=data.token,
                              to_location=data.to_location or None)
    if data.kind == "return":
        return await return_stock(actor, part_id, data.qty, data.to_location, from_location=data.from_location or None,
                                  document_type=data.document_type, document_id=data.document_id, serial=serial,
                                  reason=data.reason, token=data.token)
    if data.kind == "transfer":
        if not data.to_location:
            raise DomainError(_("Choose where the stock goes."), field="to_location")
        return await transfer(actor, part_id, data.qty, data.from_location, data.to_location, serial=serial,
                              document_type=data.document_type, document_id=data.document_id, reason=data.reason,
                              token=data.token)
    if data.kind == "quarantine":
        return await quarantine(actor, part_id, data.qty, data.from_location, serial=serial, reason=data.reason,
                                token=data.token)
    return await adjust(actor, part_id, data.from_location or data.to_location, data.qty, data.reason, serial=serial,
                        token=data.token)


async def _receive_against_request(actor: Actor, part_id: int, data: MoveInput) -> Move:
    """Receive on the part page: against an approved purchase request (R-INV-04) naming this part."""
    from app.parts import purchasing

    number = data.document_id.strip()
    if not number:
        raise DomainError(_("Give the number of the approved purchase request."), field="document_id")
    rows = await fetch("SELECT pr.id FROM purchase_request pr WHERE pr.number = {} OR CAST(pr.id AS VARCHAR(20)) = {}",
                       number, number)
    if not rows:
        raise DomainError(_("No purchase request %(n)s.", n=number), field="document_id")
    pr_id = int(rows[0]["id"])
    lines = await fetch("SELECT id FROM purchase_request_line WHERE request_id = {} AND part_id = {} "
                        "AND received_qty < qty ORDER BY id LIMIT 1", pr_id, part_id)
    if not lines:
        raise DomainError(_("Purchase request %(n)s has nothing of this part left to receive.", n=number),
                         field="document_id")
    line_id = int(lines[0]["id"])
    await purchasing.receive_request(actor, pr_id, {line_id: data.qty}, {line_id: data.serial}, token=data.token)
    last = await fetch("SELECT * FROM stock_move WHERE document_type = 'purchase_request' AND document_id = {} "
                       "AND part_id = {} ORDER BY id DESC LIMIT 1", str(pr_id), part_id)
    row = last[0]
    return Move(id=int(row["id"]), kind="receive", part_id=part_id, qty=int(data.qty) if str(data.qty).strip().isdigit() else 1,
                from_location_id=None, to_location_id=row["to_location_id"], serial_unit_id=row["serial_unit_id"],
                serial=row["serial"])


async def units_at(location: Location, *, part_id: int | None = None, limit: int = 500) -> list[dict]:
    """Serialised units in a location (e.g. the loaner pool), with part number, name and model."""
    loc = await get_location(location)
    if loc is None:
        return []
    return await fetch(
        "SELECT su.id, su.serial, su.status, su.part_id, p.part_no, p.name, p.model FROM serial_unit su "
        "JOIN part p ON p.id = su.part_id WHERE su.location_id = {}" + (" AND su.part_id = {}" if part_id else "")
        + f" ORDER BY p.model, su.serial LIMIT {int(limit)}",
        loc["id"], *([part_id] if part_id else []),
    )


async def availability_by_model(location: Location = "LOANER") -> list[dict]:
    """Units per model in a location ("3 of DS-7808N available" for the loaner pool)."""
    loc = await get_location(location)
    if loc is None:
        return []
    return await fetch(
        "SELECT p.model, p.name, COUNT(*) AS available FROM serial_unit su JOIN part p ON p.id = su.part_id "
        "WHERE su.location_id = {} GROUP BY p.model, p.name ORDER BY p.model", loc["id"])


async def _installed_counts() -> list[dict] | None:
    """Installed devices per (part, service office), matching part.model = device.model (the customers
    domain's installed base, R-CUS-04). None when that domain's tables are not there."""
    try:
        return await fetch(
            "SELECT p.id AS part_id, o.code AS office_code, o.city AS office_city, o.name AS office_name, "
            "COUNT(d.id) AS n FROM part p JOIN device d ON d.model = p.model JOIN customer c ON c.id = d.customer_id "
            "JOIN service_office o ON o.id = c.office_id WHERE p.model <> '' AND c.is_active = true "
            "GROUP BY p.id, o.code, o.city, o.name")
    except Exception:  # noqa: BLE001 - the customers domain is optional for the parts domain
        return None


async def recompute_minimums(actor: Actor, *, check_roles: bool = True) -> int:
    """R-INV-04 default rule from the installed base: an office store serves its service office's
    customers (stock_location.office = the office's code, city or name); devices of offices without a
    store count for the central warehouse. installed_qty is set, and min_qty = ceil(pct × installed)
    where the minimum was not set by hand. Returns the number of (part, location) rows updated."""
    require_roles(actor, "parts.edit", check=check_roles)
    counts = await _installed_counts()
    if counts is None:
        return 0
    locations = await list_locations()
    offices = [loc for loc in locations if loc["kind"] == "office" and loc["office"]]
    central = next((loc for loc in locations if loc["code"] == "CENTRAL"), None)
    installed: dict[tuple[int, int], int] = {}
    for row in counts:
        keys = {row["office_code"], row["office_city"], row["office_name"]}
        stores = [loc for loc in offices if loc["office"] in keys] or ([central] if central else [])
        for loc in stores[:1]:
            key = (int(row["part_id"]), int(loc["id"]))
            installed[key] = installed.get(key, 0) + int(row["n"])
    pct = await min_stock_percent()
    now = utcnow()
    async with atomic():
        for (pid, lid), n in installed.items():
            await fetch(
                "INSERT INTO stock_level (part_id, location_id, on_hand, installed_qty, min_qty, updated_at) "
                "VALUES ({}, {}, 0, {}, {}, {}) ON CONFLICT (part_id, location_id) DO UPDATE SET "
                "installed_qty = excluded.installed_qty, min_qty = CASE WHEN stock_level.min_manual THEN stock_level.min_qty "
                "ELSE excluded.min_qty END, updated_at = excluded.updated_at",
                pid, lid, n, default_minimum(n, pct), now)
        await record(actor, "stock.minimums_recomputed", "stock_level", "", after={"rows": len(installed), "percent": pct})
    return len(installed)

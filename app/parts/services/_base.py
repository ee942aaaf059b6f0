"""Parts services, part 1: refusals, tokens and reads of parts, locations and units."""

from __future__ import annotations

from contextvars import ContextVar
from dataclasses import dataclass
from typing import Any

from app.core.audit.services import Actor
from app.core.db import atomic, fetch, new_form_token, utcnow
from app.core.errors import DomainError, refused
from app.core.i18n import _
from app.parts.perms import allowed


SYSTEM_CODES = ("CENTRAL", "EMERGENCY", "BENCH", "LOANER", "QUARANTINE", "CUSTOMER")
KINDS = ("receive", "issue", "return", "transfer", "quarantine", "adjust", "loan_out", "loan_back", "scrap",
         "stocktake", "emergency")
# Kinds that may take stock out of the emergency store without a release (count corrections).
_EMERGENCY_EXEMPT = ("adjust", "stocktake")
_emergency_release: ContextVar[str | None] = ContextVar("parts_emergency_release", default=None)

Location = int | str

# Issue #11 item 5: business maximums for quantities. SPEC gives no number, so these are constants: the largest
# real lot of one part in one movement, count, request or order line is a few thousand (a carton of connectors);
# 100,000 leaves room for any of them and stays far below PostgreSQL's INTEGER (2^31), so a typo such as
# 3,000,000,000 is a form error instead of a ledger row.
MAX_QTY = 100_000
# The installed base one store serves (R-INV-04): a whole province's cameras, not more.
MAX_INSTALLED = 10_000_000


def over_limit(maximum: int = MAX_QTY) -> str:
    return _("Enter at most %(max)s.", max=f"{maximum:,}")


# The parts domain raises core's DomainError (issue #10): 400 bad input, 403 not allowed, 409 conflict.


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


def require_perm(actor: Actor, perm_name: str, check: bool = True) -> None:
    """Refuse (403) unless the actor holds `perm_name`; `check=False` when the calling domain authorised its user."""
    if check and not allowed(actor, perm_name):
        raise refused(_("Your roles do not allow moving stock."))


async def claim_token(token: str | None, actor: Actor, ref: str = "") -> None:
    """Book a one-time form token in the current transaction (rolled back with it)."""
    if not token:
        return
    # raw-sql: ON CONFLICT DO NOTHING RETURNING is the double-submit guard
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


async def list_locations(active_only: bool = True, *, repairs: bool = False) -> list[dict]:
    """Locations for pickers and lists; the per-repair bench locations (REPAIR-…, issue #12) only when `repairs`."""
    sql = ("SELECT l.*, u.username AS keeper_username, u.full_name AS keeper_name FROM stock_location l "
           "LEFT JOIN app_user u ON u.id = l.keeper_user_id WHERE 1 = 1")
    if active_only:
        sql += " AND l.active = true"
    if not repairs:
        sql += " AND l.code NOT LIKE 'REPAIR-%'"
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
        # raw-sql: ON CONFLICT DO NOTHING RETURNING — a concurrent first use makes one location
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

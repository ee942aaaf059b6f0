"""Parts services, part 4: locations, keepers and minimum stock (R-INV-02, R-INV-04); the part page's movement form."""

from __future__ import annotations

import math
from typing import Any

from app.core import hooks
from app.core.audit.services import Actor, record
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError
from app.core.i18n import _
from app.parts.services._retry import retry_conflicts
from app.core.settings import setting
from app.core.rows import update
from app.parts.perms import ensure_installed
from app.parts.schemas import MoveInput
from app.parts.tables import StockLevel, StockLocation
from app.parts.services._base import (
    MAX_INSTALLED, MAX_QTY, Location, Move, over_limit, _location, _part, get_location, list_locations, location_id, require_perm,
)
from app.parts.services._ledger import adjust, issue_to, quarantine, return_stock, transfer
from app.parts.services._repair import issue_to_repair


# ---------------------------------------------------------------------------
# locations and minimum stock (R-INV-02, R-INV-04)


async def create_location(actor: Actor, *, code: str, name: str, kind: str, keeper: str = "", office: str = "") -> int:
    require_perm(actor, "parts.edit")
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
        # raw-sql: ON CONFLICT (code) DO NOTHING RETURNING — a taken code is refused, not an error
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
    require_perm(actor, "parts.edit")
    loc = await _location(location, "location")
    users = await fetch("SELECT id FROM app_user WHERE username = {}", username.strip())
    if not users:
        raise DomainError(_("Unknown user."), field="keeper")
    async with atomic():
        await update(StockLocation, StockLocation.id == loc["id"], keeper_user_id=users[0]["id"])
        await record(actor, "stock_location.keeper_set", "stock_location", loc["id"],
                     before={"keeper_user_id": loc["keeper_user_id"]}, after={"keeper_user_id": users[0]["id"]})


async def min_stock_percent() -> float:
    ensure_installed()  # seeds and service tests run without create_app()
    return float(await setting("parts.min_stock_percent"))


def default_minimum(installed_qty: int, percent: float) -> int:
    """R-INV-04 default rule: local spares ≥ 3% (setting) of the installed quantity the location serves."""
    return math.ceil(installed_qty * percent / 100) if installed_qty > 0 else 0


async def set_minimum(actor: Actor, part_id: int, location: Location, *, min_qty: Any = None,
                      installed_qty: Any = None) -> dict:
    """Set the installed quantity a location serves and/or a manual minimum; blank minimum → the default rule."""
    require_perm(actor, "parts.edit")
    part = await _part(part_id)
    loc = await _location(location, "location")
    errors = {}

    def whole(value: Any, name: str, limit: int = MAX_QTY) -> int | None:
        if value is None or str(value).strip() == "":
            return None
        try:
            n = int(str(value).strip())
        except ValueError:
            errors[name] = _("Enter a whole number, zero or more.")
            return None
        if n < 0:
            errors[name] = _("Enter a whole number, zero or more.")
        elif n > limit:
            errors[name] = over_limit(limit)
        return n

    manual = whole(min_qty, "min_qty")
    installed = whole(installed_qty, "installed_qty", MAX_INSTALLED)
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    pct = await min_stock_percent()
    async with atomic():
        # raw-sql: ON CONFLICT DO NOTHING — the level row exists before it is edited
        await fetch("INSERT INTO stock_level (part_id, location_id, on_hand, updated_at) VALUES ({}, {}, 0, {}) "
                    "ON CONFLICT (part_id, location_id) DO NOTHING", part["id"], loc["id"], utcnow())
        before = (await fetch("SELECT installed_qty, min_qty, min_manual FROM stock_level WHERE part_id = {} AND location_id = {}",
                              part["id"], loc["id"]))[0]
        inst = installed if installed is not None else int(before["installed_qty"])
        new_min = manual if manual is not None else default_minimum(inst, pct)
        await update(StockLevel, (StockLevel.part_id == part["id"]) & (StockLevel.location_id == loc["id"]),
                     installed_qty=inst, min_qty=new_min, min_manual=manual is not None, updated_at=utcnow())
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


@retry_conflicts
async def book_form(actor: Actor, part_id: int, data: MoveInput) -> Move:
    """Dispatch the part page's movement form to the service for its kind."""
    if data.kind not in FORM_KINDS:
        raise DomainError(_("Choose a movement."), field="kind")
    serial = data.serial.strip() or None
    if data.kind == "receive":
        return await _receive_against_request(actor, part_id, data)
    if data.kind == "issue" and data.document_type == "rma":
        return await _issue_to_rma(actor, part_id, data, serial)
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


async def _issue_to_rma(actor: Actor, part_id: int, data: MoveInput, serial: str | None) -> Move:
    """Issue #12 item 2: to a real, open RMA only (the bench's case finder answers); the part moves to that
    repair's bench location, it is not consumed (the bench records use or returns it)."""
    number = data.document_id.strip()
    if not number:
        raise DomainError(_("Choose the repair (RMA) the part is issued to."), field="document_id")
    case = await hooks.open_case("rma", number)
    if case is None:
        raise DomainError(_("There is no repair numbered %(n)s waiting for parts; choose one from the list.", n=number),
                          field="document_id")
    return await issue_to_repair(actor, part_id, data.qty, data.from_location, "rma", case["id"], number=case["number"],
                                 serial=serial, reason=data.reason, token=data.token)


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
    require_perm(actor, "parts.edit", check=check_roles)
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
            # raw-sql: upsert that keeps a manual minimum (CASE on the existing row)
            await fetch(
                "INSERT INTO stock_level (part_id, location_id, on_hand, installed_qty, min_qty, updated_at) "
                "VALUES ({}, {}, 0, {}, {}, {}) ON CONFLICT (part_id, location_id) DO UPDATE SET "
                "installed_qty = excluded.installed_qty, min_qty = CASE WHEN stock_level.min_manual THEN stock_level.min_qty "
                "ELSE excluded.min_qty END, updated_at = excluded.updated_at",
                pid, lid, n, default_minimum(n, pct), now)
        await record(actor, "stock.minimums_recomputed", "stock_level", "", after={"rows": len(installed), "percent": pct})
    return len(installed)

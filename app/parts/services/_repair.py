"""Parts services, part 5 (issue #12 item 2): parts issued to a repair reach it.

The keeper issues a part against a real, open case (an RMA): the part MOVES from the store to that case's own
bench location (`REPAIR-RMA-<id>`, made on first use, kind "bench"), it is not consumed. What lies there is
"issued, not yet used" (`issued_to_document`). The bench then records use (consumed from that location against
the case: the conditional stock UPDATE lets exactly one of two users take the last unit) or returns it to the
store it came from. Every step is one ledger row + audit event through `_book` (R-INV-03).
"""

from __future__ import annotations

from typing import Any

from app.core.audit.services import Actor
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError
from app.core.i18n import _
from app.parts.services._base import Location, Move, get_location
from app.parts.services._ledger import issue_to, transfer

REPAIR_PREFIX = "REPAIR-"


def _code(document_type: str, document_id: Any) -> str:
    return f"{REPAIR_PREFIX}{document_type}-{document_id}".upper()[:40]


async def repair_location(document_type: str, document_id: Any, *, number: str = "", create: bool = True) -> dict | None:
    """The bench location tied to one case (made on first use when `create`)."""
    code = _code(document_type, document_id)
    loc = await get_location(code)
    if loc is not None or not create:
        return loc
    async with atomic():
        # raw-sql: ON CONFLICT DO NOTHING — two first issues to one repair create its location once
        await fetch(
            "INSERT INTO stock_location (code, name, kind, sort, active, created_at) VALUES ({}, {}, 'bench', 95, true, {}) "
            "ON CONFLICT (code) DO NOTHING",
            code, _("Bench: repair %(n)s", n=number or document_id)[:100], utcnow())
    return await get_location(code)


async def issue_to_repair(actor: Actor, part_id: int, qty: Any, from_location: Location, document_type: str,
                          document_id: Any, *, number: str = "", serial: str | int | None = None, reason: str = "",
                          token: str | None = None, check_roles: bool = True) -> Move:
    """The keeper issues a part to a repair: store → the case's bench location (kind "issue", not consumed).
    The caller has checked that the case exists and is open. Side effects: ledger row, audit `stock.issue`."""
    if document_id in (None, ""):
        raise DomainError(_("Name the ticket or repair the part is issued to."), field="document_id")
    loc = await repair_location(document_type, document_id, number=number)
    return await issue_to(actor, part_id, qty, from_location, document_type, document_id, serial=serial,
                          reason=reason or _("Issued to repair %(n)s", n=number or document_id), to_location=loc["id"],
                          token=token, check_roles=check_roles)


async def issued_to_document(document_type: str, document_id: Any) -> list[dict]:
    """Issued, not yet used: what lies in the case's bench location, per part, with its serials and cost."""
    loc = await repair_location(document_type, document_id, create=False)
    if loc is None:
        return []
    rows = await fetch(
        "SELECT sl.part_id, sl.on_hand, p.part_no, p.name, p.unit, p.cost_fen, p.serialised FROM stock_level sl "
        "JOIN part p ON p.id = sl.part_id WHERE sl.location_id = {} AND sl.on_hand > 0 ORDER BY p.part_no",
        loc["id"])
    for row in rows:
        row["on_hand"] = int(row["on_hand"])
        row["serials"] = [u["serial"] for u in await fetch(
            "SELECT serial FROM serial_unit WHERE location_id = {} AND part_id = {} ORDER BY serial",
            loc["id"], row["part_id"])] if row["serialised"] else []
    return rows


async def issued_blocking_close(rma_id: int) -> list:
    """Close guard for "rma" (core hooks): a repair still holding parts the keeper issued cannot close — the bench
    records them as used or returns them first."""
    from app.core.hooks import Blocker

    rows = await issued_to_document("rma", rma_id)
    if not rows:
        return []
    listed = ", ".join(f"{r['part_no']} × {r['on_hand']}" for r in rows)
    return [Blocker(message=_("Parts issued to this repair are neither used nor returned: %(parts)s.", parts=listed),
                    url=f"/bench/{rma_id}#rma-parts", kind="parts")]


async def has_issued(document_type: str, document_id: Any, part_id: int) -> bool:
    """Was this part ever issued to the case (a stock row exists in its bench location)?"""
    loc = await repair_location(document_type, document_id, create=False)
    if loc is None:
        return False
    return bool(await fetch("SELECT 1 FROM stock_level WHERE location_id = {} AND part_id = {}", loc["id"], part_id))


async def use_on_repair(actor: Actor, part_id: int, qty: Any, document_type: str, document_id: Any, *,
                        serial: str | int | None = None, reason: str = "", check_roles: bool = True) -> Move:
    """The bench records use: consumed from the case's bench location against the case (409 when it holds less)."""
    loc = await repair_location(document_type, document_id, create=False)
    if loc is None:
        raise DomainError(_("Nothing of this part was issued to this repair."), field="part_no", status=409)
    return await issue_to(actor, part_id, qty, loc["id"], document_type, document_id, serial=serial,
                          reason=reason or _("Used on the bench"), check_roles=check_roles)


async def return_from_repair(actor: Actor, part_id: int, qty: Any, document_type: str, document_id: Any, *,
                             serial: str | int | None = None, to_location: Location | None = None, reason: str = "",
                             check_roles: bool = True) -> Move:
    """An issued part not needed: back from the case's bench location to the store it was issued from
    (or `to_location`). Side effects: ledger row (kind "return"), audit `stock.return`."""
    loc = await repair_location(document_type, document_id, create=False)
    if loc is None:
        raise DomainError(_("Nothing of this part was issued to this repair."), field="part_no", status=409)
    if to_location in (None, ""):
        came = await fetch("SELECT from_location_id FROM stock_move WHERE to_location_id = {} AND part_id = {} "
                           "AND from_location_id IS NOT NULL ORDER BY id DESC LIMIT 1", loc["id"], part_id)
        to_location = int(came[0]["from_location_id"]) if came else "CENTRAL"
    return await transfer(actor, part_id, qty, loc["id"], to_location, serial=serial, document_type=document_type,
                          document_id=document_id, reason=reason or _("Not used on the repair"), kind="return",
                          check_roles=check_roles)

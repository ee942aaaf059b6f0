"""Purchase requests (R-INV-04): request → manager approval → receipt into stock.

Receipt books `receive` movements (document purchase_request:<id>) and counts received
quantities per line with a conditional UPDATE (`received_qty + q <= qty`), so two keepers
receiving the same delivery at once cannot over-receive.
"""

from __future__ import annotations

from typing import Any

from app.core.audit.services import Actor, record
from app.core.numbers import attach_entity, next_number
from app.core.rows import insert
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError, not_found, refused
from app.core.i18n import _
from app.parts.services._retry import retry_conflicts
from app.core.status import label_of, move
from app.parts.perms import allowed
from app.parts.services import MAX_QTY, claim_token, get_location, over_limit, receive, reorder_list
from app.parts.status import PURCHASE_LABELS, PURCHASE_TRANSITIONS, PurchaseStatus
from app.parts.tables import PurchaseRequest, PurchaseRequestLine

# Permissions (app/parts/manifest.py): parts.purchase.request, parts.purchase.approve, parts.purchase.receive.


def _need(actor: Actor, perm_name: str, message: str) -> None:
    if not allowed(actor, perm_name):
        raise refused(message)


async def create_request(actor: Actor, *, location: Any, lines: list[tuple[str, Any]], supplier: str = "",
                         note: str = "", token: str | None = None) -> int:
    """lines: (part_no or part id, qty)."""
    _need(actor, "parts.purchase.request", _("Your roles do not allow purchase requests."))
    errors: dict[str, str] = {}
    loc = await get_location(location)
    if loc is None:
        errors["location"] = _("Unknown location.")
    parsed: list[tuple[dict, int]] = []
    for i, (ref, qty) in enumerate(lines):
        if not str(ref).strip() and not str(qty).strip():
            continue
        if isinstance(ref, int):
            rows = await fetch("SELECT * FROM part WHERE id = {}", ref)
        else:
            rows = await fetch("SELECT * FROM part WHERE part_no = {}", str(ref).strip())
        if not rows:
            errors[f"line{i}"] = _("Unknown part number %(no)s.", no=ref)
            continue
        try:
            n = int(str(qty).strip())
        except ValueError:
            n = 0
        if n <= 0:
            errors[f"line{i}"] = _("Enter a whole number greater than zero.")
            continue
        if n > MAX_QTY:
            errors[f"line{i}"] = over_limit()
            continue
        parsed.append((rows[0], n))
    if not parsed and not any(k.startswith("line") for k in errors):
        errors["line0"] = _("Add at least one item.")
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with atomic():
        await claim_token(token, actor, "purchase_request")
        number = await next_number("purchase_request", entity_type="purchase_request")
        now = utcnow()
        pr_id = int(await insert(
            PurchaseRequest, returning=PurchaseRequest.id, number=number.formatted, status="requested",
            location_id=loc["id"], supplier=supplier.strip()[:200], note=note.strip(), requested_by=actor.user_id,
            requested_by_name=actor.display[:60], version=1, created_at=now, updated_at=now))
        await attach_entity("purchase_request", number.formatted, pr_id)
        for part, qty in parsed:
            await insert(PurchaseRequestLine, request_id=pr_id, part_id=part["id"], qty=qty, received_qty=0,
                         cost_fen=part["cost_fen"])
        await record(actor, "purchase.requested", "purchase_request", pr_id, after={
            "number": number.formatted, "location": loc["code"], "lines": [(p["part_no"], q) for p, q in parsed]})
        return pr_id


async def request_from_reorder_list(actor: Actor, location_id: int, token: str | None = None) -> int:
    """One purchase request for every shortfall at a location."""
    short = await reorder_list(location_id)
    if not short:
        raise DomainError(_("Nothing at this location is below its minimum."), status=409)
    return await create_request(actor, location=location_id, lines=[(r["part_id"], r["shortfall"]) for r in short],
                                note=_("From the reorder list"), token=token)


async def get_request(pr_id: int) -> dict | None:
    rows = await fetch("SELECT pr.*, COALESCE(NULLIF(u.full_name, ''), pr.requested_by_name) AS requested_by_name, "
                       "l.name AS location_name, l.code AS location_code FROM purchase_request pr "
                       "JOIN stock_location l ON l.id = pr.location_id LEFT JOIN app_user u ON u.id = pr.requested_by "
                       "WHERE pr.id = {}", pr_id)
    if not rows:
        return None
    pr = rows[0]
    pr["lines"] = await fetch(
        "SELECT l.*, p.part_no, p.name, p.model, p.unit, p.serialised FROM purchase_request_line l "
        "JOIN part p ON p.id = l.part_id WHERE l.request_id = {} ORDER BY l.id", pr_id)
    return pr


async def list_requests(status: str = "", before_id: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    where, args = [], []
    if status == "open":
        where.append("pr.status IN ('requested', 'approved')")
    elif status:
        where.append("pr.status = {}")
        args.append(status)
    if before_id:
        where.append("pr.id < {}")
        args.append(before_id)
    # the requester's name, not the username: a read-only join to the shell's users
    sql = ("SELECT pr.*, COALESCE(NULLIF(u.full_name, ''), pr.requested_by_name) AS requested_by_name, "
           "l.name AS location_name FROM purchase_request pr JOIN stock_location l ON l.id = pr.location_id "
           "LEFT JOIN app_user u ON u.id = pr.requested_by"
           + (" WHERE " + " AND ".join(where) if where else ""))
    rows = await fetch(sql + f" ORDER BY pr.id DESC LIMIT {int(limit) + 1}", *args)
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], cursor


async def _transition(actor: Actor, pr_id: int, action: str, *, version: int | None = None, **sets: Any) -> None:
    """core.status.move(): a stale second click changes nothing and gets a 409."""
    t = PURCHASE_TRANSITIONS[action]
    before = await fetch("SELECT status FROM purchase_request WHERE id = {}", pr_id)
    if not before:
        raise not_found(_("No such request."))
    if not t.allowed_from(before[0]["status"]):
        raise DomainError(_("This request is %(status)s now; nothing was changed.", status=status_label(before[0]["status"])),
                          status=409)
    await move("purchase_request", pr_id, version, t, actor=actor, sets=sets, labels=PURCHASE_LABELS, returning="id",
               check_perm=False)  # the caller refused already, with its own message
    await record(actor, t.action, "purchase_request", pr_id, before={"status": before[0]["status"]}, after={"status": t.to, **sets})


async def approve(actor: Actor, pr_id: int, note: str = "") -> None:
    _need(actor, "parts.purchase.approve", _("Only a manager approves purchase requests."))
    async with atomic():
        await _transition(actor, pr_id, "approve", decided_by=actor.user_id,
                          decided_by_name=actor.username, decided_at=utcnow(), decision_note=note.strip())


async def reject(actor: Actor, pr_id: int, note: str = "") -> None:
    _need(actor, "parts.purchase.approve", _("Only a manager approves purchase requests."))
    if not note.strip():
        raise DomainError(_("Give the reason for the refusal."), field="note")
    async with atomic():
        await _transition(actor, pr_id, "reject", decided_by=actor.user_id,
                          decided_by_name=actor.username, decided_at=utcnow(), decision_note=note.strip())


@retry_conflicts
async def receive_request(actor: Actor, pr_id: int, quantities: dict[int, Any], serials: dict[int, str] | None = None,
                          token: str | None = None) -> int:
    """Receive (part of) an approved request; returns the number of units booked in."""
    _need(actor, "parts.purchase.receive", _("Only the warehouse receives stock."))
    serials = serials or {}
    async with atomic():
        await claim_token(token, actor, f"purchase_receipt:{pr_id}")
        pr = await get_request(pr_id)
        if pr is None:
            raise not_found(_("No such request."))
        if pr["status"] != PurchaseStatus.APPROVED:
            raise DomainError(_("Only an approved request can be received (this one is %(status)s).",
                               status=status_label(pr["status"])), status=409)
        booked = 0
        for line in pr["lines"]:
            raw = quantities.get(line["id"], "")
            if raw is None or str(raw).strip() in ("", "0"):
                continue
            try:
                qty = int(str(raw).strip())
            except ValueError:
                qty = -1
            if qty <= 0:
                raise DomainError(_("Enter a whole number greater than zero."), field=f"qty{line['id']}")
            if qty > MAX_QTY:
                raise DomainError(over_limit(), field=f"qty{line['id']}")
            # raw-sql: conditional relative update (received + qty <= qty) in one statement
            done = await fetch("UPDATE purchase_request_line SET received_qty = received_qty + {} "
                               "WHERE id = {} AND received_qty + {} <= qty RETURNING received_qty", qty, line["id"], qty)
            if not done:
                raise DomainError(_("Only %(left)s of %(part)s are still to receive.", left=line["qty"] - line["received_qty"],
                                   part=line["part_no"]), field=f"qty{line['id']}", status=409)
            given = [s for s in (serials.get(line["id"]) or "").replace(",", " ").split() if s]
            await receive(actor, line["part_id"], qty, pr["location_id"], serials=given, document_type="purchase_request",
                          document_id=pr_id, reason=pr["number"], check_roles=False)
            booked += qty
        if booked == 0:
            raise DomainError(_("Enter the quantity received on at least one line."), field="qty")
        left = await fetch("SELECT 1 AS x FROM purchase_request_line WHERE request_id = {} AND received_qty < qty LIMIT 1", pr_id)
        if not left:
            await _transition(actor, pr_id, "receive", received_at=utcnow())
        return booked


def status_label(status: str) -> str:
    return label_of(PURCHASE_LABELS, status)

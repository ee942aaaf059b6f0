"""The emergency store (R-INV-05): release request → GM approval → issue with the engineer named.

Nothing leaves the emergency store without an approved request: the stock ledger refuses
any movement out of a location of kind `emergency` unless it runs inside
`services.emergency_release(request_id)`, which only `issue()` below opens, after the
request's status moved approved → issued by compare-and-set. Request, approval and issue
are linked by the request id (ledger rows carry document `emergency_release:<id>`) and audited.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Any

from app.core.audit.services import Actor, record
from app.core.numbers import attach_entity, next_number
from app.core.rows import insert, update
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError, not_found, refused
from app.core.i18n import _
from app.parts.services._retry import retry_conflicts
from app.core.status import label_of, move
from app.parts.perms import allowed
from app.parts.services import MAX_QTY, claim_token, emergency_release, get_location, move_serial_unit, over_limit, transfer
from app.parts.status import EMERGENCY_LABELS, EMERGENCY_TRANSITIONS, EmergencyStatus
from app.parts.tables import EmergencyRequest, EmergencyRequestLine

# Permissions (declared in app/parts/manifest.py): parts.emergency.request, parts.emergency.approve (R-INV-05: only
# the general manager releases the emergency store), parts.emergency.issue, parts.emergency.cancel_any.


@dataclass
class RequestInput:
    customer_name: str = ""
    customer_id: str = ""
    reason: str = ""
    engineer: str = ""
    lines: list[tuple[str, str]] = field(default_factory=list)  # (part_no, qty)
    token: str = ""


def _need(actor: Actor, perm_name: str, message: str) -> None:
    if not allowed(actor, perm_name):
        raise refused(message)


async def _engineer(username: str) -> dict | None:
    if not username.strip():
        return None
    rows = await fetch("SELECT id, username, full_name FROM app_user WHERE username = {} AND is_active = true",
                       username.strip())
    if not rows:
        raise DomainError(_("Unknown user."), field="engineer")
    return rows[0]


# long: validation of every line, then the request and its lines in one transaction
async def create_request(actor: Actor, data: RequestInput) -> int:
    _need(actor, "parts.emergency.request", _("Your roles do not allow requesting an emergency release."))
    errors: dict[str, str] = {}
    customer_id = None
    if str(data.customer_id).strip():
        # #12.8: a picked customer must exist; its name is the one on record
        from app.customers.api import get_customer

        raw_id = str(data.customer_id).strip()
        customer = await get_customer(int(raw_id)) if raw_id.isdigit() and len(raw_id) <= 9 else None
        if customer is None:
            errors["customer_name"] = _("Choose the customer from the search results.")
        else:
            customer_id, data.customer_name = int(customer["id"]), customer["name"]
    if not data.customer_name.strip() and "customer_name" not in errors:
        errors["customer_name"] = _("Enter the customer.")
    if not data.reason.strip():
        errors["reason"] = _("Give the reason for the emergency release.")
    lines: list[tuple[dict, int]] = []
    for i, (part_no, qty) in enumerate(data.lines):
        if not part_no.strip() and not str(qty).strip():
            continue
        rows = await fetch("SELECT * FROM part WHERE part_no = {}", part_no.strip())
        if not rows:
            errors[f"line{i}"] = _("Unknown part number %(no)s.", no=part_no)
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
        lines.append((rows[0], n))
    if not lines and not any(k.startswith("line") for k in errors):
        errors["line0"] = _("Add at least one item.")
    engineer = None
    try:
        engineer = await _engineer(data.engineer)
    except DomainError as exc:
        errors.update(exc.errors)
    if errors:
        raise DomainError(_("Check the highlighted fields."), errors=errors)
    async with atomic():
        await claim_token(data.token, actor, "emergency_request")
        number = await next_number("emergency_release", entity_type="emergency_request")
        now = utcnow()
        request_id = int(await insert(
            EmergencyRequest, returning=EmergencyRequest.id, number=number.formatted, status="requested",
            customer_id=customer_id, customer_name=data.customer_name.strip()[:200], reason=data.reason.strip(),
            engineer_id=engineer["id"] if engineer else None,
            engineer_name=(engineer["full_name"] or engineer["username"]) if engineer else "",
            requested_by=actor.user_id, requested_by_name=actor.display[:60], version=1, created_at=now, updated_at=now))
        await attach_entity("emergency_release", number.formatted, request_id)
        for part, qty in lines:
            await insert(EmergencyRequestLine, request_id=request_id, part_id=part["id"], qty=qty, serials="")
        await record(actor, "emergency.requested", "emergency_request", request_id, after={
            "number": number.formatted, "customer": data.customer_name, "reason": data.reason,
            "lines": [(p["part_no"], q) for p, q in lines]})
        return request_id


async def get_request(request_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM emergency_request WHERE id = {}", request_id)
    if not rows:
        return None
    req = rows[0]
    req["lines"] = await fetch(
        "SELECT l.*, p.part_no, p.name, p.model, p.unit, p.serialised, "
        "(SELECT COALESCE(SUM(sl.on_hand), 0) FROM stock_level sl JOIN stock_location loc ON loc.id = sl.location_id "
        " WHERE sl.part_id = l.part_id AND loc.kind = 'emergency') AS available "
        "FROM emergency_request_line l JOIN part p ON p.id = l.part_id WHERE l.request_id = {} ORDER BY l.id",
        request_id,
    )
    req["moves"] = await fetch(
        "SELECT m.*, p.part_no FROM stock_move m JOIN part p ON p.id = m.part_id "
        "WHERE m.document_type = 'emergency_release' AND m.document_id = {} ORDER BY m.id", str(request_id))
    for line in req["lines"]:  # #12.8: the issue step lists the units the emergency store holds
        line["units"] = await fetch(
            "SELECT su.serial FROM serial_unit su JOIN stock_location loc ON loc.id = su.location_id "
            "WHERE su.part_id = {} AND loc.kind = 'emergency' ORDER BY su.serial LIMIT 200", line["part_id"]) \
            if line["serialised"] else []
    return req


async def emergency_stock(limit: int = 500) -> list[dict]:
    """#12.8: what the emergency store holds, for the request form's part picker (part number, name, on hand)."""
    return await fetch(
        "SELECT p.part_no, p.name, p.model, SUM(sl.on_hand) AS on_hand FROM stock_level sl "
        "JOIN stock_location loc ON loc.id = sl.location_id JOIN part p ON p.id = sl.part_id "
        f"WHERE loc.kind = 'emergency' AND sl.on_hand > 0 GROUP BY p.part_no, p.name, p.model ORDER BY p.part_no LIMIT {int(limit)}")


async def engineers() -> list[dict]:
    """#12.8: people who take parts out to a site, by name (pickers show names, never usernames)."""
    return await fetch("SELECT id, username, full_name FROM app_user WHERE is_active = true AND "
                       "(roles LIKE '%field%' OR roles LIKE '%eng_manager%' OR roles LIKE '%bench%') "
                       "ORDER BY full_name, username")


async def list_requests(status: str = "", before_id: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    where, args = [], []
    if status == "open":
        where.append("status IN ('requested', 'approved')")
    elif status:
        where.append("status = {}")
        args.append(status)
    if before_id:
        where.append("id < {}")
        args.append(before_id)
    sql = "SELECT * FROM emergency_request" + (" WHERE " + " AND ".join(where) if where else "")
    rows = await fetch(sql + f" ORDER BY id DESC LIMIT {int(limit) + 1}", *args)
    cursor = rows[limit - 1]["id"] if len(rows) > limit else None
    return rows[:limit], cursor


async def _transition(actor: Actor, request_id: int, action: str, *, version: int | None = None, **sets: Any) -> dict:
    """core.status.move(): a stale second click changes nothing and gets a 409."""
    t = EMERGENCY_TRANSITIONS[action]
    before = await fetch("SELECT status FROM emergency_request WHERE id = {}", request_id)
    if not before:
        raise not_found(_("No such request."))
    if not t.allowed_from(before[0]["status"]):
        raise DomainError(_("This request is %(status)s now; nothing was changed.",
                            status=status_label(before[0]["status"])), status=409)
    row = await move("emergency_request", request_id, version, t, actor=actor, sets=sets, labels=EMERGENCY_LABELS,
                     check_perm=False)  # the caller refused already, with its own message
    await record(actor, t.action, "emergency_request", request_id, before={"status": before[0]["status"]},
                 after={"status": t.to, **{k: v for k, v in sets.items()}})
    return row


async def approve(actor: Actor, request_id: int, note: str = "") -> None:
    """R-INV-05: only the GM approves."""
    _need(actor, "parts.emergency.approve", _("Only the general manager releases the emergency store."))
    async with atomic():
        await _transition(actor, request_id, "approve", decided_by=actor.user_id, decided_by_name=actor.username, decided_at=utcnow(),
                          decision_note=note.strip())


async def reject(actor: Actor, request_id: int, note: str = "") -> None:
    _need(actor, "parts.emergency.approve", _("Only the general manager releases the emergency store."))
    if not note.strip():
        raise DomainError(_("Give the reason for the refusal."), field="note")
    async with atomic():
        await _transition(actor, request_id, "reject", decided_by=actor.user_id, decided_by_name=actor.username, decided_at=utcnow(),
                          decision_note=note.strip())


async def cancel(actor: Actor, request_id: int) -> None:
    async with atomic():
        rows = await fetch("SELECT requested_by FROM emergency_request WHERE id = {}", request_id)
        if rows and rows[0]["requested_by"] != actor.user_id and not allowed(actor, "parts.emergency.cancel_any"):
            raise refused(_("Only the requester or the warehouse can cancel this request."))
        await _transition(actor, request_id, "cancel")


@retry_conflicts
async def issue(actor: Actor, request_id: int, *, engineer: str, serials: dict[int, str] | None = None,
                token: str | None = None) -> None:
    """Issue an approved request from the emergency store to the customer, with the engineer named.

    Side effects: status approved → issued (compare-and-set), one ledger movement per line
    (serialised: per unit) EMERGENCY → CUSTOMER with document emergency_release:<id>, audit.
    """
    _need(actor, "parts.emergency.issue", _("Only the warehouse issues from the emergency store."))
    serials = serials or {}
    eng = await _engineer(engineer)
    if eng is None:
        raise DomainError(_("Name the engineer who takes the items."), field="engineer")
    async with atomic():
        await claim_token(token, actor, f"emergency_issue:{request_id}")
        await _transition(actor, request_id, "issue", engineer_id=eng["id"], engineer_name=eng["full_name"] or eng["username"],
                          issued_by=actor.user_id, issued_by_name=actor.username, issued_at=utcnow())
        store = await fetch("SELECT id FROM stock_location WHERE kind = 'emergency' AND active = true ORDER BY id LIMIT 1")
        source = await get_location(store[0]["id"]) if store else None
        if source is None:
            raise DomainError(_("There is no emergency store location."), status=409)
        lines = await fetch("SELECT l.*, p.serialised, p.part_no FROM emergency_request_line l JOIN part p ON p.id = l.part_id "
                            "WHERE l.request_id = {} ORDER BY l.id", request_id)
        reason = _("Emergency release, engineer %(name)s", name=eng["full_name"] or eng["username"])
        async with emergency_release(request_id):
            for line in lines:
                if line["serialised"]:
                    given = [s for s in (serials.get(line["id"]) or "").replace(",", " ").split() if s]
                    if len(given) != line["qty"] or len(set(given)) != len(given):
                        raise DomainError(_("Give %(qty)s serial numbers for %(part)s.", qty=line["qty"], part=line["part_no"]),
                                         field=f"serials{line['id']}")
                    for serial in given:
                        await move_serial_unit(actor, serial, "CUSTOMER", expect_from=source["id"], kind="emergency",
                                               document_type="emergency_release", document_id=request_id, reason=reason,
                                               part_id=line["part_id"], check_roles=False)
                    await update(EmergencyRequestLine, EmergencyRequestLine.id == line["id"], serials=" ".join(given)[:1000])
                else:
                    await transfer(actor, line["part_id"], line["qty"], source["id"], "CUSTOMER", kind="emergency",
                                   document_type="emergency_release", document_id=request_id, reason=reason,
                                   check_roles=False)


async def open_counts() -> dict:
    rows = await fetch("SELECT status, COUNT(*) AS n FROM emergency_request WHERE status IN ({}, {}) GROUP BY status",
                       EmergencyStatus.REQUESTED.value, EmergencyStatus.APPROVED.value)
    counts = {r["status"]: int(r["n"]) for r in rows}
    return {"requested": counts.get("requested", 0), "approved": counts.get("approved", 0)}


def status_label(status: str) -> str:
    return label_of(EMERGENCY_LABELS, status)

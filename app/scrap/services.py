"""Scrap approvals: one async function per action (issue #14, SPEC §F).

Rules:
* R-SCR-01 a unit or a quantity of a part in quarantine gets a numbered scrap record (报废品处理记录, series BF);
  the materials department (warehouse) convenes a temporary technical appraisal group which confirms;
  disposal follows the approved method; a linked loaner's spare-replacement notice is annotated as a
  permanent replacement (app.loaners.api.convert_to_permanent).
* R-SCR-02 the month's quality-problem records are gathered into one batch for approval (app.scrap.batches).
* R-SCR-03 approval is multi-person: the appraisal group (quorum = setting `scrap.quorum`, at least 2;
  the requester may not appraise), then the manager, then the GM when the book value is above
  `scrap.gm_threshold`; an appraiser may not approve; stock leaves quarantine only when approved
  (the `scrap` movement of the parts ledger); the written-off value goes to finance.
* R-INV-02 the stock sits in the QUARANTINE location while the record is open; a rejection moves it
  back to the central warehouse or to the bench through the ledger.

Every write: one transaction with its audit event; status changes through core.status.move().
"""

from __future__ import annotations

import datetime as dt
from decimal import Decimal
from typing import Any

from app.core.actor import Actor
from app.core.audit.services import record
from app.core.db import fetch, is_sqlite, utcnow, write_transaction
from app.core.errors import DomainError, fix, not_found, refused
from app.core.i18n import _
from app.core.money import from_fen, to_fen
from app.core.numbers import attach_entity, next_number
from app.core.permissions import can, require
from app.core.rows import insert, update
from app.core.settings import setting
from app.core.status import move, update_versioned
import app.parts.api as parts
from app.scrap.schemas import ConveneInput, DecisionInput, DisposeInput, OpinionInput, RaiseInput, WithdrawInput
from app.scrap.status import LABELS, OPEN, TRANSITIONS, ScrapStatus
from app.scrap.tables import ScrapAppraiser, ScrapRequest

TABLE = "scrap_request"
QUARANTINE = "QUARANTINE"  # R-INV-02: the quarantine/scrap location of the parts ledger
APPRAISER_ROLES = ("bench", "qc", "warehouse")  # who may sit in an appraisal group (scrap.appraise)
S = ScrapStatus


# --------------------------------------------------------------------------- helpers


async def person_name(actor: Actor) -> str:
    """The person's full name for the record (X-04: pages show names, never usernames)."""
    if actor.name:
        return actor.name[:100]
    if actor.user_id is not None:
        rows = await fetch("SELECT full_name, username FROM app_user WHERE id = {}", actor.user_id)
        if rows:
            return (rows[0]["full_name"] or rows[0]["username"])[:100]
    return actor.username[:100]


async def get_request(request_id: Any) -> dict | None:
    try:
        rid = int(request_id)
    except (TypeError, ValueError):
        return None
    rows = await fetch("SELECT * FROM scrap_request WHERE id = {}", rid)
    if not rows:
        return None
    row = dict(rows[0])
    row["value"] = from_fen(row["value_fen"])
    row["unit_cost"] = from_fen(row["unit_cost_fen"])
    return row


async def get_by_number(number: str) -> dict | None:
    rows = await fetch("SELECT id FROM scrap_request WHERE number = {}", (number or "").strip().upper())
    return await get_request(rows[0]["id"]) if rows else None


async def _request(request_id: Any) -> dict:
    row = await get_request(request_id)
    if row is None:
        raise not_found()
    return row


async def appraisers(request_id: int) -> list[dict]:
    return await fetch("SELECT * FROM scrap_appraiser WHERE request_id = {} ORDER BY id", request_id)


async def opinions(request_id: int) -> list[dict]:
    return await fetch("SELECT * FROM scrap_opinion WHERE request_id = {} ORDER BY id", request_id)


async def is_appraiser(request_id: int, user_id: int | None) -> bool:
    if user_id is None:
        return False
    rows = await fetch("SELECT 1 AS x FROM scrap_appraiser WHERE request_id = {} AND user_id = {}", request_id, user_id)
    return bool(rows)


async def reserved_qty(part_id: int) -> int:
    """Quantity of a non-serialised part already held by open scrap records (uses scrap_request_open_part)."""
    states = sorted(str(s) for s in OPEN)
    rows = await fetch(
        "SELECT COALESCE(SUM(qty), 0) AS n FROM scrap_request WHERE part_id = {} AND serial_unit_id IS NULL "
        f"AND status IN ({', '.join(['{}'] * len(states))})", part_id, *states)
    return int(rows[0]["n"] or 0)


async def available_in_quarantine(part_id: int) -> int:
    """What a new quantity request may still take: on hand in quarantine minus open records."""
    return max(0, await parts.on_hand(part_id, QUARANTINE) - await reserved_qty(part_id))


async def loan_by_number(number: str) -> dict | None:
    import app.loaners.api as loaners

    return await loaners.loan_by_number(number)


# --------------------------------------------------------------------------- raise (R-SCR-01)


async def _resolve_unit(data: RaiseInput) -> tuple[dict, dict]:
    """(part, unit) for a scanned serial; the unit must be in the stock (quarantine or another store)."""
    units = await parts.find_units(data.serial)
    if data.part_no:
        units = [u for u in units if u["part_no"].upper() == data.part_no.upper()]
    if not units:
        raise fix(serial=_("No unit with serial %(serial)s.", serial=data.serial))
    if len(units) > 1:
        raise fix(part_no=_("Several parts have a unit with this serial; give the part number."))
    unit = units[0]
    if unit["location_id"] is None or unit.get("location_code") == "CUSTOMER":
        raise fix(serial=_("Unit %(serial)s is not in our stock; only stock can be scrapped.", serial=data.serial))
    part = await parts.get_part(unit["part_id"])
    return part, unit


# long: serial and quantity requests share the value, quarantine and loan checks (R-SCR-01) in one transaction
async def raise_request(actor: Actor, data: RaiseInput, *, today: dt.date | None = None) -> int:
    """R-SCR-01: a numbered scrap record for a serialised unit or a quantity in quarantine.

    Side effects: draws a BF number; a unit still in another store is first moved to QUARANTINE
    (`quarantine` ledger row, document = the record); inserts scrap_request; audit `scrap.raised`.
    Refuses (400, nothing written): unknown serial/part, a quantity above what quarantine holds
    (minus open records), a book value of 0 or less, an unknown or returned loan.
    """
    require(actor, "scrap.raise")
    unit = None
    if data.serial:
        part, unit = await _resolve_unit(data)
        qty = 1
    else:
        part = await parts.part_by_no(data.part_no)
        if part is None:
            raise fix(part_no=_("Unknown part number."))
        if part["serialised"]:
            raise fix(serial=_("This part is serialised: scan the unit's serial."))
        qty = int(data.qty or 0)
        available = await available_in_quarantine(part["id"])
        if qty > available:
            raise fix(qty=_("Quarantine holds %(n)s of this part not yet on a scrap record; %(qty)s asked.",
                            n=available, qty=qty))
    unit_cost_fen = int(part["cost_fen"] or 0)
    value_fen = to_fen(data.value) if data.value is not None else unit_cost_fen * qty
    if value_fen <= 0:
        raise fix(value=_("The part has no cost: enter the book value and the reason."))
    loan = None
    if data.loan_number:
        loan = await loan_by_number(data.loan_number)
        if loan is None:
            raise fix(loan_number=_("No spare-replacement notice with this number."))
        if loan["status"] != "out":
            raise fix(loan_number=_("This loaner is not out at a customer any more."))
    name = await person_name(actor)
    async with write_transaction():
        if unit is None:
            # two keepers raising the same part at once: serialise per part, then count again inside the
            # transaction (SQLite's BEGIN IMMEDIATE already queues writers; PostgreSQL takes a per-part lock)
            if not is_sqlite():
                await fetch("SELECT pg_advisory_xact_lock({}, {})", 14, int(part["id"]))
            available = await available_in_quarantine(part["id"])
            if qty > available:
                raise fix(qty=_("Quarantine holds %(n)s of this part not yet on a scrap record; %(qty)s asked.",
                                n=available, qty=qty))
        number = (await next_number("scrap", entity_type="scrap_request", today=today)).formatted
        if unit is not None and unit["location_code"] != QUARANTINE:
            await parts.quarantine(actor, part["id"], 1, unit["location_id"], serial=unit["id"],
                                   reason=_("Scrap request %(number)s", number=number), document_type="scrap",
                                   document_id=number, check_roles=False)
        now = utcnow()
        try:
            rid = int(await insert(
                ScrapRequest, returning=ScrapRequest.id, number=number, status="draft", part_id=part["id"],
                serial_unit_id=unit["id"] if unit else None, serial=unit["serial"] if unit else "", qty=qty,
                part_no=part["part_no"], part_name=part["name"], model=part["model"] or "",
                supplier=part["supplier"] or "", reason=data.reason, note=data.note, source_type=data.source_type,
                source_ref=data.source_ref, loan_id=loan["id"] if loan else None,
                loan_number=loan["number"] if loan else "", unit_cost_fen=unit_cost_fen, value_fen=value_fen,
                value_override_reason=data.value_reason if data.value is not None else "", requested_by=actor.user_id,
                requested_by_name=name, version=1, created_at=now, updated_at=now))
        except Exception as exc:
            from app.core.db import is_unique_violation

            if is_unique_violation(exc):
                raise fix(serial=_("This unit already has an open scrap record.")) from None
            raise
        await attach_entity("scrap", number, rid)
        await record(actor, "scrap.raised", TABLE, rid, after={
            "number": number, "part": part["part_no"], "serial": unit["serial"] if unit else "", "qty": qty,
            "reason": data.reason, "value": str(from_fen(value_fen)), "source": f"{data.source_type}:{data.source_ref}",
            "loan": loan["number"] if loan else ""})
    return rid


async def open_unit_request(serial_unit_id: int) -> dict | None:
    states = sorted(str(s) for s in OPEN)
    rows = await fetch(f"SELECT id FROM scrap_request WHERE serial_unit_id = {{}} AND status IN "
                       f"({', '.join(['{}'] * len(states))})", serial_unit_id, *states)
    return await get_request(rows[0]["id"]) if rows else None


# --------------------------------------------------------------------------- appraisal group (R-SCR-01, R-SCR-03)


async def quorum() -> int:
    """R-SCR-03: how many appraisers must agree; never fewer than 2 whatever the setting says."""
    return max(2, int(await setting("scrap.quorum")))


async def appraiser_candidates(exclude_user_id: int | None = None) -> list[dict]:
    """Active users who may sit in an appraisal group (bench, QC, warehouse), by name."""
    rows = await fetch("SELECT id, username, full_name, roles FROM app_user WHERE is_active = true ORDER BY full_name, id")
    out = []
    for row in rows:
        roles = set((row["roles"] or "").split())
        if roles & set(APPRAISER_ROLES) and row["id"] != exclude_user_id:
            out.append(row)
    return out


async def convene(actor: Actor, request_id: int, data: ConveneInput) -> None:
    """R-SCR-01/03: the keeper names the temporary technical appraisal group (at least the quorum, never
    the requester). Side effects: draft → appraising; scrap_appraiser rows; audit `scrap.convened`."""
    require(actor, "scrap.raise")
    row = await _request(request_id)
    need = await quorum()
    chosen = list(dict.fromkeys(data.appraisers))
    if row["requested_by"] is not None and row["requested_by"] in chosen:
        raise fix(appraisers=_("The requester cannot appraise their own request."))
    if len(chosen) < need:
        raise fix(appraisers=_("Choose at least %(n)s appraisers.", n=need))
    people = {r["id"]: r for r in await appraiser_candidates()}
    unknown = [uid for uid in chosen if uid not in people]
    if unknown:
        raise fix(appraisers=_("Appraisers are active bench, QC or warehouse staff."))
    name = await person_name(actor)
    async with write_transaction():
        now = utcnow()
        await move(TABLE, row["id"], data.version, TRANSITIONS["convene"], actor=actor, labels=LABELS, now=now,
                   sets={"quorum": need, "convened_by_name": name, "convened_at": now})
        for uid in chosen:
            await insert(ScrapAppraiser, request_id=row["id"], user_id=uid,
                         user_name=(people[uid]["full_name"] or people[uid]["username"])[:100], created_at=now)
        await record(actor, "scrap.convened", TABLE, row["id"], before={"status": row["status"]},
                     after={"status": "appraising", "quorum": need, "appraisers": chosen})


async def give_opinion(actor: Actor, request_id: int, data: OpinionInput, *, now: dt.datetime | None = None) -> str:
    """R-SCR-03: one appraiser's opinion (scrap / repair / return to supplier). Counts once per appraiser
    (UNIQUE index); when `quorum` appraisers agree the record moves on: scrap or return to supplier →
    appraised; repair → rejected and the item goes back to the bench. Returns the new status.

    Side effects: scrap_opinion row; maybe the status move (and a ledger transfer to BENCH); audit
    `scrap.opinion`. The row is locked first, so two last votes arriving together both count."""
    now = now or utcnow()
    name = await person_name(actor)
    async with write_transaction():
        # serialise the votes of one record (PostgreSQL row lock; SQLite writers queue anyway)
        # raw-sql: a no-op self-assignment that only takes the row lock
        locked = await fetch("UPDATE scrap_request SET updated_at = updated_at WHERE id = {} RETURNING id, status, "
                             "requested_by, quorum", request_id)
        if not locked:
            raise not_found()
        row = locked[0]
        if row["requested_by"] is not None and row["requested_by"] == actor.user_id:
            raise refused(_("The requester cannot appraise their own request."))
        if not await is_appraiser(request_id, actor.user_id):
            raise refused(_("Only the appraisers named for this request can give an opinion."))
        if row["status"] != S.APPRAISING:
            raise DomainError(_("The appraisal of this request is closed."), status=409)
        # raw-sql: ON CONFLICT DO NOTHING RETURNING — an opinion counts once per appraiser
        inserted = await fetch(
            "INSERT INTO scrap_opinion (request_id, user_id, user_name, opinion, note, created_at) VALUES "
            "({}, {}, {}, {}, {}, {}) ON CONFLICT (request_id, user_id) DO NOTHING RETURNING id",
            request_id, actor.user_id, name, data.opinion, data.note, now)
        if not inserted:
            raise DomainError(_("You have already given your opinion on this request; it counts once."), status=409)
        await record(actor, "scrap.opinion", TABLE, request_id, after={"opinion": data.opinion, "note": data.note})
        counts = {r["opinion"]: int(r["n"]) for r in await fetch(
            "SELECT opinion, COUNT(*) AS n FROM scrap_opinion WHERE request_id = {} GROUP BY opinion", request_id)}
        need = int(row["quorum"]) or await quorum()
        agreed = next((o for o in ("scrap", "return_supplier", "repair") if counts.get(o, 0) >= need), None)
        if agreed is None:
            return str(row["status"])
        if agreed == "repair":
            full = await _request(request_id)
            await move(TABLE, request_id, None, TRANSITIONS["appraisal_reject"], actor=actor, labels=LABELS, now=now,
                       sets={"appraisal_result": "repair", "appraised_at": now, "rejected_stage": "appraisal",
                             "rejected_by_name": name, "rejected_at": now, "returned_to": "BENCH",
                             "reject_note": _("The appraisal group found it repairable.")[:500]})
            await _return_stock(actor, full, "BENCH")
            await record(actor, "scrap.rejected", TABLE, request_id, after={"stage": "appraisal", "returned_to": "BENCH"})
            return S.REJECTED
        await move(TABLE, request_id, None, TRANSITIONS["appraise"], actor=actor, labels=LABELS, now=now,
                   sets={"appraisal_result": agreed, "appraised_at": now})
        await record(actor, "scrap.appraised", TABLE, request_id, after={"result": agreed, "votes": counts})
        return S.APPRAISED


async def _return_stock(actor: Actor, row: dict, destination: str) -> None:
    """A rejected record's stock leaves quarantine back to the central warehouse or the bench (ledger transfer)."""
    await parts.transfer(actor, row["part_id"], row["qty"], QUARANTINE, destination,
                         serial=row["serial_unit_id"], document_type="scrap", document_id=row["number"],
                         reason=_("Scrap record %(number)s rejected", number=row["number"]), check_roles=False)


# --------------------------------------------------------------------------- approval (R-SCR-03)


async def gm_threshold() -> Decimal:
    return Decimal(str(await setting("scrap.gm_threshold")))


async def needs_gm(value: Decimal) -> bool:
    """Above the threshold (strictly) needs the GM; on it, the manager's approval is enough."""
    return value > await gm_threshold()


async def decide(actor: Actor, request_id: int, data: DecisionInput, *, level: str,
                 now: dt.datetime | None = None) -> dict:
    """R-SCR-03: the manager's (level="manager") or the GM's (level="gm") decision.

    Approve: appraised → manager_approved (gm_needed fixed from the value and `scrap.gm_threshold`), or
    manager_approved → gm_approved. Refuse (note + destination required): → rejected, the stock moves
    back from quarantine to the central warehouse or the bench. An appraiser of the record may not
    decide (403). Compare-and-set on the version shown: an approval and a refusal racing → one wins.
    Audit `scrap.approved` / `scrap.rejected`."""
    perm = "scrap.approve" if level == "manager" else "scrap.approve_gm"
    require(actor, perm)
    row = await _request(request_id)
    if await is_appraiser(row["id"], actor.user_id):
        raise refused(_("An appraiser of this request cannot approve it."))
    if level == "gm" and row["status"] == S.MANAGER_APPROVED and not row["gm_needed"]:
        raise DomainError(_("This request is below the GM threshold: the manager's approval is final."), status=409)
    now = now or utcnow()
    name = await person_name(actor)
    prefix = "manager" if level == "manager" else "gm"
    async with write_transaction():
        if data.decision == "approve":
            sets: dict[str, Any] = {f"{prefix}_by": actor.user_id, f"{prefix}_by_name": name, f"{prefix}_at": now,
                                    f"{prefix}_note": data.note}
            if level == "manager":
                sets["gm_needed"] = await needs_gm(row["value"])
            moved = await move(TABLE, row["id"], data.version, TRANSITIONS[f"{prefix}_approve"], actor=actor,
                               labels=LABELS, now=now, note=data.note, sets=sets)
            await record(actor, "scrap.approved", TABLE, row["id"], before={"status": row["status"]},
                         after={"status": moved["status"], "level": level, "note": data.note,
                                "gm_needed": bool(moved["gm_needed"])})
            return moved
        moved = await move(TABLE, row["id"], data.version, TRANSITIONS[f"{prefix}_reject"], actor=actor, labels=LABELS,
                           now=now, note=data.note,
                           sets={"rejected_stage": level, "rejected_by_name": name, "rejected_at": now,
                                 "reject_note": data.note, "returned_to": data.returned_to})
        await _return_stock(actor, row, data.returned_to)
        await record(actor, "scrap.rejected", TABLE, row["id"], before={"status": row["status"]},
                     after={"status": "rejected", "stage": level, "note": data.note, "returned_to": data.returned_to})
        return moved


async def withdraw(actor: Actor, request_id: int, data: WithdrawInput, *, now: dt.datetime | None = None) -> None:
    """The keeper takes back a draft or a record whose group cannot agree; the stock goes back (ledger)."""
    require(actor, "scrap.raise")
    row = await _request(request_id)
    now = now or utcnow()
    async with write_transaction():
        await move(TABLE, row["id"], data.version, TRANSITIONS["withdraw"], actor=actor, labels=LABELS, now=now,
                   note=data.note, sets={"rejected_stage": "withdrawn", "rejected_by_name": await person_name(actor),
                                         "rejected_at": now, "reject_note": data.note, "returned_to": data.returned_to})
        await _return_stock(actor, row, data.returned_to)
        await record(actor, "scrap.withdrawn", TABLE, row["id"], before={"status": row["status"]},
                     after={"status": "rejected", "note": data.note, "returned_to": data.returned_to})


# --------------------------------------------------------------------------- disposal (R-SCR-01, R-SCR-03)


async def dispose(actor: Actor, request_id: int, data: DisposeInput, *, now: dt.datetime | None = None) -> dict:
    """R-SCR-01/03: record the approved disposal method, date and who; the stock leaves quarantine through
    the ledger (`scrap` movement, document = the record number). Refused before approval, and before the
    GM's approval when the value is above the threshold. Audit `scrap.disposed`.
    A linked loaner is then annotated as a permanent replacement (annotate_loan, its own transaction)."""
    require(actor, "scrap.dispose")
    row = await _request(request_id)
    if row["status"] == S.MANAGER_APPROVED and row["gm_needed"]:
        raise DomainError(_("The value is above the GM threshold: the GM must approve before disposal."), status=409)
    if row["status"] not in (S.MANAGER_APPROVED, S.GM_APPROVED):
        raise DomainError(_("Only an approved request can be disposed of; it is “%(state)s”.",
                            state=str(LABELS.get(row["status"], row["status"]))), status=409)
    now = now or utcnow()
    async with write_transaction():
        # compare-and-set on the version shown; the status check above is repeated by move() on the row itself
        moved = await move(TABLE, row["id"], data.version, TRANSITIONS["dispose"], actor=actor, labels=LABELS, now=now,
                           sets={"disposal_method": data.method, "disposed_on": data.disposed_on,
                                 "disposed_by": actor.user_id, "disposed_by_name": await person_name(actor),
                                 "disposal_note": data.note})
        if moved["from_status"] == S.MANAGER_APPROVED and moved["gm_needed"]:
            raise DomainError(_("The value is above the GM threshold: the GM must approve before disposal."), status=409)
        stock_move = await parts.scrap(actor, row["part_id"], row["qty"], row["number"], serial=row["serial_unit_id"],
                                       reason=_("Scrap record %(number)s", number=row["number"]), check_roles=False)
        await update(ScrapRequest, ScrapRequest.id == row["id"], disposal_move_id=stock_move.id)
        await record(actor, "scrap.disposed", TABLE, row["id"], before={"status": row["status"]},
                     after={"status": "disposed", "method": data.method, "date": data.disposed_on,
                            "value": str(row["value"]), "move": stock_move.id})
    if row["loan_id"]:
        await annotate_loan(actor, row["id"])
    return moved


async def annotate_loan(actor: Actor, request_id: int) -> bool:
    """R-SCR-01: the linked loaner becomes the customer's unit; its notice is annotated as a permanent
    replacement (loaners.api.convert_to_permanent owns that transaction). On refusal the reason is kept
    on the record and the page offers to try again. Returns True when the loaner is converted."""
    require(actor, "scrap.dispose")
    row = await _request(request_id)
    if not row["loan_id"] or row["loan_converted_at"] is not None or row["status"] != S.DISPOSED:
        return False
    import app.loaners.api as loaners

    try:
        await loaners.convert_to_permanent(actor, int(row["loan_id"]), approval_ref=row["number"],
                                           note=_("Scrap record %(number)s disposed", number=row["number"]))
    except DomainError as exc:
        async with write_transaction():
            await update_versioned(TABLE, row["id"], None, {"loan_note": exc.message[:500]})
            await record(actor, "scrap.loan_not_converted", TABLE, row["id"], after={"loan": row["loan_number"],
                                                                                    "reason": exc.message})
        return False
    async with write_transaction():
        await update_versioned(TABLE, row["id"], None, {"loan_converted_at": utcnow(), "loan_note": ""})
        await record(actor, "scrap.loan_converted", TABLE, row["id"], after={"loan": row["loan_number"]})
    return True


# --------------------------------------------------------------------------- what a user may do now


async def actions_for(user: Any, row: dict) -> dict:
    """Which buttons the detail page shows (never one that would answer 403 or 409)."""
    uid = getattr(user, "id", None) or getattr(user, "user_id", None)
    seated = await is_appraiser(row["id"], uid)
    voted = bool(await fetch("SELECT 1 AS x FROM scrap_opinion WHERE request_id = {} AND user_id = {}", row["id"], uid)) \
        if seated else False
    status = row["status"]
    return {
        "convene": status == S.DRAFT and can(user, "scrap.raise"),
        "withdraw": status in (S.DRAFT, S.APPRAISING) and can(user, "scrap.raise"),
        "opinion": status == S.APPRAISING and seated and not voted and uid != row["requested_by"],
        "voted": voted,
        "manager": status == S.APPRAISED and can(user, "scrap.approve") and not seated,
        "gm": status == S.MANAGER_APPROVED and row["gm_needed"] and can(user, "scrap.approve_gm") and not seated,
        "dispose": can(user, "scrap.dispose") and (status == S.GM_APPROVED
                                                    or (status == S.MANAGER_APPROVED and not row["gm_needed"])),
        "annotate": status == S.DISPOSED and bool(row["loan_id"]) and row["loan_converted_at"] is None
        and can(user, "scrap.dispose"),
        "seated": seated,
    }

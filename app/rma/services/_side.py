"""Side actions: hand-over, consultation, the out-of-warranty quote (R-RMA-04), the replacement (R-RMA-03)."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core.actor import Actor
from app.core.audit.services import SYSTEM, record
from app.core.dates import parse_date
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError, fix, not_found
from app.core.i18n import _, tz
from app.core.money import MoneyError, from_fen, parse_money, to_fen
from app.core.permissions import require
from app.core.rows import insert, update
from app.core.status import move, update_versioned
import app.customers.api as customers
import app.ledger.api as ledger
import app.parts.api as parts
from app.rma.services._common import ANSWERS, FINISHED_STATUSES, QUOTE_STATUSES, REPLACEMENT_STATUSES, _clean, get_quote, get_rma, rules
from app.rma.services._moves import _move
from app.rma.status import QUOTE_TRANSITIONS, REPLACEMENT_TRANSITIONS
from app.rma.tables import RmaConsultation, RmaHandover, RmaQuote

async def hand_over(actor: Actor, rma_id: int, *, to_user_id: Any, note: str) -> None:
    """R-RMA-07: a technician who cannot fix the unit hands it to the group lead, recorded."""
    require(actor, "rma.bench")
    errors = {}
    try:
        uid = int(str(to_user_id))
    except ValueError:
        uid = 0
    users = await fetch("SELECT id, username, full_name, roles FROM app_user WHERE id = {} AND is_active = true", uid)
    if not users or not ({"bench", "qc"} & set(str(users[0]["roles"]).replace(",", " ").split())):
        errors["to_user_id"] = _("Choose a bench colleague.")
    if not note.strip():
        errors["note"] = _("Say why you hand it over.")
    if errors:
        raise fix(**errors)
    target = users[0]
    now = utcnow()
    async with write_transaction():
        # raw-sql: only while the unit is in repair (status IN …), RETURNING the previous technician's name
        rows = await fetch(
            "UPDATE rma SET technician_id = {}, technician_name = {}, updated_at = {} WHERE id = {} AND status IN "
            "('waiting', 'repairing', 'repaired', 'burn_in') RETURNING id, technician_name", target["id"], target["username"],
            now, rma_id)
        if not rows:
            raise DomainError(_("Only a unit in repair can be handed over."), status=409)
        await insert(RmaHandover, rma_id=rma_id, from_name=actor.username, to_user_id=target["id"],
                     to_name=target["username"], note=_clean(note, 1000), created_at=now)
        await record(actor, "rma.handed_over", "rma", rma_id, after={"to": target["username"], "note": _clean(note, 200)})


async def consult(actor: Actor, rma_id: int, *, answer: str, note: str = "") -> None:
    """R-RMA-05: the desk asked the customer whether to continue a long repair; the answer is recorded."""
    require(actor, "rma.consult")
    if answer not in ANSWERS:
        raise fix(answer=_("Choose the customer's answer."))
    rma = await get_rma(rma_id)
    if rma is None:
        raise not_found(_("No such return."))
    if rma["status"] in FINISHED_STATUSES:
        raise DomainError(_("The unit is no longer in repair."), status=409)
    async with write_transaction():
        await insert(RmaConsultation, rma_id=rma_id, answer=answer, note=_clean(note, 1000), username=actor.username,
                     created_at=utcnow())
        await record(actor, "rma.consulted", "rma", rma_id, after={"answer": answer, "note": _clean(note, 200)})


async def cost_quote(actor: Actor, rma_id: int, *, fault: str, amount: Any) -> int:
    """R-RMA-04 step 1: the bench enters the fault and the repair cost of an out-of-warranty unit."""
    require(actor, "rma.bench")
    errors = {}
    if not fault.strip():
        errors["fault"] = _("Describe the fault.")
    try:
        fen = to_fen(parse_money(amount))
        if fen <= 0:
            errors["amount"] = _("The amount must be greater than zero.")
    except MoneyError:
        fen = 0
        errors["amount"] = _("Enter an amount such as 1234.50.")
    if errors:
        raise fix(**errors)
    rma = await get_rma(rma_id)
    if rma is None:
        raise not_found(_("No such return."))
    if rma["in_warranty"]:
        raise DomainError(_("The unit is in warranty: no quote is needed."), status=409)
    if rma["status"] not in ("registered", "waiting"):
        raise DomainError(_("Costs are entered after QC, before the repair starts."), status=409)
    now = utcnow()
    async with write_transaction():
        # raw-sql: ON CONFLICT (rma_id) DO NOTHING RETURNING — first costing wins, a re-cost updates below
        rows = await fetch(
            "INSERT INTO rma_quote (rma_id, status, fault, amount_fen, costed_by, costed_at, version) "
            "VALUES ({}, 'costed', {}, {}, {}, {}, 1) ON CONFLICT (rma_id) DO NOTHING RETURNING id",
            rma_id, _clean(fault, 1000), fen, actor.username, now)
        if not rows:  # costed before: re-cost while it is not sent yet
            existing = await fetch("SELECT id FROM rma_quote WHERE rma_id = {}", rma_id)
            try:
                rows = [await update_versioned("rma_quote", existing[0]["id"], None, {
                    "fault": _clean(fault, 1000), "amount_fen": fen, "costed_by": actor.username, "costed_at": now},
                    stamp=False, returning="id", where="status = 'costed'")]
            except DomainError as exc:
                if exc.status not in (404, 409):
                    raise
                raise DomainError(_("The quote was already sent to the customer."), status=409) from None
        await record(actor, "rma.costed", "rma", rma_id, after={"fault": _clean(fault, 200), "amount": str(from_fen(fen))})
    return rows[0]["id"]


async def _move_quote(actor: Actor, rma_id: int, key: str, sets: dict[str, Any], refused_message: str,
                      returning: str) -> dict:
    """The RMA's quote from one state to the next (QUOTE_TRANSITIONS[key]); `refused_message` (409) when it is
    not in the state the step starts from, or there is no quote."""
    found = await fetch("SELECT id FROM rma_quote WHERE rma_id = {}", rma_id)
    if not found:
        raise DomainError(refused_message, status=409)
    try:
        return await move("rma_quote", int(found[0]["id"]), None, QUOTE_TRANSITIONS[key], actor=actor, sets=sets,
                          labels=QUOTE_STATUSES, stamp=False, returning=returning)
    except DomainError as exc:
        if exc.status not in (404, 409):
            raise
        raise DomainError(refused_message, status=409) from None


async def send_quote(actor: Actor, rma_id: int) -> None:
    """R-RMA-04 step 2: the desk quotes the customer."""
    require(actor, "rma.quote")
    async with write_transaction():
        row = await _move_quote(actor, rma_id, "send", {"quoted_by": actor.username, "quoted_at": utcnow()},
                                _("There is no costed quote to send."), "id, amount_fen")
        await record(actor, "rma.quoted", "rma", rma_id, after={"amount": str(from_fen(row["amount_fen"]))})


async def customer_decision(actor: Actor, rma_id: int, *, accept: bool, note: str = "") -> None:
    """R-RMA-04 step 3: the customer accepts (→ the charge is posted to receivables, finance
    records the payment) or declines (→ the unit goes back unrepaired)."""
    require(actor, "rma.quote")
    now = utcnow()
    async with write_transaction():
        quote = await _move_quote(actor, rma_id, "accept" if accept else "decline",
                                  {"decided_by": actor.username, "decided_at": now, "decision_note": _clean(note, 500)},
                                  _("The quote is not waiting for the customer's answer."), "id, amount_fen, fault")
        receivable_id = None
        if accept:
            rma = await get_rma(rma_id)
            klass = "retail"
            if rma["customer_id"]:
                c = await customers.get_customer(rma["customer_id"]) or {}
                klass = "monthly" if c.get("customer_class") == "key" else "retail"
            try:
                receivable_id = await ledger.post_receivable(
                    actor, "rma", rma["number"], rma["customer_id"], rma["customer_name"] or rma["serial"], klass,
                    from_fen(quote["amount_fen"]), _("Return repair %(number)s: %(fault)s", number=rma["number"],
                                                     fault=quote["fault"])[:300], rma["technician_id"])
            except DomainError as refusal:  # the ledger's refusal
                raise DomainError(refusal.message, errors=refusal.errors) from refusal
            await update(RmaQuote, RmaQuote.id == quote["id"], receivable_id=receivable_id)
        await record(actor, "rma.quote_accepted" if accept else "rma.quote_declined", "rma", rma_id,
                     after={"receivable_id": receivable_id, "note": _clean(note, 200)})


async def record_payment(actor: Actor, rma_id: int, *, token: str, amount: Any, received_on: Any, method: str,
                         reference: str = "") -> None:
    """R-RMA-04 step 4: finance records the customer's payment against the RMA's receivable
    (through the ledger, so statements and ageing agree). Repair may start once it is paid."""
    require(actor, "rma.pay")
    quote = await get_quote(rma_id)
    if quote is None or quote["status"] != "accepted" or not quote["receivable_id"]:
        raise DomainError(_("There is no accepted quote to pay."), status=409)
    try:
        day = parse_date(received_on)
    except (ValueError, OverflowError):
        raise fix(received_on=_("Enter a date such as 2026-03-01.")) from None
    await ledger.record_payment(actor, token, amount=amount, received_on=day, method=method, reference=reference,
                                receivable_id=quote["receivable_id"])
    async with write_transaction():
        paid = await fetch("SELECT is_open FROM receivable WHERE id = {}", quote["receivable_id"])
        if paid and not paid[0]["is_open"]:
            await update(RmaQuote, (RmaQuote.id == quote["id"]) & RmaQuote.paid_at.is_null(), paid_at=utcnow(),
                         paid_by=actor.username)
        await record(actor, "rma.payment_recorded", "rma", rma_id, after={"amount": str(amount), "method": method})


async def sweep_three_day(now: dt.datetime | None = None) -> list[int]:
    """Raise one replacement application per intact in-warranty unit still unrepaired
    `rma.repair_days` after QC. Idempotent (UNIQUE rma_id, ON CONFLICT DO NOTHING): however
    often and concurrently it runs, an RMA gets exactly one application. Returns new RMA ids."""
    now = now or utcnow()
    days = (await rules())["repair_days"]
    cutoff = now - dt.timedelta(days=days)
    candidates = await fetch(
        "SELECT r.id FROM rma r WHERE r.status IN ('waiting', 'repairing') AND r.qc_at IS NOT NULL AND r.qc_at < {} "
        "AND r.appearance = 'ok' AND r.in_warranty = true "
        "AND NOT EXISTS (SELECT 1 FROM rma_replacement x WHERE x.rma_id = r.id) ORDER BY r.id LIMIT 500", cutoff)
    if not candidates:
        return []
    reason = _("Not repaired within %(n)s days of QC; appearance intact.", n=days)
    ids: list[int] = []
    async with write_transaction():
        for cand in candidates:
            # raw-sql: ON CONFLICT DO NOTHING RETURNING — one application per RMA
            rows = await fetch(
                "INSERT INTO rma_replacement (rma_id, status, reason, raised_at, version) VALUES ({}, 'pending', {}, {}, 1) "
                "ON CONFLICT (rma_id) DO NOTHING RETURNING rma_id", cand["id"], reason, now)
            if rows:
                ids.append(int(rows[0]["rma_id"]))
                await record(SYSTEM, "rma.replacement_raised", "rma", cand["id"], after={"days": days})
    return ids


_last_sweep: dict[str, dt.datetime] = {}


async def sweep_if_due(every_seconds: int = 60) -> None:
    """Run the 3-day sweep at most once a minute per process (called by pages that show it)."""
    now = utcnow()
    last = _last_sweep.get("at")
    if last is None or (now - last).total_seconds() >= every_seconds:
        _last_sweep["at"] = now
        await sweep_three_day(now)


async def list_replacements(status: str = "pending", limit: int = 200) -> list[dict]:
    """Applications with, for pending ones, up to 5 in-stock serials of the same model (one query for all)."""
    rows = await fetch(
        "SELECT x.*, r.number, r.serial, r.model, r.customer_name, r.qc_at, r.status AS rma_status, r.version AS rma_version, "
        "COALESCE(NULLIF(du.full_name, ''), x.decided_by) AS decided_name "
        "FROM rma_replacement x JOIN rma r ON r.id = x.rma_id LEFT JOIN app_user du ON du.username = x.decided_by WHERE x.status = {} ORDER BY x.raised_at, x.id "
        f"LIMIT {int(limit)}", status)
    models = sorted({r["model"] for r in rows if r["model"]})
    stock: dict[str, list[str]] = {}
    if status == "pending" and models:
        units = await fetch(
            "SELECT p.model, su.serial FROM serial_unit su JOIN part p ON p.id = su.part_id "
            "JOIN stock_location l ON l.id = su.location_id WHERE l.kind IN ('central', 'emergency', 'office', 'bench') "
            "AND p.model IN (" + ", ".join("{}" for _m in models) + ") ORDER BY p.model, su.id", *models)
        for unit in units:
            stock.setdefault(unit["model"], []).append(unit["serial"])
    for row in rows:
        row["stock_serials"] = stock.get(row["model"], [])[:5]
    return rows


STOCK_KINDS = ("central", "emergency", "office", "bench")  # where a replacement unit may come from


async def decide_replacement(actor: Actor, replacement_id: int, *, approve: bool, new_serial: str = "", note: str = "") -> None:
    """The manager decides a replacement application (R-RMA-03). Approved: the new unit (by
    serial, from stock) is issued to the customer through the parts ledger, the faulty unit
    moves to QUARANTINE, the RMA goes to ready-to-ship as "replaced", the device history notes
    the replacement. All in one transaction."""
    require(actor, "rma.approve")
    new_serial = (new_serial or "").strip()
    if approve and not new_serial:
        raise fix(new_serial=_("Scan the serial of the new unit from stock."))
    if not approve and not note.strip():
        raise fix(note=_("Give the reason for rejecting."))
    now = utcnow()
    async with write_transaction():
        try:
            decided = await move("rma_replacement", int(replacement_id), None,
                                 REPLACEMENT_TRANSITIONS["approve" if approve else "reject"], actor=actor,
                                 sets={"decided_by": actor.username, "decided_at": now, "note": _clean(note, 500),
                                       "new_serial": new_serial[:100]},
                                 labels=REPLACEMENT_STATUSES, stamp=False, now=now, returning="rma_id")
        except DomainError as exc:
            if exc.status not in (404, 409):
                raise
            raise DomainError(_("This application was already decided."), status=409) from None
        rma_id = int(decided["rma_id"])
        await record(actor, "rma.replacement_" + ("approved" if approve else "rejected"), "rma", rma_id,
                     after={"replacement_id": replacement_id, "new_serial": new_serial, "note": _clean(note, 200)})
        if not approve:
            return
        rma = await get_rma(rma_id)
        units = [unit for unit in [await parts.get_unit(int(u["id"])) for u in await parts.find_units(new_serial)]
                 if unit and unit["location_kind"] in STOCK_KINDS]
        if not units:
            raise fix(new_serial=_("No unit with serial %(serial)s in stock.", serial=new_serial))
        unit = units[0]
        try:
            await parts.move_serial_unit(actor, int(unit["id"]), "CUSTOMER", kind="issue", document_type="rma",
                                         document_id=rma_id, reason=_("Replacement for %(number)s", number=rma["number"]),
                                         check_roles=False)
            faulty = await parts.find_units(rma["serial"])  # ordered by id: the first is the one the customer had
            reason = _("Faulty unit replaced under %(number)s", number=rma["number"])
            if faulty:
                await parts.move_serial_unit(actor, int(faulty[0]["id"]), "QUARANTINE", kind="quarantine",
                                             document_type="rma", document_id=rma_id, reason=reason, check_roles=False)
            else:
                await parts.receive(actor, int(unit["part_id"]), 1, "QUARANTINE", serials=[rma["serial"]],
                                    document_type="rma", document_id=rma_id, reason=reason, check_roles=False)
        except DomainError as refusal:  # the stock ledger's refusal, put on the new serial
            raise DomainError(refusal.message, errors={"new_serial": refusal.message},
                              status=refusal.status if refusal.status in (400, 409) else 400) from refusal
        await _move(actor, rma_id, "replace", None, now=now, check_perm=False,
                    note=_("Replaced by %(serial)s", serial=new_serial), sets={"outcome": "replaced", "completed_at": now})
        if rma["device_id"]:
            await customers.record_repair(actor, rma["device_id"], rma["fault_code"] or "REPLACED", "rma", rma_id,
                                          description=_("Replaced by %(serial)s", serial=new_serial), replaced=True)


def replacement_conditions(rma: dict, now: dt.datetime, days: int, *, applied: bool = False) -> list[tuple[bool, str]]:
    """R-RMA-03 in words: each condition for applying for a replacement by hand, and whether this unit meets it
    (the same conditions as `sweep_three_day()`; the page lists them, a refusal names the unmet ones)."""
    from app.rma.services._common import as_dt

    qc_at = as_dt(rma.get("qc_at"))
    past = qc_at is not None and now > qc_at + dt.timedelta(days=days)
    if qc_at is None:
        clock = _("QC has not confirmed the fault yet, so the %(n)s-day repair window has not started.", n=days)
    elif past:
        clock = _("More than %(n)s days since QC (%(at)s).", n=days, at=qc_at.astimezone(tz()).strftime("%m-%d %H:%M"))
    else:
        left = qc_at + dt.timedelta(days=days) - now
        clock = _("The %(n)s-day repair window after QC is not over yet: %(h)s h left.", n=days,
                  h=int(left.total_seconds() // 3600))
    return [
        (rma.get("status") in ("waiting", "repairing"),
         _("The unit is still waiting for repair or being repaired (not repaired, not shipped).")),
        (past, clock),
        (rma.get("appearance") == "ok", _("Its appearance was intact when unboxed.")),
        (bool(rma.get("in_warranty")), _("It is in warranty (out of warranty the customer pays for the repair).")),
        (not applied, _("No replacement has been applied for yet.")),
    ]


async def apply_replacement(actor: Actor, rma_id: int, *, note: str = "", now: dt.datetime | None = None) -> int:
    """R-RMA-03 by hand: the bench applies for a new same-model unit for a unit not repaired within the window
    (intact, in warranty, still in repair). Refused with every unmet condition in words. Side effects: one
    pending `rma_replacement` (UNIQUE rma_id: of two clicks at once one wins), audit rma.replacement_applied.
    The manager decides it on /bench/replacements."""
    require(actor, "rma.bench")
    note = _clean(note, 500)
    now = now or utcnow()
    days = (await rules())["repair_days"]
    async with write_transaction():
        rma = await get_rma(rma_id)
        if rma is None:
            raise not_found(_("No such return."))
        applied = bool(await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", rma_id))
        unmet = [text for ok, text in replacement_conditions(rma, now, days, applied=applied) if not ok]
        if unmet:
            raise DomainError(_("A replacement cannot be applied for yet: %(why)s", why=" ".join(unmet)), status=409,
                              link="/bench/replacements" if applied else None)
        reason = _("Applied by %(who)s: not repaired within %(n)s days of QC; appearance intact.", who=actor.display,
                   n=days) + (f" {note}" if note else "")
        # raw-sql: ON CONFLICT DO NOTHING RETURNING — one application per RMA (the sweep may be first)
        rows = await fetch(
            "INSERT INTO rma_replacement (rma_id, status, reason, raised_at, version) VALUES ({}, 'pending', {}, {}, 1) "
            "ON CONFLICT (rma_id) DO NOTHING RETURNING id", rma_id, reason[:500], now)
        if not rows:  # the sweep or a colleague was faster
            raise DomainError(_("A replacement has already been applied for."), status=409, link="/bench/replacements")
        await record(actor, "rma.replacement_applied", "rma", rma_id, after={"days": days, "note": note[:200]})
    return int(rows[0]["id"])

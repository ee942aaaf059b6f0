"""The RMA transitions (one function each), all through core.status.move()."""

from __future__ import annotations

import datetime as dt
from typing import Any

from app.core import faults
from app.core.actor import Actor
from app.core.audit.services import record
from app.core.dates import parse_date, today
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError, Stale, fix, not_found
from app.core.forms import FieldError, Version
from app.core.hooks import case_finished, close_blockers
from app.core.i18n import _, tz
from app.core.numbers import next_number
from app.core.permissions import require
from app.core.rows import insert, update
from app.core.status import Transition, move
import app.customers.api as customers
import app.parts.api as parts
from app.rma.services._common import APPEARANCE, STATUSES, _check_unbox, _clean, as_dt, burn_in_hours_for, get_quote, get_rma, hhmm, month_day_time
from app.rma.tables import Rma, RmaCallback, RmaExceptionSlip, RmaPartUse, RmaTransition
from app.rma.status import TRANSITIONS

async def _transition_row(actor: Actor, rma_id: int, version: int, from_status: str, to_status: str, action: str,
                          note: str, now: dt.datetime) -> None:
    await insert(RmaTransition, rma_id=rma_id, version=version, from_status=from_status, to_status=to_status,
                 action=action, note=(note or "")[:1000], user_id=actor.user_id, username=actor.username, created_at=now)


async def _refuse_move(rma_id: int, t: Transition, version: int | None, cause: DomainError) -> DomainError:
    """Why the compare-and-set matched nothing, in the bench's words: moved meanwhile (409 Stale,
    "already moved by X at HH:MM") or illegal from here (409 with the stage)."""
    rows = await fetch("SELECT id, number, status, version, moved_by, moved_at FROM rma WHERE id = {}", rma_id)
    if not rows:
        return not_found(_("No such return."))
    row = rows[0]
    stage = str(STATUSES.get(row["status"], row["status"]))
    if version is not None and int(row["version"]) != int(version) or isinstance(cause, Stale):
        return Stale(row, _("Already moved by %(who)s at %(at)s (now: %(stage)s).", who=row["moved_by"] or "?",
                            at=hhmm(row["moved_at"]), stage=stage))
    return DomainError(_("%(action)s is not possible: the unit is at “%(stage)s”.", action=str(t.label or t.action),
                         stage=stage), status=409, current=row)


_RETURNING = "id, number, status, version, device_id, customer_id, customer_name, serial, model, fault_code, in_warranty, " \
             "technician_id"


async def _move(actor: Actor, rma_id: int, action_code: str, version: int | None, *, sets: dict[str, Any] | None = None,
                note: str = "", now: dt.datetime | None = None, check_perm: bool = True) -> dict:
    """One RMA transition (TRANSITIONS[action_code]) through core.status.move(), stamped with who moved it,
    plus the `rma_transition` row the timeline shows and the audit event. Runs in the caller's write
    transaction; returns the updated row with `from_status`."""
    t = TRANSITIONS[action_code]
    now = now or utcnow()
    values = {**(sets or {}), "moved_at": now, "moved_by": actor.display[:100]}
    try:
        row = await move("rma", int(rma_id), version, t, actor=actor, sets=values, note=note[:1000], labels=STATUSES,
                         now=now, returning=_RETURNING, check_perm=check_perm)
    except DomainError as exc:
        if exc.status != 409:
            raise
        raise await _refuse_move(int(rma_id), t, version, exc) from None
    from_status, new_version = str(row["from_status"]), int(row["version"])
    await _transition_row(actor, rma_id, new_version, from_status, t.to, t.action, note, now)
    await record(actor, "rma.moved", "rma", rma_id, before={"status": from_status, "version": new_version - 1},
                 after={"status": t.to, "version": new_version, "action": t.action, "note": note[:200],
                        **{k: v for k, v in (sets or {}).items() if k not in ("updated_at",)}})
    row["status"] = t.to
    return row


def _version(value: Any) -> int:
    """The version the form showed: required (a missing or unreadable one is a 400, never "no check")."""
    if isinstance(value, int) and not isinstance(value, bool):
        return value
    try:
        return int(Version().parse(value))
    except FieldError:
        raise DomainError(_("This form has expired; reload the page."), status=400) from None


async def unbox(actor: Actor, rma_id: int, version: Any, *, appearance: str, accessories: str = "", photos: str = "",
                damage_call: str = "", damage_cause: str = "") -> dict:
    """received → inspected: the unboxing check (R-RMA-01); damage needs the call and the cause."""
    require(actor, "rma.bench")
    errors = _check_unbox(appearance, damage_call, damage_cause, required=True)
    if errors:
        raise fix(**errors)
    async with write_transaction():
        return await _move(actor, rma_id, "unbox", _version(version), note=str(APPEARANCE[appearance]), sets={
            "appearance": appearance, "accessories": _clean(accessories, 300), "photos": _clean(photos, 500),
            "damage_call": _clean(damage_call, 500), "damage_cause": _clean(damage_cause, 500)})


async def confirm(actor: Actor, rma_id: int, version: Any, *, note: str = "", contact_phone: str = "",
                  address: str = "") -> dict:
    """inspected → registered: customer, phone, address, model and serial confirmed with the customer
    (a corrected phone or address given here replaces the one from the archive)."""
    sets: dict[str, Any] = {"confirm_note": _clean(note, 500)}
    if contact_phone.strip():
        sets["contact_phone"] = _clean(contact_phone, 40)
    if address.strip():
        sets["address"] = _clean(address, 300)
    async with write_transaction():
        return await _move(actor, rma_id, "confirm", _version(version), note=_clean(note, 500), sets=sets)


async def qc(actor: Actor, rma_id: int, version: Any, *, fault_code: str, fault_confirmed: str, test_note: str = "",
             unresolvable: bool = False) -> dict:
    """registered → waiting: QC confirms the fault and opens the numbered exception slip (异常处理单).
    The 3-day clock (R-RMA-03) starts now. The failure goes into the device history
    (R-CUS-05: `unresolvable` extends the warranty 60 days; R-CUS-06 may propose a replacement)."""
    require(actor, "rma.bench")
    code = faults.to_code(_clean(fault_code, 200))  # a catalogue name is stored as its code (reports keep codes)
    code = code.upper() if code.isascii() else code
    errors = {}
    if not code:
        errors["fault_code"] = _("Enter the fault (code or short name).")
    elif len(code) > 60:
        errors["fault_code"] = _("At most %(n)s characters.", n=60)
    if not fault_confirmed.strip():
        errors["fault_confirmed"] = _("Describe the confirmed fault.")
    if errors:
        raise fix(**errors)
    now = utcnow()
    async with write_transaction():
        row = await _move(actor, rma_id, "qc", _version(version), note=code, now=now,
                          sets={"fault_code": code, "qc_at": now})
        slip = await next_number("exception", entity_type="rma", entity_id=rma_id)
        await insert(RmaExceptionSlip, rma_id=rma_id, number=slip.formatted, fault_code=code,
                     fault_confirmed=_clean(fault_confirmed, 1000), test_note=_clean(test_note, 1000),
                     unresolvable=bool(unresolvable), user_id=actor.user_id, username=actor.username, created_at=now)
        proposed = False
        if row["device_id"]:
            try:
                result = await customers.record_failure(actor, row["device_id"], code, bool(unresolvable), "rma", rma_id,
                                                        description=_clean(fault_confirmed, 1000))
            except DomainError as refusal:  # the customers domain's refusal, shown on this form's fault field
                raise DomainError(refusal.message, errors={"fault_code": next(iter(refusal.errors.values()), refusal.message)}) from refusal
            proposed = result.replacement_proposed
        await update(Rma, Rma.id == rma_id, exception_number=slip.formatted, replacement_proposed=proposed)
        await record(actor, "rma.exception_opened", "rma_exception_slip", slip.formatted,
                     after={"rma_id": rma_id, "fault_code": code, "unresolvable": bool(unresolvable)})
    row["exception_number"] = slip.formatted
    row["replacement_proposed"] = proposed
    return row


def gate_reason(in_warranty: bool, quote_status: str | None, is_paid: bool) -> str | None:
    """R-RMA-04 in words: why repair may not start yet (None = may start). Shared by the refusal and the
    board/detail buttons, so a button is never offered that the rule would refuse."""
    if in_warranty:
        return None
    if not quote_status:
        return _("Out of warranty: the bench must enter the fault and cost first.")
    if quote_status == "declined":
        return _("The customer declined the quote: return the unit unrepaired.")
    if quote_status != "accepted":
        return _("Out of warranty: the customer has not accepted the quote yet.")
    if not is_paid:
        return _("Out of warranty: repair starts only after finance has recorded the payment.")
    return None


async def payment_gate(rma: dict) -> str | None:
    """R-RMA-04: why repair may not start yet (None = may start). Enforced, not advised."""
    if rma["in_warranty"]:
        return None
    quote = await get_quote(rma["id"])
    return gate_reason(False, quote["status"] if quote else None, bool(quote and quote["is_paid"]))


def burn_in_left(rma: dict, now: dt.datetime) -> str | None:
    """R-RMA-06 in words: why a passing final test is refused now (None = the burn-in time is over)."""
    ends = burn_in_ends(rma)
    if rma.get("status") != "burn_in" or ends is None or now >= ends:
        return None
    left = ends - now
    return _("Burn-in is not finished: %(h)s h %(m)s min left (until %(at)s).", h=int(left.total_seconds() // 3600),
             m=int(left.total_seconds() % 3600 // 60), at=month_day_time(ends.astimezone(tz())))


async def start_repair(actor: Actor, rma_id: int, version: Any) -> dict:
    """waiting → repairing (the acting technician takes the unit). Out of warranty: refused
    until the quote is accepted and paid (R-RMA-04)."""
    require(actor, "rma.bench")
    async with write_transaction():
        rma = await get_rma(rma_id)
        if rma is None:
            raise not_found(_("No such return."))
        if rma["status"] == "waiting":
            reason = await payment_gate(rma)
            if reason:
                raise DomainError(reason, status=409, link=f"/bench/{rma_id}")
        return await _move(actor, rma_id, "start", _version(version),
                           sets={"technician_id": actor.user_id, "technician_name": actor.display[:100]})


async def ship_unrepaired(actor: Actor, rma_id: int, version: Any, *, note: str = "") -> dict:
    """waiting/repairing → ready_to_ship without repair: the customer declined the quote (R-RMA-04)
    or, consulted on a long repair, chose to stop (R-RMA-05)."""
    require(actor, "rma.bench")
    async with write_transaction():
        quote = await get_quote(rma_id)
        stop = await fetch("SELECT answer FROM rma_consultation WHERE rma_id = {} ORDER BY id DESC LIMIT 1", rma_id)
        declined = quote is not None and quote["status"] == "declined"
        if not declined and not (stop and stop[0]["answer"] == "stop"):
            raise DomainError(_("Only a unit whose customer declined the quote or asked to stop is returned unrepaired."),
                           status=409)
        now = utcnow()
        return await _move(actor, rma_id, "ship-unrepaired", _version(version), now=now,
                           note=_clean(note, 500), sets={"outcome": "unrepaired", "completed_at": now})


async def use_part(actor: Actor, rma_id: int, *, part_no: str, qty: Any = 1, serial: str = "", in_tx: bool = False) -> int:
    """A part used on the bench: consumed from the BENCH location through the parts ledger."""
    require(actor, "rma.bench")
    part_no = (part_no or "").strip()
    if not part_no:
        raise fix(part_no=_("Enter the part number."))
    part = await parts.part_by_no(part_no)
    if part is None:
        raise fix(part_no=_("Unknown part number %(no)s.", no=part_no))
    try:
        n = int(str(qty).strip() or "1")
    except ValueError:
        raise fix(qty=_("Enter a whole number greater than zero.")) from None
    if n <= 0 or n > 1000:
        raise fix(qty=_("Enter a whole number greater than zero."))

    async def book() -> int:
        rma = await fetch("SELECT status FROM rma WHERE id = {}", rma_id)
        if not rma:
            raise not_found(_("No such return."))
        if rma[0]["status"] not in ("repairing", "waiting"):
            raise DomainError(_("Parts are booked while the unit is being repaired."), status=409)
        try:
            # #12 item 2: what the keeper issued to this RMA lies in its own bench location; use that first
            # (its conditional stock UPDATE lets one of two users take the last unit), else the shared BENCH.
            issued = {int(r["part_id"]): r for r in await parts.issued_to_document("rma", rma_id)}
            mine = issued.get(int(part["id"]))
            if mine and (serial.strip() in mine["serials"] if serial.strip() else mine["on_hand"] >= n):
                move = await parts.use_on_repair(actor, part["id"], n, "rma", rma_id, serial=serial.strip() or None,
                                                 check_roles=False)
            else:
                move = await parts.issue_to(actor, part["id"], n, "BENCH", "rma", rma_id, serial=serial.strip() or None,
                                            reason=_("Used on the bench"), check_roles=False)
        except DomainError as refusal:  # the stock ledger's refusal, put on this form's field
            field = "qty" if "qty" in refusal.errors else ("serial" if "serial" in refusal.errors else "part_no")
            raise DomainError(refusal.message, errors={field: refusal.message},
                              status=refusal.status if refusal.status in (400, 409) else 400) from refusal
        use_id = await insert(RmaPartUse, returning=RmaPartUse.id, rma_id=rma_id, part_id=part["id"], qty=n,
                              serial=(serial or "").strip()[:100], move_id=move.id, username=actor.username,
                              created_at=utcnow())
        await record(actor, "rma.part_used", "rma", rma_id, after={"part_no": part_no, "qty": n, "serial": serial})
        return use_id

    if in_tx:
        return await book()
    async with write_transaction():
        return await book()


async def return_part(actor: Actor, rma_id: int, *, part_no: str, qty: Any = 1, serial: str = "") -> int:
    """#12 item 2: a part the keeper issued to this RMA and the bench does not need goes back to the store it
    came from (through the parts ledger). Side effects: ledger row (return), audit rma.part_returned."""
    require(actor, "rma.bench")
    part = await parts.part_by_no((part_no or "").strip()) if (part_no or "").strip() else None
    if part is None:
        raise fix(part_no=_("Unknown part number %(no)s.", no=part_no))
    try:
        n = int(str(qty).strip() or "1")
    except ValueError:
        raise fix(qty=_("Enter a whole number greater than zero.")) from None
    if n <= 0 or n > 1000:
        raise fix(qty=_("Enter a whole number greater than zero."))
    async with write_transaction():
        if not await fetch("SELECT id FROM rma WHERE id = {}", rma_id):
            raise not_found(_("No such return."))
        try:
            move = await parts.return_from_repair(actor, part["id"], n, "rma", rma_id, serial=serial.strip() or None,
                                                  check_roles=False)
        except DomainError as refusal:  # the stock ledger's refusal, put on this form's field
            raise DomainError(refusal.message, errors={"part_no": refusal.message}, status=409) from refusal
        await record(actor, "rma.part_returned", "rma", rma_id, after={"part_no": part["part_no"], "qty": n,
                                                                      "serial": serial, "move": move.id})
        return move.id


async def repaired(actor: Actor, rma_id: int, version: Any, *, fault_found: str, part_no: str = "", qty: Any = "",
                   serial: str = "") -> dict:
    """repairing → repaired: the fault found, optionally one part used (consumed from BENCH);
    the repair goes into the device history."""
    require(actor, "rma.bench")
    if not fault_found.strip():
        raise fix(fault_found=_("Describe the fault found and what was done."))
    now = utcnow()
    async with write_transaction():
        if part_no.strip():
            await use_part(actor, rma_id, part_no=part_no, qty=qty or 1, serial=serial, in_tx=True)
        row = await _move(actor, rma_id, "repaired", _version(version), now=now,
                          note=_clean(fault_found, 500), sets={"fault_found": _clean(fault_found, 1000), "repaired_at": now})
        if row["device_id"]:
            await customers.record_repair(actor, row["device_id"], row["fault_code"] or "REPAIR", "rma", rma_id,
                                          description=_clean(fault_found, 1000))
    return row


async def start_burn_in(actor: Actor, rma_id: int, version: Any, *, hours: Any = "") -> dict:
    """repaired → burn_in for the required hours (per model, default 24 h); more may be set, not fewer."""
    require(actor, "rma.bench")
    rma = await get_rma(rma_id)
    if rma is None:
        raise not_found(_("No such return."))
    required = await burn_in_hours_for(rma["model"])
    text = str(hours or "").strip()
    try:
        value = int(text) if text else required
    except ValueError:
        raise fix(hours=_("Enter a whole number of hours.")) from None
    if value < required:
        raise fix(hours=_("At least %(n)s hours for this model.", n=required))
    if value > 720:
        raise fix(hours=_("Between 1 and 720 hours."))
    now = utcnow()
    async with write_transaction():
        return await _move(actor, rma_id, "burn-in", _version(version), now=now,
                           note=_("%(n)s h", n=value), sets={"burn_in_hours": value, "burn_in_started_at": now})


def burn_in_ends(rma: dict) -> dt.datetime | None:
    start = as_dt(rma.get("burn_in_started_at"))
    return start + dt.timedelta(hours=int(rma.get("burn_in_hours") or 0)) if start else None


async def final_test(actor: Actor, rma_id: int, version: Any, *, result: str, note: str = "",
                     now: dt.datetime | None = None) -> dict:
    """burn_in → ready_to_ship (pass) or → repairing (fail: counted as rework).
    A pass is refused before the burn-in time has elapsed (R-RMA-06 / issue #5)."""
    require(actor, "rma.bench")
    if result not in ("pass", "fail"):
        raise fix(result=_("Choose passed or failed."))
    if result == "fail" and not note.strip():
        raise fix(note=_("Describe what failed."))
    now = now or utcnow()
    async with write_transaction():
        rma = await get_rma(rma_id)
        if rma is None:
            raise not_found(_("No such return."))
        if result == "pass":
            left = burn_in_left(rma, now)
            if left:
                raise DomainError(left, errors={"result": _("Burn-in not finished.")}, status=409)
        if result == "pass":
            return await _move(actor, rma_id, "final-test", _version(version), now=now,
                               note=_("Passed") + (f": {note.strip()}" if note.strip() else ""),
                               sets={"completed_at": now, "outcome": "repaired"})
        row = await _move(actor, rma_id, "final-test-fail", _version(version), now=now,
                          note=_("Failed") + f": {note.strip()}"[:900], sets={"burn_in_started_at": None})
        # raw-sql: relative counter
        await fetch("UPDATE rma SET rework_count = rework_count + 1 WHERE id = {}", rma_id)
        return row


async def ship(actor: Actor, rma_id: int, version: Any, *, carrier: str, tracking_no: str, customer_told_on: Any) -> dict:
    """ready_to_ship → shipped (R-RMA-06): carrier, tracking number, the day the customer was told.
    A callback to-do is created (R-CB-01: 24–72 h after the service)."""
    errors = {}
    if not carrier.strip():
        errors["carrier"] = _("Enter the carrier.")
    if not tracking_no.strip():
        errors["tracking_no"] = _("Enter the tracking number.")
    try:
        told = parse_date(customer_told_on)
        if told is None:
            errors["customer_told_on"] = _("Enter the date the customer was told.")
        elif told > today():
            errors["customer_told_on"] = _("The date cannot be in the future.")
    except (ValueError, OverflowError):
        told = None
        errors["customer_told_on"] = _("Enter a date such as 2026-03-01.")
    require(actor, "rma.ship")
    if errors:
        raise fix(**errors)
    now = utcnow()
    async with write_transaction():
        row = await _move(actor, rma_id, "ship", _version(version), now=now,
                          note=f"{carrier.strip()} {tracking_no.strip()}"[:500],
                          sets={"carrier": _clean(carrier, 60), "tracking_no": _clean(tracking_no, 60),
                                "customer_told_on": told, "shipped_at": now})
        # raw-sql: ON CONFLICT DO NOTHING — one callback to-do per RMA
        await fetch("INSERT INTO rma_callback (rma_id, due_at, status, created_at) VALUES ({}, {}, 'open', {}) "
                    "ON CONFLICT (rma_id) DO NOTHING", rma_id, now + dt.timedelta(hours=24), now)
        # The repaired unit is on its way back: a loaner still out for this case must come home (issue #6).
        await case_finished("rma", int(rma_id))
    return row


async def deliver(actor: Actor, rma_id: int, version: Any, *, delivered_on: Any) -> dict:
    """shipped → delivered, with the delivery date."""
    require(actor, "rma.ship")
    try:
        day = parse_date(delivered_on)
    except (ValueError, OverflowError):
        raise fix(delivered_on=_("Enter a date such as 2026-03-01.")) from None
    if day is None:
        raise fix(delivered_on=_("Enter the delivery date."))
    if day > today():
        raise fix(delivered_on=_("The date cannot be in the future."))
    rma = await get_rma(rma_id)
    if rma and rma["shipped_at"] and day < as_dt(rma["shipped_at"]).astimezone(tz()).date():
        raise fix(delivered_on=_("Delivered before it was shipped?"))
    async with write_transaction():
        return await _move(actor, rma_id, "deliver", _version(version), note=day.isoformat(),
                           sets={"delivered_on": day})


async def callback(actor: Actor, rma_id: int, version: Any, *, note: str) -> dict:
    """delivered → called_back: the desk's callback (R-CB-01) is done."""
    require(actor, "rma.callback")
    if not note.strip():
        raise fix(note=_("Record what the customer said."))
    now = utcnow()
    async with write_transaction():
        row = await _move(actor, rma_id, "callback", _version(version), now=now, note=_clean(note, 1000))
        await update(RmaCallback, RmaCallback.rma_id == rma_id, status="done", note=_clean(note, 1000),
                     done_by=actor.username, done_at=now)
        # raw-sql: ON CONFLICT DO NOTHING — the done row when no to-do existed
        await fetch("INSERT INTO rma_callback (rma_id, due_at, status, note, done_by, done_at, created_at) "
                    "VALUES ({}, {}, 'done', {}, {}, {}, {}) ON CONFLICT (rma_id) DO NOTHING",
                    rma_id, now, _clean(note, 1000), actor.username, now, now)
    return row


async def close(actor: Actor, rma_id: int, version: Any, *, note: str = "") -> dict:
    """called_back → closed; refused while another domain holds the case open (a loaner still
    at the customer, issue #6), with the blocker's message and link."""
    require(actor, "rma.close")
    blockers = await close_blockers("rma", int(rma_id))
    if blockers:
        raise DomainError(blockers[0].message, status=409, link=blockers[0].url or None)
    now = utcnow()
    async with write_transaction():
        return await _move(actor, rma_id, "close", _version(version), now=now, note=_clean(note, 500),
                           sets={"closed_at": now})

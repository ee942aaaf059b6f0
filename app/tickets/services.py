"""Ticket actions (issue #13): one async function per action; each owns its transaction, checks its
permission, writes its audit event in the same transaction and raises only DomainError / Stale.

Rules: R-TKT-01 (intake fields), R-TKT-02 (entitlement decides billing), R-TKT-03 (dispatch to a
technician or the engineering manager's queue), R-TKT-04 (pre-departure call, ETA), R-TKT-05 (SLA
clocks with pause; breach recorded once at the deadline), R-TKT-06/07/08 (visits, result, sign-off,
satisfaction score), R-TKT-09 (repeat repair), R-SLIP-02 (slip number in order, via the ledger api),
R-CUS-05/06 (failures to the warranty, via the customers api), R-LOAN-02 (loaner triggers fed).

Every time-dependent function takes `now=` so tests freeze the clock.
"""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import secrets
from decimal import Decimal
from typing import Any

from app.core.actor import Actor
from app.core.audit.services import record
from app.core.db import atomic, fetch, is_unique_violation, utcnow, write_transaction
from app.core.errors import DomainError, Stale, fix, not_found, refused
from app.core.hooks import case_finished, close_blockers
from app.core.i18n import _
from app.core.numbers import attach_entity, next_number
from app.core.permissions import can, require
from app.core.settings import setting
from app.core.status import label_of, move, update_versioned
from app.tickets import queries
from app.tickets.queries import get_ticket, get_visit
from app.tickets.schemas import (CallForm, DispatchForm, FinishForm, IntakeForm, PauseForm, SignForm, StepForm,
                                 parse_when)
from app.tickets.status import ACTIVE, LABELS, TRANSITIONS, VISIT_LABELS, VISIT_TRANSITIONS, TicketStatus, VisitStatus

CLOCKS = (("respond", "respond_due", "responded_at"), ("depart", "depart_due", "departed_at"),
          ("onsite", "onsite_due", "arrived_at"), ("fix", "fix_due", "fixed_at"))


def _aware(value: Any) -> dt.datetime | None:
    """A timestamp read back from either database → aware UTC."""
    if value is None or value == "":
        return None
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value.replace("Z", "+00:00"))
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


def is_dispatcher(who: Any) -> bool:
    return can(who, "tickets.dispatch")


def reads_all(who: Any) -> bool:
    """Desk, engineering manager and managers read every ticket; a technician only those with their visits."""
    return can(who, "tickets.read_all")


async def may_see(who: Any, ticket: dict) -> bool:
    if reads_all(who):
        return True
    uid = getattr(who, "id", None) or getattr(who, "user_id", None)
    if uid is None:
        return False
    if ticket.get("assignee_id") == uid:
        return True
    return bool(await fetch("SELECT 1 AS x FROM ticket_visit WHERE ticket_id = {} AND technician_id = {} LIMIT 1",
                            ticket["id"], uid))


async def _claim_token(token: str, actor: Actor) -> None:
    """A one-time form token booked in the caller's transaction: a resubmitted form does nothing twice."""
    if not token:
        return
    try:
        async with atomic():
            await fetch("INSERT INTO ticket_form_token (token, user_id, created_at) VALUES ({}, {}, {})",
                        token, actor.user_id, utcnow())
    except Exception as exc:
        if is_unique_violation(exc):
            raise DomainError(_("This form was already sent."), status=409) from exc
        raise


def _foreign(exc: Exception, field: str) -> DomainError:
    """Another domain's refusal (its api raises DomainError, or — until its kit migration lands — its own
    error with `message`/`errors`) shown next to our field. Only the message is read; nothing is caught by type."""
    if isinstance(exc, DomainError):
        message = exc.message
    else:
        message = getattr(exc, "message", None) or str(exc)
    status = int(getattr(exc, "status", 400) or 400)
    return DomainError(_("Please correct the marked fields."), errors={field: message}, status=400 if status == 409 else status)


# ---------------------------------------------------------------- entitlement (R-TKT-02) and SLA (R-TKT-05)

async def sla_hours(ent: Any, area: str) -> tuple[int, int]:
    """(respond hours, on-site hours) for this customer: the contract's SLA fields, else the settings;
    on site never over the cap (001 §3.1.6: 36 h)."""
    respond = getattr(ent, "response_hours", None) or await setting("tickets.respond_hours")
    onsite = getattr(ent, "onsite_hours", None)
    if not onsite:
        onsite = await setting("tickets.onsite_hours_suburb" if area == "suburb" else "tickets.onsite_hours_city")
    return int(respond), min(int(onsite), int(await setting("tickets.onsite_hours_max")))


BILLING_BY_STATUS = {"warranty": "free", "annual": "contract", "per_visit": "chargeable", "liaison": "chargeable",
                     "none": "chargeable"}


async def entitlement(customer_id: int, device_id: int | None = None, *, on: dt.date | None = None) -> dict | None:
    """R-TKT-02: what the desk sees before promising anything — contract type, warranty until when and why,
    SLA hours for the customer's zone, billing policy — and the billing it decides. None: no such customer."""
    import app.customers.api as customers

    ent = await customers.customer_entitlement(customer_id, on)
    if ent is None:
        return None
    customer = await customers.get_customer(customer_id)
    respond_h, onsite_h = await sla_hours(ent, ent.area)
    billing = BILLING_BY_STATUS.get(ent.status, "chargeable")
    warranty = device = None
    if device_id:
        device = await customers.get_device(device_id)
        if device is None or device["customer_id"] != customer_id:
            device = None
        else:
            warranty = await customers.warranty_status(device_id=device_id, on=on)
            if warranty is not None and warranty.in_warranty:
                billing = "free"  # a device under warranty is repaired free whatever the contract (R-CUS-04)
    return {"status": ent.status, "label": ent.label, "contract_id": ent.contract_id, "contract_number": ent.contract_number,
            "end_date": ent.end_date, "tariff_policy": ent.tariff_policy, "customer_class": ent.customer_class,
            "area": ent.area, "distance_km": ent.distance_km, "respond_hours": respond_h, "onsite_hours": onsite_h,
            "billing": billing, "device": device, "warranty": warranty, "customer": customer,
            "warranty_end": warranty.end if warranty is not None else None}


def _sla_due(row: dict) -> dt.datetime | None:
    """The earliest deadline still open (for the list's index and the breach sweep)."""
    dues = [_aware(row.get(due)) for _clock, due, met in CLOCKS if row.get(due) and not row.get(met)]
    dues = [d for d in dues if d]
    return min(dues) if dues else None


async def record_breaches(ticket_id: int, now: dt.datetime | None = None) -> list[str]:
    """R-TKT-05: record each missed deadline once, stamped with the deadline itself (the moment it was
    breached, even when noticed later), with the technician and office it counts against. While the
    ticket is paused its clocks stand still at the pause. Joins the caller's transaction."""
    now = now or utcnow()
    rows = await fetch("SELECT * FROM ticket WHERE id = {}", ticket_id)
    if not rows:
        return []
    t = rows[0]
    clock_now = _aware(t["paused_at"]) or now
    new = []
    for clock, due_col, met_col in CLOCKS:
        due, met = _aware(t[due_col]), _aware(t[met_col])
        if due is None or t["status"] == TicketStatus.CLOSED and met is None:
            continue
        if (met is not None and met > due) or (met is None and clock_now > due):
            inserted = await fetch(
                "INSERT INTO ticket_breach (ticket_id, clock, breached_at, technician_id, office_id, noticed_at) "
                "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (ticket_id, clock) DO NOTHING RETURNING id",
                ticket_id, clock, due, t["assignee_id"], t["office_id"], now)
            if inserted:
                new.append(clock)
    return new


async def sweep_breaches(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Record the breaches of running tickets whose earliest open deadline has passed (index on sla_due;
    only open tickets carry one). Walks them all in slices of `limit`, one transaction per slice."""
    now = now or utcnow()
    count, after = 0, 0
    while True:
        due = await fetch("SELECT id FROM ticket WHERE sla_due < {} AND paused_at IS NULL AND id > {} ORDER BY id "
                          f"LIMIT {int(limit)}", now, after)
        if not due:
            return count
        async with write_transaction():
            for row in due:
                count += len(await record_breaches(row["id"], now))
        after = due[-1]["id"]


async def _refresh_sla(ticket_id: int, now: dt.datetime) -> None:
    """Keep `sla_due` (the earliest open deadline) in step and record any breach; caller's transaction."""
    rows = await fetch("SELECT * FROM ticket WHERE id = {}", ticket_id)
    due = _sla_due(rows[0]) if rows[0]["status"] in ACTIVE else None
    # sla_due is a derived index column, not a user edit: no version bump
    await fetch("UPDATE ticket SET sla_due = {} WHERE id = {}", due, ticket_id)
    await record_breaches(ticket_id, now)


# ---------------------------------------------------------------- intake (R-TKT-01, 02, 09)

async def create_ticket(actor: Actor, form: IntakeForm, *, now: dt.datetime | None = None) -> int:
    """R-TKT-01/02: a new ticket with every intake field, the entitlement snapshot that decides billing,
    the SLA deadlines (R-TKT-05: respond; on site by city/suburb or 5 min for a resident post) and the
    repeat-repair flag (R-TKT-09: same device, same fault before). Numbered gapless from `service_slip`.
    Side effects: ticket row, doc_number; audit `tickets.created`."""
    require(actor, "tickets.intake")
    now = now or utcnow()
    ent = await entitlement(form.customer_id, form.device_id, on=now.date())
    if ent is None:
        raise fix(customer_id=_("Choose a customer."))
    if form.device_id and ent["device"] is None:
        raise fix(device_id=_("This device does not belong to the customer."))
    device = ent["device"]
    fault_code = (form.fault_code or "").strip().upper()
    if form.service_mode == "resident":
        onsite_due = now + dt.timedelta(minutes=await setting("tickets.resident_onsite_minutes"))
    else:
        onsite_due = now + dt.timedelta(hours=ent["onsite_hours"])
    respond_due = now + dt.timedelta(hours=ent["respond_hours"])
    async with write_transaction():
        await _claim_token(form.token, actor)
        repeat_of = None
        if device and fault_code:
            prior = await fetch("SELECT id FROM ticket WHERE device_id = {} AND fault_code = {} ORDER BY id DESC LIMIT 1",
                                device["id"], fault_code)
            repeat_of = prior[0]["id"] if prior else None
        number = await next_number("service_slip", entity_type="ticket", today=now.date())
        customer = ent["customer"]
        rows = await fetch(
            "INSERT INTO ticket (number, status, customer_id, customer_name, office_id, device_id, device_serial, device_model, "
            "channel, contact_name, contact_phone, requested_service, current_state, fault_at, nature, category, fault_code, "
            "location, impact, tried, entitlement, contract_id, contract_number, warranty_end, billing, area, service_mode, "
            "respond_due, onsite_due, sla_due, repeat_of, created_by, version, created_at, updated_at) VALUES "
            "({}, 'new', {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, "
            "{}, {}, {}, {}, {}, 1, {}, {}) RETURNING id",
            number.formatted, form.customer_id, customer["name"], customer["office_id"],
            device["id"] if device else None, device["serial"] if device else "", device["model"] if device else "",
            form.channel, form.contact_name, form.contact_phone, form.requested_service, form.current_state,
            parse_when(form.fault_at), form.nature, form.category, fault_code, form.location or (device or {}).get("site", ""),
            form.impact, form.tried, ent["status"], ent["contract_id"], ent["contract_number"] or "", ent["warranty_end"],
            ent["billing"], ent["area"], form.service_mode, respond_due, onsite_due, min(respond_due, onsite_due), repeat_of,
            actor.user_id, now, now)
        ticket_id = rows[0]["id"]
        await attach_entity("service_slip", number.formatted, ticket_id)
        if form.token:
            await fetch("UPDATE ticket_form_token SET ticket_id = {} WHERE token = {}", ticket_id, form.token)
        await record(actor, "tickets.created", "ticket", ticket_id,
                     after={"number": number.formatted, "customer_id": form.customer_id, "channel": form.channel,
                            "entitlement": ent["status"], "billing": ent["billing"], "repeat_of": repeat_of})
    return ticket_id


async def ticket_by_token(token: str) -> dict | None:
    """The ticket an intake form (by its one-time token) recorded, if any."""
    rows = await fetch("SELECT ticket_id FROM ticket_form_token WHERE token = {} AND ticket_id IS NOT NULL", token)
    return await get_ticket(rows[0]["ticket_id"]) if rows else None


async def take_call(actor: Actor, form: IntakeForm, *, now: dt.datetime | None = None) -> int:
    """The desk on the phone: record the ticket and, when a technician was chosen on the intake form,
    dispatch it at once (R-TKT-01/03). Two steps: a refused dispatch leaves the ticket recorded and new,
    and the refusal is shown on the ticket page."""
    ticket_id = await create_ticket(actor, form, now=now)
    if form.technician_id:
        await dispatch(actor, ticket_id, DispatchForm(version=1, technician_id=form.technician_id), now=now)
    return ticket_id


# ---------------------------------------------------------------- dispatch (R-TKT-03)

async def _technician(user_id: int) -> dict:
    rows = await fetch("SELECT id, full_name, username, roles, is_active FROM app_user WHERE id = {}", user_id)
    if not rows or not rows[0]["is_active"] or "field" not in (rows[0]["roles"] or "").split():
        raise fix(technician_id=_("Choose an active field technician."))
    return rows[0]


def _assigned_stale(current: dict, ticket: dict, who: str) -> Stale:
    """The loser of a dispatch race sees who got the ticket."""
    return Stale(current, _("Already dispatched to %(tech)s by %(who)s meanwhile. Reload to see it.",
                            tech=who or "?", who=current.get("changed_by") or "?"))


async def dispatch(actor: Actor, ticket_id: int, form: DispatchForm, *, now: dt.datetime | None = None) -> dict:
    """R-TKT-03: assign to a field technician (a planned visit = the first child slip, the dispatch slip
    numbered from `dispatch`), or send to the engineering manager's queue. Mobile service must leave
    within `tickets.mobile_depart_minutes` (R-TKT-05). Compare-and-set on the ticket's version: of two
    dispatchers one wins, the other is told who got it.
    Side effects: ticket → assigned/queued, ticket_visit row; audit `tickets.dispatched` / `tickets.queued`."""
    require(actor, "tickets.dispatch")
    now = now or utcnow()
    ticket = await get_ticket(ticket_id)
    if ticket is None:
        raise not_found()
    async with write_transaction():
        if form.to_queue:
            row = await move("ticket", ticket_id, form.version, TRANSITIONS["queue"], actor=actor, labels=LABELS, now=now,
                             sets={"responded_at": _aware(ticket["responded_at"]) or now})
            await record(actor, "tickets.queued", "ticket", ticket_id, after={"status": "queued"})
            await _refresh_sla(ticket_id, now)
            return row
        tech = await _technician(form.technician_id)
        action = "reassign" if ticket["status"] == TicketStatus.ASSIGNED else "assign"
        sets: dict[str, Any] = {"assignee_id": tech["id"], "cause": form.cause, "spares": form.spares,
                                "tools": form.tools, "dispatched_at": now,
                                "responded_at": _aware(ticket["responded_at"]) or now}
        if ticket["service_mode"] == "mobile" and not ticket["departed_at"]:
            sets["depart_due"] = now + dt.timedelta(minutes=await setting("tickets.mobile_depart_minutes"))
        if not ticket["dispatch_number"]:
            sets["dispatch_number"] = (await next_number("dispatch", entity_type="ticket", entity_id=ticket_id,
                                                         today=now.date())).formatted
        try:
            row = await move("ticket", ticket_id, form.version, TRANSITIONS[action], actor=actor, labels=LABELS, now=now,
                             sets=sets)
        except Stale as exc:
            fresh = await get_ticket(ticket_id) or {}
            raise _assigned_stale(exc.current or {}, fresh, fresh.get("assignee_name") or "") from None
        planned = await fetch("SELECT id, version FROM ticket_visit WHERE ticket_id = {} AND status = 'planned' "
                              "ORDER BY seq DESC LIMIT 1", ticket_id)
        if planned:
            await update_versioned("ticket_visit", planned[0]["id"], planned[0]["version"], {"technician_id": tech["id"]})
        else:
            await _new_visit(ticket_id, tech["id"], now)
        await record(actor, "tickets.dispatched", "ticket", ticket_id,
                     before={"assignee_id": ticket["assignee_id"]},
                     after={"assignee_id": tech["id"], "dispatch_number": row["dispatch_number"], "spares": form.spares})
        await _refresh_sla(ticket_id, now)
    return row


async def _new_visit(ticket_id: int, technician_id: int, now: dt.datetime) -> int:
    seq = await fetch("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM ticket_visit WHERE ticket_id = {}", ticket_id)
    rows = await fetch("INSERT INTO ticket_visit (ticket_id, seq, status, technician_id, version, created_at, updated_at) "
                       "VALUES ({}, {}, 'planned', {}, 1, {}, {}) RETURNING id", ticket_id, int(seq[0]["n"]),
                       technician_id, now, now)
    return rows[0]["id"]


async def revisit(actor: Actor, ticket_id: int, version: int, technician_id: int, *, now: dt.datetime | None = None) -> int:
    """R-TKT-07: a job that needs another visit gets a new child slip under the same ticket."""
    require(actor, "tickets.dispatch")
    now = now or utcnow()
    tech = await _technician(technician_id)
    async with write_transaction():
        unsigned = await fetch("SELECT seq FROM ticket_visit WHERE ticket_id = {} AND status = 'finished'", ticket_id)
        if unsigned:
            raise DomainError(_("Visit %(n)s is not signed by the customer yet.", n=unsigned[0]["seq"]), status=409)
        await move("ticket", ticket_id, version, TRANSITIONS["revisit"], actor=actor, labels=LABELS, now=now,
                   sets={"assignee_id": tech["id"], "dispatched_at": now, "result": ""})
        visit_id = await _new_visit(ticket_id, tech["id"], now)
        await record(actor, "tickets.revisit", "ticket", ticket_id, after={"visit_id": visit_id, "assignee_id": tech["id"]})
    return visit_id


# ---------------------------------------------------------------- the technician's visit (R-TKT-04, 06, 07)

async def _own_visit(actor: Actor, visit_id: int) -> dict:
    """Field technicians act only on visits assigned to them (dispatchers may record for them)."""
    require(actor, "tickets.visit", "tickets.dispatch")
    visit = await get_visit(visit_id)
    if visit is None:
        raise not_found()
    if visit["technician_id"] != actor.user_id and not is_dispatcher(actor):
        raise refused(_("This visit is assigned to somebody else."))
    return visit


def _when(text: str, now: dt.datetime, field: str = "at") -> dt.datetime:
    try:
        value = parse_when(text)
    except ValueError:
        raise fix(**{field: _("Enter a time such as 2026-03-01 09:30.")}) from None
    value = value or now
    if value > now + dt.timedelta(minutes=5):
        raise fix(**{field: _("The time cannot be in the future.")})
    return value


async def record_call(actor: Actor, visit_id: int, form: CallForm, *, now: dt.datetime | None = None) -> dict:
    """R-TKT-04: the pre-departure call to the customer and the agreed ETA. Audit `tickets.eta_recorded`."""
    now = now or utcnow()
    visit = await _own_visit(actor, visit_id)
    if visit["status"] not in (VisitStatus.PLANNED, VisitStatus.ON_WAY):
        raise DomainError(_("Not possible now: it is “%(state)s”.", state=label_of(VISIT_LABELS, visit["status"])), status=409)
    try:
        eta = parse_when(form.eta)
    except ValueError:
        raise fix(eta=_("Enter a time such as 2026-03-01 09:30.")) from None
    if eta is None or eta < now - dt.timedelta(hours=1):
        raise fix(eta=_("The agreed time cannot be in the past."))
    async with write_transaction():
        row = await update_versioned("ticket_visit", visit_id, form.version,
                                     {"called_at": now, "eta_at": eta, "call_note": form.note})
        await record(actor, "tickets.eta_recorded", "ticket", visit["ticket_id"],
                     after={"visit_id": visit_id, "eta_at": eta, "note": form.note})
    return row


async def depart(actor: Actor, visit_id: int, form: StepForm, *, now: dt.datetime | None = None) -> dict:
    """R-TKT-05: leaving for the customer (the mobile-service departure clock stops)."""
    now = now or utcnow()
    visit = await _own_visit(actor, visit_id)
    at = _when(form.at, now)
    async with write_transaction():
        row = await move("ticket_visit", visit_id, form.version, VISIT_TRANSITIONS["depart"], actor=actor,
                         labels=VISIT_LABELS, now=now, sets={"departed_at": at}, check_perm=False)
        ticket = await get_ticket(visit["ticket_id"])
        sets = {} if ticket["departed_at"] else {"departed_at": at}
        await move("ticket", visit["ticket_id"], None, TRANSITIONS["depart"], actor=actor, labels=LABELS, now=now,
                   sets=sets, check_perm=False)
        await record(actor, "tickets.departed", "ticket", visit["ticket_id"], after={"visit_id": visit_id, "at": at})
        await _refresh_sla(visit["ticket_id"], now)
    return row


async def arrive(actor: Actor, visit_id: int, form: StepForm, *, now: dt.datetime | None = None) -> dict:
    """R-TKT-05: on site — the on-site clock stops, the fix clock (`tickets.fix_hours` after arrival) starts."""
    now = now or utcnow()
    visit = await _own_visit(actor, visit_id)
    at = _when(form.at, now)
    if visit["departed_at"] is None:
        raise fix(at=_("Record the departure first."))
    if at < _aware(visit["departed_at"]):
        raise fix(at=_("The arrival cannot be before the departure (%(t)s).", t=_hhmm(visit["departed_at"])))
    async with write_transaction():
        row = await move("ticket_visit", visit_id, form.version, VISIT_TRANSITIONS["arrive"], actor=actor,
                         labels=VISIT_LABELS, now=now, sets={"arrived_at": at}, check_perm=False)
        ticket = await get_ticket(visit["ticket_id"])
        sets: dict[str, Any] = {}
        if not ticket["arrived_at"]:
            sets = {"arrived_at": at, "fix_due": at + dt.timedelta(hours=await setting("tickets.fix_hours"))}
        await move("ticket", visit["ticket_id"], None, TRANSITIONS["arrive"], actor=actor, labels=LABELS, now=now,
                   sets=sets, check_perm=False)
        await record(actor, "tickets.arrived", "ticket", visit["ticket_id"], after={"visit_id": visit_id, "at": at})
        await _refresh_sla(visit["ticket_id"], now)
    return row


def _hhmm(value: Any) -> str:
    from app.core.i18n import format_datetime

    return format_datetime(_aware(value), "short")


async def finish(actor: Actor, visit_id: int, form: FinishForm, *, now: dt.datetime | None = None) -> dict:
    """R-TKT-06: work done, parts used (consumed from the technician's own stock through the parts ledger),
    result, the paper slip number (R-SLIP-02, through the ledger: out of order or another repairer's book is
    refused with the ledger's message). Not fixed → cannot-solve time (R-LOAN-02: loaner due in
    `tickets.loaner_hours`); work stopped and not cleared → `record_failure` (R-CUS-05, and R-CUS-06 sees it).
    A double tap: the second finds the visit already finished (409), one visit is recorded.
    Side effects: visit → finished, ticket → done / not_done, ticket_visit_part rows, stock issue, slip used,
    device events; audit `tickets.finished`. After commit: the loaner triggers that fired are recorded."""
    import app.customers.api as customers
    import app.ledger.api as ledger
    import app.parts.api as parts

    now = now or utcnow()
    visit = await _own_visit(actor, visit_id)
    at = _when(form.at, now)
    if visit["status"] in (VisitStatus.PLANNED, VisitStatus.ON_WAY) or visit["arrived_at"] is None:
        raise fix(at=_("Record the arrival first."))
    if visit["status"] == VisitStatus.ON_SITE and at < _aware(visit["arrived_at"]):
        raise fix(at=_("The finish cannot be before the arrival (%(t)s).", t=_hhmm(visit["arrived_at"])))
    ticket = await get_ticket(visit["ticket_id"])
    done = form.result == "done"
    # parts: each must be in the technician's own stock (checked before anything is written)
    wanted = []
    location = await parts.technician_location(visit["technician_id"], create=False)
    for part_no, qty, serial in form.parts():
        part = await parts.part_by_no(part_no)
        if part is None:
            raise fix(part_no=_("Unknown part %(no)s.", no=part_no))
        have = await parts.on_hand(part["id"], location) if location else 0
        if have < qty:
            raise fix(part_no=_("%(no)s: only %(n)s in your own stock.", no=part_no, n=have))
        if part["serialised"] and not serial:
            raise fix(serial=_("%(no)s is tracked by serial number: enter the unit's serial.", no=part_no))
        wanted.append((part, qty, serial))
    book = await ledger.current_book(visit["technician_id"])
    if book is not None and form.slip_number is None:
        raise fix(slip_number=_("Enter the number of the paper repair slip you used."))
    async with write_transaction():
        await _claim_token(form.token, actor)
        sets = {"finished_at": at, "work_done": form.work_done, "result": form.result, "work_stopped": form.work_stopped,
                "slip_number": form.slip_number, "amount_fen": int((form.amount or Decimal(0)) * 100)}
        row = await move("ticket_visit", visit_id, form.version, VISIT_TRANSITIONS["finish"], actor=actor,
                         labels=VISIT_LABELS, now=now, sets=sets, check_perm=False)
        for part, qty, serial in wanted:
            try:
                await parts.issue_to(actor, part["id"], qty, location, "ticket", ticket["number"], serial=serial or None,
                                     check_roles=False, reason=_("Visit %(n)s", n=visit["seq"]))
            except Exception as exc:  # the parts ledger refused (stock moved meanwhile, unit not here): nothing written
                if getattr(exc, "message", None) is None:
                    raise
                raise _foreign(exc, "serial" if serial else "part_no") from exc
            await fetch("INSERT INTO ticket_visit_part (visit_id, ticket_id, part_id, part_no, part_name, qty, serial, "
                        "created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {})", visit_id, ticket["id"], part["id"],
                        part["part_no"], part["name"], qty, serial, now)
        if form.slip_number is not None:
            try:
                await ledger.record_slip_use(actor, visit["technician_id"], form.slip_number, "ticket", ticket["number"],
                                             form.amount or Decimal(0), used_at=at)
            except Exception as exc:  # out of order, not in this repairer's book … (R-SLIP-02)
                if getattr(exc, "message", None) is None:
                    raise
                raise _foreign(exc, "slip_number") from exc
        tsets: dict[str, Any] = {"result": form.result}
        if done:
            tsets["fixed_at"] = at
        elif form.result in ("return_repair", "replacement") and not ticket["cannot_solve_at"]:
            tsets["cannot_solve_at"] = at
            tsets["loaner_due"] = at + dt.timedelta(hours=await setting("tickets.loaner_hours"))
        await move("ticket", ticket["id"], None, TRANSITIONS["finish_done" if done else "finish_not_done"], actor=actor,
                   labels=LABELS, now=now, sets=tsets, check_perm=False)
        if ticket["device_id"]:
            fault = ticket["fault_code"] or ticket["category"].upper() or "FAULT"
            if visit["seq"] == 1 or not done:
                # R-CUS-05: a failure that could not be cleared and stopped the work extends the warranty
                await customers.record_failure(actor, ticket["device_id"], fault, bool(form.work_stopped and not done),
                                               "ticket", ticket["number"], occurred_on=at.date(),
                                               description=form.work_done[:500])
            if done:
                await customers.record_repair(actor, ticket["device_id"], fault, "ticket", ticket["number"],
                                              occurred_on=at.date(), description=form.work_done[:500])
        await record(actor, "tickets.finished", "ticket", ticket["id"],
                     after={"visit_id": visit_id, "result": form.result, "parts": [[p["part_no"], q, sn] for p, q, sn in wanted],
                            "slip_number": form.slip_number})
        await _refresh_sla(ticket["id"], now)
    await feed_loaner_triggers(actor, ticket["id"], now=now)
    return row


# ---------------------------------------------------------------- sign-off (R-TKT-06, 08)

PNG_MAGIC = b"\x89PNG\r\n\x1a\n"


def signature_dir():
    import os
    from pathlib import Path

    from app.core.config import BASE_DIR

    path = Path(os.environ.get("SHOUHOU_UPLOAD_DIR") or (BASE_DIR / "var" / "uploads")) / "tickets"
    path.mkdir(parents=True, exist_ok=True)
    return path


async def _decode_signature(data_url: str) -> bytes:
    head, _sep, payload = (data_url or "").partition(",")
    if head.strip().lower() != "data:image/png;base64" or not payload:
        raise fix(signature=_("The customer signs in the box."))
    try:
        data = base64.b64decode(payload, validate=True)
    except (binascii.Error, ValueError):
        raise fix(signature=_("The signature could not be read; sign again.")) from None
    if not data.startswith(PNG_MAGIC):
        raise fix(signature=_("The signature could not be read; sign again."))
    if len(data) > int(await setting("tickets.signature_max_kb")) * 1024:
        raise fix(signature=_("The signature is too large; clear it and sign again."))
    return data


async def score_of(satisfaction: str) -> int:
    """R-TKT-08: 很满意 5, 满意 3, 一般 2, 不满意 0 (settings)."""
    return int(await setting(f"tickets.score_{satisfaction}"))


async def sign(actor: Actor, visit_id: int, form: SignForm, *, now: dt.datetime | None = None) -> dict:
    """R-TKT-06/08: the customer's part — signer, satisfaction with its score, reason if unhappy, comment,
    accessories handed over, the finger signature (PNG checked by its first bytes, random file name).
    When every visit of a done ticket is signed the ticket is signed. Audit `tickets.signed`."""
    now = now or utcnow()
    visit = await _own_visit(actor, visit_id)
    if visit["status"] != VisitStatus.FINISHED:
        if visit["status"] in (VisitStatus.PLANNED, VisitStatus.ON_WAY, VisitStatus.ON_SITE):
            raise fix(signer=_("Finish the visit first."))
        raise DomainError(_("Not possible now: it is “%(state)s”.", state=label_of(VISIT_LABELS, visit["status"])), status=409)
    data = await _decode_signature(form.signature)
    stored = f"{secrets.token_hex(16)}.png"
    path = signature_dir() / stored
    score = await score_of(form.satisfaction)
    try:
        async with write_transaction():
            row = await move("ticket_visit", visit_id, form.version, VISIT_TRANSITIONS["sign"], actor=actor,
                             labels=VISIT_LABELS, now=now, check_perm=False,
                             sets={"signer": form.signer, "satisfaction": form.satisfaction, "score": score,
                                   "unhappy_reason": form.unhappy_reason if form.satisfaction == "unhappy" else "",
                                   "comment": form.comment, "accessories": form.accessories, "signature_file": stored,
                                   "signed_at": now})
            path.write_bytes(data)
            ticket = await get_ticket(visit["ticket_id"])
            open_visits = await fetch("SELECT 1 AS x FROM ticket_visit WHERE ticket_id = {} AND status IN "
                                      "('planned', 'on_way', 'on_site', 'finished') LIMIT 1", ticket["id"])
            if ticket["status"] == TicketStatus.DONE and not open_visits:
                await move("ticket", ticket["id"], None, TRANSITIONS["sign"], actor=actor, labels=LABELS, now=now,
                           check_perm=False)
            await record(actor, "tickets.signed", "ticket", ticket["id"],
                         after={"visit_id": visit_id, "signer": form.signer, "satisfaction": form.satisfaction,
                                "score": score, "accessories": form.accessories})
    except BaseException:
        path.unlink(missing_ok=True)
        raise
    return row


# ---------------------------------------------------------------- pause (R-TKT-05)

async def pause(actor: Actor, ticket_id: int, form: PauseForm, *, now: dt.datetime | None = None) -> dict:
    """R-TKT-05: stop the SLA clocks while waiting for the customer or for parts — reason, who, when.
    Side effects: ticket.paused_at, ticket_pause row; audit `tickets.paused`."""
    require(actor, "tickets.pause")
    now = now or utcnow()
    ticket = await get_ticket(ticket_id)
    if ticket is None:
        raise not_found()
    if not is_dispatcher(actor) and ticket["assignee_id"] != actor.user_id:
        raise refused(_("This ticket is assigned to somebody else."))
    if ticket["status"] not in ACTIVE:
        raise DomainError(_("Not possible now: it is “%(state)s”.", state=label_of(LABELS, ticket["status"])), status=409)
    if ticket["paused_at"] is not None:
        raise DomainError(_("The clock is already paused."), status=409)
    async with write_transaction():
        await record_breaches(ticket_id, now)  # a deadline already missed stays missed
        row = await update_versioned("ticket", ticket_id, form.version, {"paused_at": now, "pause_reason": form.reason},
                                     where="paused_at IS NULL")
        await fetch("INSERT INTO ticket_pause (ticket_id, reason, note, started_at, started_by) VALUES ({}, {}, {}, {}, {})",
                    ticket_id, form.reason, form.note, now, actor.user_id)
        await record(actor, "tickets.paused", "ticket", ticket_id, after={"reason": form.reason, "note": form.note})
    return row


async def resume(actor: Actor, ticket_id: int, version: int, *, now: dt.datetime | None = None) -> dict:
    """R-TKT-05: the clocks run again; every deadline not yet met moves by the paused time (not counted)."""
    require(actor, "tickets.pause")
    now = now or utcnow()
    ticket = await get_ticket(ticket_id)
    if ticket is None:
        raise not_found()
    if not is_dispatcher(actor) and ticket["assignee_id"] != actor.user_id:
        raise refused(_("This ticket is assigned to somebody else."))
    started = _aware(ticket["paused_at"])
    if started is None:
        raise DomainError(_("The clock is not paused."), status=409)
    delta = max(now - started, dt.timedelta(0))
    sets: dict[str, Any] = {"paused_at": None, "pause_reason": "",
                            "paused_seconds": int(ticket["paused_seconds"] or 0) + int(delta.total_seconds())}
    for _clock, due_col, met_col in CLOCKS:
        due = _aware(ticket[due_col])
        if due is not None and ticket[met_col] is None and due > started:
            sets[due_col] = due + delta  # a deadline missed before the pause is not moved
    async with write_transaction():
        row = await update_versioned("ticket", ticket_id, version, sets, where="paused_at IS NOT NULL")
        await fetch("UPDATE ticket_pause SET ended_at = {}, ended_by = {} WHERE ticket_id = {} AND ended_at IS NULL",
                    now, actor.user_id, ticket_id)
        await record(actor, "tickets.resumed", "ticket", ticket_id, after={"paused_minutes": int(delta.total_seconds() // 60)})
        await _refresh_sla(ticket_id, now)
    return row


# ---------------------------------------------------------------- close

async def close(actor: Actor, ticket_id: int, version: int, *, now: dt.datetime | None = None) -> dict:
    """A ticket closes when every visit is signed and nothing else holds it open (a loaner still out:
    the `ticket` close guard of the loaners domain). Tells the finish listeners. Audit `tickets.closed`."""
    require(actor, "tickets.close")
    now = now or utcnow()
    ticket = await get_ticket(ticket_id)
    if ticket is None:
        raise not_found()
    async with write_transaction():
        unsigned = await fetch("SELECT seq FROM ticket_visit WHERE ticket_id = {} AND status IN "
                               "('planned', 'on_way', 'on_site', 'finished') ORDER BY seq LIMIT 1", ticket_id)
        if unsigned:
            raise DomainError(_("Visit %(n)s is not signed by the customer yet.", n=unsigned[0]["seq"]), status=409)
        blockers = await close_blockers("ticket", ticket_id)
        if blockers:
            raise DomainError(blockers[0].message, status=409, link=blockers[0].url)
        # The loaners guard matches case_id or case_ref = str(id); a loan checked out against the ticket's
        # number (FW-…, how the desk and our loaner link name it) has case_id NULL: ask by number too.
        import app.loaners.api as loaners

        out = [l for l in await loaners.loans_for_case("ticket", case_ref=ticket["number"]) if l["status"] == "out"]
        if out:
            raise DomainError(_("Loaner %(serial)s is still out at the customer: check it in before closing.",
                                serial=out[0]["serial"]), status=409, link=f"/loaners/{out[0]['id']}")
        row = await move("ticket", ticket_id, version, TRANSITIONS["close"], actor=actor, labels=LABELS, now=now,
                         sets={"closed_at": now, "sla_due": None})
        await record(actor, "tickets.closed", "ticket", ticket_id, after={"status": "closed"})
        await case_finished("ticket", ticket_id)
    return row


# ---------------------------------------------------------------- the other domains hear about it

async def loaner_hits(ticket: dict, now: dt.datetime | None = None) -> list:
    """R-LOAN-02 for this ticket: the loaners domain's rules fed with the ticket's facts and our thresholds
    (R-TKT-05: fixed ≤ 2 h after arrival, same-model loaner within 72 h when it cannot be solved)."""
    import app.loaners.api as loaners

    now = now or utcnow()
    facts = loaners.triggers.CaseFacts(now=now, arrived_at=_aware(ticket.get("arrived_at")),
                                       fixed_at=_aware(ticket.get("fixed_at")),
                                       cannot_solve_at=_aware(ticket.get("cannot_solve_at")))
    th = loaners.triggers.Thresholds(fix_hours=float(await setting("tickets.fix_hours")),
                                     same_model_hours=float(await setting("tickets.loaner_hours")))
    return loaners.triggers.evaluate(facts, th)


async def feed_loaner_triggers(actor: Actor, ticket_id: int, *, now: dt.datetime | None = None) -> int:
    """Store the R-LOAN-02 rules that fired with the loaners domain (once per rule; its own transaction)."""
    import app.loaners.api as loaners

    ticket = await get_ticket(ticket_id)
    hits = await loaner_hits(ticket, now)
    if not hits:
        return 0
    return await loaners.record_triggers(actor, "ticket", ticket_id, ticket["number"], hits, customer_id=ticket["customer_id"])


async def stats_by_technician(since: dt.datetime) -> list[dict]:
    """R-TKT-05/08, R-KPI-01: breaches and satisfaction per technician since a date."""
    return await queries.technician_stats(since)

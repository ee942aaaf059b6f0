"""Intake (R-TKT-01, 02, 09) and dispatch (R-TKT-03, 07)."""

from __future__ import annotations

import base64
import binascii
import datetime as dt
import logging
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
from app.core.rows import insert, update
from app.core.settings import setting
from app.core.status import label_of, move, update_versioned
from app.tickets import queries
from app.tickets.queries import get_ticket, get_visit
from app.tickets.schemas import (CallForm, DispatchForm, FinishForm, IntakeForm, PauseForm, SignForm, StepForm,
                                 parse_when)
from app.tickets.status import ACTIVE, LABELS, TRANSITIONS, VISIT_LABELS, VISIT_TRANSITIONS, TicketStatus, VisitStatus
from app.tickets.tables import Ticket, TicketFormToken, TicketVisit

from app.tickets.services._common import CLOCKS, _aware, _claim_token, _foreign, is_dispatcher, log, may_see, reads_all  # noqa: F401
from app.tickets.services._sla import _refresh_sla, entitlement  # noqa: F401


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
        ticket_id = await insert(
            Ticket, returning=Ticket.id, number=number.formatted, status="new", customer_id=form.customer_id,
            customer_name=customer["name"], office_id=customer["office_id"], device_id=device["id"] if device else None,
            device_serial=device["serial"] if device else "", device_model=device["model"] if device else "",
            channel=form.channel, contact_name=form.contact_name, contact_phone=form.contact_phone,
            requested_service=form.requested_service, current_state=form.current_state,
            fault_at=parse_when(form.fault_at), nature=form.nature, category=form.category, fault_code=fault_code,
            location=form.location or (device or {}).get("site", ""), impact=form.impact, tried=form.tried,
            entitlement=ent["status"], contract_id=ent["contract_id"], contract_number=ent["contract_number"] or "",
            warranty_end=ent["warranty_end"], billing=ent["billing"], area=ent["area"], service_mode=form.service_mode,
            respond_due=respond_due, onsite_due=onsite_due, sla_due=min(respond_due, onsite_due), repeat_of=repeat_of,
            created_by=actor.user_id, version=1, created_at=now, updated_at=now)
        await attach_entity("service_slip", number.formatted, ticket_id)
        if form.token:
            await update(TicketFormToken, TicketFormToken.token == form.token, ticket_id=ticket_id)
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
        reserved = await _reserve_parts(actor, ticket, tech["id"], form)
        await record(actor, "tickets.dispatched", "ticket", ticket_id,
                     before={"assignee_id": ticket["assignee_id"]},
                     after={"assignee_id": tech["id"], "dispatch_number": row["dispatch_number"], "spares": form.spares,
                            "reserved": reserved})
        await _refresh_sla(ticket_id, now)
    return row


async def _reserve_parts(actor: Actor, ticket: dict, technician_id: int, form: DispatchForm) -> list:
    """R-TKT-04: parts to bring reserved from a store or the technician's own stock through the parts api, for
    the ticket's number (the visit's issue consumes them; close releases what is left). Caller's transaction:
    a refusal (another dispatch took the last unit) undoes the whole dispatch and shows next to the parts."""
    import app.parts.api as parts

    lines = form.reservations()
    if not lines:
        return []
    allowed = {int(s["id"]) for s in await parts.dispatch_stores(technician_id)}
    done = []
    for location_id, part_id, qty in lines:
        if location_id not in allowed:
            raise fix(res_item=_("Parts are reserved from a store or the technician's own stock."))
        try:
            await parts.reserve(actor, part_id, location_id, qty, "ticket", ticket["number"], check_roles=False)
        except DomainError as exc:
            raise _foreign(exc, "res_item") from exc
        done.append([location_id, part_id, qty])
    return done


async def _new_visit(ticket_id: int, technician_id: int, now: dt.datetime) -> int:
    seq = await fetch("SELECT COALESCE(MAX(seq), 0) + 1 AS n FROM ticket_visit WHERE ticket_id = {}", ticket_id)
    return await insert(TicketVisit, returning=TicketVisit.id, ticket_id=ticket_id, seq=int(seq[0]["n"]), status="planned",
                        technician_id=technician_id, version=1, created_at=now, updated_at=now)


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



"""Pause (R-TKT-05), close, and what the other domains hear (R-LOAN-02)."""

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
from app.tickets.tables import TicketPause

from app.tickets.services._common import CLOCKS, _aware, _claim_token, _foreign, is_dispatcher, log, may_see, reads_all  # noqa: F401
from app.tickets.services._sla import _refresh_sla, record_breaches  # noqa: F401


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
        await insert(TicketPause, ticket_id=ticket_id, reason=form.reason, note=form.note, started_at=now,
                     started_by=actor.user_id)
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
        await update(TicketPause, (TicketPause.ticket_id == ticket_id) & TicketPause.ended_at.is_null(), ended_at=now,
                     ended_by=actor.user_id)
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
        import app.parts.api as parts

        await parts.release_reservations(actor, "ticket", ticket["number"], reason="ticket closed")  # R-TKT-04
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

"""Entitlement (R-TKT-02) and the SLA clocks with their breaches (R-TKT-05)."""

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
from app.core.rows import update
from app.core.settings import setting
from app.core.status import label_of, move, update_versioned
from app.tickets import queries
from app.tickets.queries import get_ticket, get_visit
from app.tickets.schemas import (CallForm, DispatchForm, FinishForm, IntakeForm, PauseForm, SignForm, StepForm,
                                 parse_when)
from app.tickets.status import ACTIVE, LABELS, TRANSITIONS, VISIT_LABELS, VISIT_TRANSITIONS, TicketStatus, VisitStatus
from app.tickets.tables import Ticket

from app.tickets.services._common import CLOCKS, _aware, _claim_token, _foreign, is_dispatcher, log, may_see, reads_all  # noqa: F401


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
            # raw-sql: ON CONFLICT DO NOTHING RETURNING — each clock's breach is recorded once
            inserted = await fetch(
                "INSERT INTO ticket_breach (ticket_id, clock, breached_at, technician_id, office_id, noticed_at) "
                "VALUES ({}, {}, {}, {}, {}, {}) ON CONFLICT (ticket_id, clock) DO NOTHING RETURNING id",
                ticket_id, clock, due, t["assignee_id"], t["office_id"], now)
            if inserted:
                new.append(clock)
    return new


async def sweep_breaches(now: dt.datetime | None = None, limit: int = 500) -> int:
    """Record the breaches of running tickets whose earliest open deadline has passed (index on sla_due;
    only open tickets carry one). Cheap enough to run every minute in every worker (app.core.periodic) and
    idempotent: each slice of `limit` candidates is checked with two reads against the breaches already
    recorded, and only a ticket with a clock newly missed opens a write transaction."""
    now = now or utcnow()
    count, after = 0, 0
    cols = ", ".join(f"{due}, {met}" for _c, due, met in CLOCKS)
    while True:
        due = await fetch(f"SELECT id, status, paused_at, {cols} FROM ticket WHERE sla_due < {{}} AND paused_at IS NULL "
                          f"AND id > {{}} ORDER BY id LIMIT {int(limit)}", now, after)
        if not due:
            return count
        marks = ", ".join(["{}"] * len(due))
        seen = {(r["ticket_id"], r["clock"]) for r in await fetch(
            f"SELECT ticket_id, clock FROM ticket_breach WHERE ticket_id IN ({marks})", *[r["id"] for r in due])}
        pending = [r["id"] for r in due if any((r["id"], c) not in seen for c in _missed(r, now))]
        for ticket_id in pending:
            async with write_transaction():
                count += len(await record_breaches(ticket_id, now))
        after = due[-1]["id"]


_LAST_SWEEP: dict[str, dt.datetime] = {}


async def sweep_recent(now: dt.datetime | None = None) -> int:
    """The periodic job (app.core.periodic, every `tickets.sweep_seconds` in each worker): the first round in a
    process walks every overdue ticket (sweep_breaches); later rounds only the deadlines that fell due since the
    last round (five minutes of overlap; recording is idempotent), one index range per clock — cheap at 1M tickets.
    Deadlines met late, pauses and resumes record their own breaches in the action itself."""
    now = now or utcnow()
    last = _LAST_SWEEP.get("at")
    if last is None:
        count = await sweep_breaches(now)
    else:
        since, count = last - dt.timedelta(minutes=5), 0
        ids: set[int] = set()
        for _clock, due_col, met_col in CLOCKS:
            ids.update(r["id"] for r in await fetch(
                f"SELECT id FROM ticket WHERE {due_col} >= {{}} AND {due_col} < {{}} AND {met_col} IS NULL "
                "AND paused_at IS NULL LIMIT 5000", since, now))
        for ticket_id in sorted(ids):
            async with write_transaction():
                count += len(await record_breaches(ticket_id, now))
    _LAST_SWEEP["at"] = now
    return count


def _missed(t: dict, now: dt.datetime) -> list[str]:
    """The clocks of a ticket row whose deadline has passed (R-TKT-05; the same test as record_breaches)."""
    clock_now = _aware(t.get("paused_at")) or now
    out = []
    for clock, due_col, met_col in CLOCKS:
        due, met = _aware(t.get(due_col)), _aware(t.get(met_col))
        if due is None or t.get("status") == TicketStatus.CLOSED and met is None:
            continue
        if (met is not None and met > due) or (met is None and clock_now > due):
            out.append(clock)
    return out


async def _refresh_sla(ticket_id: int, now: dt.datetime) -> None:
    """Keep `sla_due` (the earliest open deadline) in step and record any breach; caller's transaction."""
    rows = await fetch("SELECT * FROM ticket WHERE id = {}", ticket_id)
    due = _sla_due(rows[0]) if rows[0]["status"] in ACTIVE else None
    # sla_due is a derived index column, not a user edit: no version bump
    await update(Ticket, Ticket.id == ticket_id, sla_due=due)
    await record_breaches(ticket_id, now)



"""The technician's visit (R-TKT-04, 06, 07) and the customer's sign-off (R-TKT-06, 08)."""

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
from app.core.rows import insert
from app.core.settings import setting
from app.core.status import label_of, move, update_versioned
from app.tickets import queries
from app.tickets.queries import get_ticket, get_visit
from app.tickets.schemas import (CallForm, DispatchForm, FinishForm, IntakeForm, PauseForm, SignForm, StepForm,
                                 parse_when)
from app.tickets.status import ACTIVE, LABELS, TRANSITIONS, VISIT_LABELS, VISIT_TRANSITIONS, TicketStatus, VisitStatus
from app.tickets.tables import TicketVisitPart

from app.tickets.services._common import CLOCKS, _aware, _claim_token, _foreign, is_dispatcher, log, may_see, reads_all  # noqa: F401
from app.tickets.services._clock import feed_loaner_triggers  # noqa: F401
from app.tickets.services._sla import _refresh_sla  # noqa: F401


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


# long: work, parts used, slip and signature of one visit are booked as one transaction (R-TKT-06)
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
            await insert(TicketVisitPart, visit_id=visit_id, ticket_id=ticket["id"], part_id=part["id"],
                         part_no=part["part_no"], part_name=part["name"], qty=qty, serial=serial, created_at=now)
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
            # R-TKT-04: the job is done — what was reserved for it and not used (the issue above consumed the
            # reservation at the technician's stock) goes back to the stores
            await parts.release_reservations(actor, "ticket", ticket["number"], reason="ticket done")
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
    try:  # after commit, in the loaners domain's own transaction: the visit stays recorded whatever happens there
        await feed_loaner_triggers(actor, ticket["id"], now=now)
    except Exception:  # noqa: BLE001 - the ticket page re-evaluates the rules on every view anyway
        log.warning("loaner triggers not recorded for ticket %s", ticket["id"], exc_info=True)
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



"""Shared helpers of the ticket services: timestamps, who may see, form tokens, foreign refusals."""

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
from app.tickets.tables import TicketFormToken

log = logging.getLogger("shouhou.tickets")

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
            await insert(TicketFormToken, token=token, user_id=actor.user_id, created_at=utcnow())
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



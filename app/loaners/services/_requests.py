"""Desk requests (desk → keeper), the R-LOAN-02 triggers recorded per case, the customer/case picker."""

from __future__ import annotations

import datetime as dt
import json

import app.customers.api as customers
from app.core.audit.services import Actor, record
from app.core.dates import parse_date, today
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError, refused
from app.core.i18n import _
from app.core.permissions import can
from app.core.rows import insert
from app.core.status import move
from app.loaners import triggers
from app.loaners.schemas import CheckoutInput, RequestInput
from app.loaners.status import REQUEST_LABELS, REQUEST_TRANSITIONS
from app.loaners.tables import LoanRequest
from app.loaners.services import _base
from app.loaners.services._base import _allow, _invalid, get_rma, thresholds
from app.loaners.services._checkout import _record_trigger, _validate_case

# --------------------------------------------------------------------------- requests (desk → keeper)

async def create_request(actor: Actor, data: RequestInput) -> int:
    """The desk asks the keeper for a loaner (the keeper fulfils it with a check-out)."""
    _allow(actor, "loaners.request")
    errors: dict[str, str] = {}
    fake = CheckoutInput(case_type=data.case_type, case_id=data.case_id, case_ref=data.case_ref, reason=data.reason)
    case_id, case_ref, case_customer = await _validate_case(fake, errors)
    raw = str(data.customer_id or "").strip() or (str(case_customer) if case_customer else "")
    customer = await fetch("SELECT id, name FROM customer WHERE id = {}", int(raw)) if raw.isdigit() else []
    if not customer:
        errors["customer_id"] = _("Choose the customer.")
    try:
        needed = parse_date(data.needed_by)
        if needed is not None and needed < today():
            errors["needed_by"] = _("The date cannot be in the past.")
    except (ValueError, TypeError):
        needed = None
        errors["needed_by"] = _("Enter a date (YYYY-MM-DD).")
    rule = data.trigger_rule if data.trigger_rule in triggers.RULES else ""
    part_id = None
    model = data.model.strip()[:100]
    if model:
        hit = await fetch("SELECT id, model FROM part WHERE model = {} OR part_no = {} ORDER BY id LIMIT 1", model, model)
        if hit:
            part_id, model = hit[0]["id"], hit[0]["model"] or model
    if errors:
        raise _invalid(errors)
    async with write_transaction():
        now = utcnow()
        request_id = int(await insert(
            LoanRequest, returning=LoanRequest.id, status="open", customer_id=customer[0]["id"],
            case_type=data.case_type, case_id=case_id, case_ref=case_ref, part_id=part_id, model=model,
            trigger_rule=rule, reason=data.reason.strip(), needed_by=needed, requested_by=actor.user_id,
            requested_by_name=actor.display[:60], version=1, created_at=now, updated_at=now))
        if rule:
            await _record_trigger(actor, data.case_type, case_id, case_ref or data.reason.strip()[:60], rule, now, None,
                                  "", customer[0]["id"])
        await record(actor, "loan_request.created", "loan_request", request_id, after={
            "customer_id": customer[0]["id"], "case": f"{data.case_type}:{case_id or case_ref}", "model": model,
            "trigger_rule": rule, "reason": data.reason.strip()})
    return request_id


async def cancel_request(actor: Actor, request_id: int) -> None:
    """The requester withdraws their own request; the keeper (or manager) may cancel any."""
    _allow(actor, "loaners.request")
    async with write_transaction():
        rows = await fetch("SELECT status, requested_by FROM loan_request WHERE id = {}", request_id)
        if not rows or rows[0]["status"] != "open":
            raise DomainError(_("This request is no longer open."), status=409)
        if not can(actor, "loaners.keep") and rows[0]["requested_by"] != actor.user_id:
            raise refused(_("Only the person who asked, or the warehouse keeper, can cancel this request."))
        try:
            await move("loan_request", request_id, None, REQUEST_TRANSITIONS["cancel"], actor=actor,
                       labels=REQUEST_LABELS, check_perm=False)
        except DomainError as exc:
            if exc.status not in (404, 409):
                raise
            raise DomainError(_("This request is no longer open."), status=409) from None
        await record(actor, "loan_request.cancelled", "loan_request", request_id)


# --------------------------------------------------------------------------- triggers (R-LOAN-02)

async def record_triggers(actor: Actor, case_type: str, case_id: int | None, case_ref: str,
                          hits: list[triggers.TriggerHit], customer_id: int | None = None) -> int:
    """Store the rules that fired for a case (once per rule); returns how many were given."""
    async with write_transaction():
        new = [hit.rule for hit in hits if await _record_trigger(
            actor, case_type, case_id, case_ref, hit.rule, hit.fired_at, hit.due_at,
            json.dumps({"elapsed_hours": hit.elapsed_hours, "limit_hours": hit.limit_hours}), customer_id)]
        if new:
            await record(actor, "loan_trigger.recorded", case_type, case_id or case_ref,
                         after={"rules": new, "case_ref": case_ref})
    return len(new)


async def triggers_for_case(case_type: str, case_id: int | None, facts: dict | None = None) -> list[triggers.TriggerHit]:
    """Evaluate R-LOAN-02 for a case: the RMA record when the RMA module is there, or the given facts.
    Nothing is due any more once the repair is finished (shipped back, issue #12.11)."""
    record_ = dict(facts or {})
    if case_type == "rma" and case_id is not None:
        rma = await get_rma(case_id) or {}
        if rma.get("is_finished"):
            return []
        record_ = record_ or rma
    return triggers.evaluate(triggers.facts_from_record(record_, utcnow()), await thresholds())


# --------------------------------------------------------------------------- the customer/case picker

async def pick(q: str, limit: int = 8) -> list[dict]:
    """The check-out form's one search box: a customer's device serial, an RMA number, or a customer
    (name / phone / contact). Each option carries customer and case to fill in."""
    q = (q or "").strip()
    if not q:
        return []
    options: list[dict] = []
    device = await customers.lookup_device(q)
    if device is not None:
        options.append({"customer_id": device["customer_id"], "customer_name": device["customer_name"], "case_type": "",
                        "case_id": "", "case_ref": "", "device_serial": device["serial"],
                        "label": _("Device %(serial)s (%(model)s) of %(name)s", serial=device["serial"],
                                   model=device["model"], name=device["customer_name"])})
    module = _base._rma_services()
    if module is not None and hasattr(module, "rma_options_for_loan"):
        for r in (await module.rma_options_for_loan(q))[:limit]:
            r = r if isinstance(r, dict) else dict(getattr(r, "__dict__", {}))
            options.append({"customer_id": r.get("customer_id") or "", "customer_name": r.get("customer_name", ""),
                            "case_type": "rma", "case_id": r.get("id") or r.get("rma_id") or "",
                            "case_ref": r.get("number", ""), "device_serial": r.get("serial") or r.get("device_serial") or "",
                            "label": r.get("label") or _("Return repair %(number)s · %(name)s",
                                                         number=r.get("number", ""), name=r.get("customer_name", ""))})
    for c in await customers.search_customers(q, limit=limit):
        options.append({"customer_id": c["id"], "customer_name": c["name"], "case_type": "", "case_id": "", "case_ref": "",
                        "device_serial": "", "label": c["name"] + (f" · {c['phone']}" if c.get("phone") else "")})
    return options[:limit]

"""Check-out (R-LOAN-01, R-LOAN-03): validation without writes, then one transaction."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

import app.customers.api as customers
import app.parts.api as parts
from app.core.audit.services import Actor, record
from app.core.dates import parse_date, today
from app.core.db import fetch, is_unique_violation, utcnow, write_transaction
from app.core.errors import DomainError
from app.core.i18n import _
from app.core.numbers import attach_entity, next_number
from app.core.rows import insert, update
from app.core.status import move
from app.loaners import triggers
from app.loaners.schemas import CheckoutInput
from app.loaners.status import REQUEST_LABELS, REQUEST_TRANSITIONS
from app.loaners.tables import Loan, LoanFormToken
from app.loaners.services import _base
from app.loaners.services._base import (AT_CUSTOMER, CASE_TYPES, DUPLICATE, POOL, _allow, _duplicate, _find_rma, _invalid,
                                         get_rma)
from app.loaners.services._reads import find_units, pool_unit_by_serial, whereabouts

# --------------------------------------------------------------------------- check-out (R-LOAN-01, R-LOAN-03)

@dataclass
class _Checkout:
    unit: dict
    customer: dict
    case_type: str
    case_id: int | None
    case_ref: str
    reason: str
    device_serial: str
    device_model: str
    expected_return: dt.date
    condition_out: str
    request_id: int | None
    trigger_rule: str


async def _validate_case(data: CheckoutInput, errors: dict) -> tuple[int | None, str, int | None]:
    """(case_id, case_ref, customer_id of the case if known)."""
    case_type = data.case_type
    if case_type not in CASE_TYPES:
        errors["case_type"] = _("Choose what the loaner is for: a return repair, a ticket, or standalone.")
        return None, "", None
    if case_type == "rma":
        module = _base._rma_services()
        if not str(data.case_id).strip() and data.case_ref.strip() and module is not None:
            found = await _find_rma(data.case_ref)  # a typed RMA number or the customer's serial finds the repair
            if found:
                data.case_id = str(found["id"])
        try:
            case_id = int(str(data.case_id).strip())
        except ValueError:
            errors["case_id"] = _("Choose the return repair (RMA) the loaner covers.")
            return None, "", None
        ref = data.case_ref.strip()[:60]
        if module is not None:
            rma = await get_rma(case_id)
            if rma is None:
                errors["case_id"] = _("No return repair #%(id)s.", id=case_id)
                return None, "", None
            ref = str(rma.get("number") or ref)[:60]
            cust = rma.get("customer_id")
            return case_id, ref, int(cust) if cust else None
        return case_id, ref, None  # no number known: pages say "return repair #id" in the reader's language
    if case_type == "ticket":
        ref = data.case_ref.strip()[:60]
        if not ref:
            errors["case_ref"] = _("Enter the service ticket number.")
        case_id = int(ref) if ref.isdigit() else None
        return case_id, ref, None
    if not data.reason.strip():
        errors["reason"] = _("A standalone loan needs a reason.")
    return None, "", None


async def validate_checkout(data: CheckoutInput) -> _Checkout:
    """Every check of a check-out that needs no write (X-05: a refused form changes nothing)."""
    errors: dict[str, str] = {}
    unit, why = await pool_unit_by_serial(data.serial)
    if why:
        errors["serial"] = why
    case_id, case_ref, case_customer = await _validate_case(data, errors)
    customer = None
    raw_customer = str(data.customer_id or "").strip() or (str(case_customer) if case_customer else "")
    if not raw_customer.isdigit():
        errors["customer_id"] = _("Choose the customer.")
    else:
        rows = await fetch("SELECT id, name, address, phone FROM customer WHERE id = {}", int(raw_customer))
        if not rows:
            errors["customer_id"] = _("Choose the customer.")
        else:
            customer = rows[0]
    device_serial, device_model = data.device_serial.strip()[:100], ""
    if device_serial:
        device = await customers.lookup_device(device_serial)
        if device is not None:
            device_serial, device_model = device["serial"], device["model"] or device["product_name"] or ""
            if customer is not None and device["customer_id"] != customer["id"]:
                errors["device_serial"] = _("Device %(serial)s belongs to another customer (%(name)s).",
                                            serial=device_serial, name=device["customer_name"])
    try:
        expected = parse_date(data.expected_return)
    except (ValueError, TypeError):
        expected = None
        errors["expected_return"] = _("Enter a date (YYYY-MM-DD).")
    else:
        if expected is None:
            errors["expected_return"] = _("Enter the expected return date.")
        elif expected < today():
            errors["expected_return"] = _("The expected return date cannot be in the past.")
        elif expected > today() + dt.timedelta(days=366):
            errors["expected_return"] = _("The expected return date is more than a year away.")
    condition = data.condition_out.strip()
    if not condition:
        errors["condition_out"] = _("Describe the loaner's condition when it leaves.")
    request_id = None
    if str(data.request_id or "").strip():
        try:
            request_id = int(str(data.request_id).strip())
        except ValueError:
            errors["request_id"] = _("Unknown loaner request.")
    rule = data.trigger_rule.strip()
    if rule and rule not in triggers.RULES:
        rule = ""
    if errors:
        raise _invalid(errors)
    assert unit is not None and customer is not None and expected is not None
    return _Checkout(unit=unit, customer=customer, case_type=data.case_type, case_id=case_id, case_ref=case_ref,
                     reason=data.reason.strip(), device_serial=device_serial, device_model=device_model[:100],
                     expected_return=expected, condition_out=condition[:500], request_id=request_id, trigger_rule=rule)


async def _record_trigger(actor: Actor, case_type: str, case_id: int | None, case_ref: str, rule: str,
                          fired_at: dt.datetime, due_at: dt.datetime | None, detail: str, customer_id: int | None) -> bool:
    """Store a fired rule once per (case, rule); True when it was new."""
    # raw-sql: ON CONFLICT DO NOTHING RETURNING stores each fired rule once
    rows = await fetch(
        "INSERT INTO loan_trigger (case_type, case_id, case_ref, rule, fired_at, due_at, detail, customer_id, recorded_by, "
        "recorded_by_name, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
        "ON CONFLICT (case_type, case_ref, rule) DO NOTHING RETURNING id",
        case_type, case_id, (case_ref or str(case_id or ""))[:60], rule, fired_at, due_at, detail, customer_id,
        actor.user_id, actor.display[:60], utcnow())
    return bool(rows)


async def _claim_token(token: str, actor: Actor) -> None:
    if not token:
        return
    # raw-sql: ON CONFLICT DO NOTHING RETURNING is the double-submit guard
    rows = await fetch("INSERT INTO loan_form_token (token, user_id, created_at) VALUES ({}, {}, {}) "
                       "ON CONFLICT (token) DO NOTHING RETURNING id", token[:64], actor.user_id, utcnow())
    if not rows:
        raise _duplicate(None)


async def _token_loan(token: str) -> int | None:
    rows = await fetch("SELECT loan_id FROM loan_form_token WHERE token = {}", token[:64])
    return int(rows[0]["loan_id"]) if rows and rows[0]["loan_id"] else None


async def check_out(actor: Actor, data: CheckoutInput) -> int:
    """Lend a loaner (R-LOAN-01, R-LOAN-03). Returns the loan id.

    Side effects (one transaction): one-time token claimed; notice number drawn (`loaner_notice`);
    the unit moves LOANER → CUSTOMER (`loan_out` ledger row, compare-and-set); loan row; the desk's
    request (if any) fulfilled; the trigger that entitled it recorded; audit `loan.checked_out`.
    Raises DomainError 400 (bad input), 409 (unit no longer in the pool: says who has it), 409 with
    `current["kind"] == DUPLICATE` (the form was already booked: `current["loan_id"]`).
    """
    _allow(actor, "loaners.keep")
    token = (data.token or "").strip()
    if token:
        done = await _token_loan(token)
        if done:
            raise _duplicate(done)
    v = await validate_checkout(data)
    try:
        async with write_transaction():
            await _claim_token(token, actor)
            number = await next_number("loaner_notice", entity_type="loan")
            # the compare-and-set on the unit's location: of two keepers, one wins
            try:
                await parts.move_serial_unit(actor, int(v.unit["id"]), AT_CUSTOMER, expect_from=POOL, kind="loan_out",
                                             document_type="loan", document_id=number.formatted,
                                             reason=_("Loaner for %(customer)s", customer=v.customer["name"])[:500],
                                             check_roles=False)
            except DomainError as exc:
                raise await _unit_refusal(exc, v.unit) from None
            now = utcnow()
            loan_id = int(await insert(
                Loan, returning=Loan.id, number=number.formatted, status="out", serial_unit_id=v.unit["id"],
                part_id=v.unit["part_id"], serial=v.unit["serial"], model=(v.unit["model"] or v.unit["part_no"])[:100],
                customer_id=v.customer["id"], customer_name=v.customer["name"][:200], case_type=v.case_type,
                case_id=v.case_id, case_ref=v.case_ref, reason=v.reason, device_serial=v.device_serial,
                device_model=v.device_model, request_id=v.request_id, out_at=now, expected_return=v.expected_return,
                condition_out=v.condition_out, out_by=actor.user_id, out_by_name=actor.display[:60], version=1,
                created_at=now, updated_at=now))
            await attach_entity("loaner_notice", number.formatted, loan_id)
            if token:
                await update(LoanFormToken, LoanFormToken.token == token[:64], loan_id=loan_id)
            if v.request_id:
                await _fulfil_request(actor, v.request_id, loan_id, now)
            if v.trigger_rule:
                await _record_trigger(actor, v.case_type, v.case_id, v.case_ref or v.reason[:60], v.trigger_rule,
                                      now, None, "", v.customer["id"])
            await record(actor, "loan.checked_out", "loan", loan_id, after={
                "number": number.formatted, "serial": v.unit["serial"], "customer_id": v.customer["id"],
                "case": f"{v.case_type}:{v.case_id or v.case_ref}", "expected_return": v.expected_return,
                "condition_out": v.condition_out, "request_id": v.request_id, "reason": v.reason})
            return loan_id
    except DomainError as exc:
        if (exc.current or {}).get("kind") == DUPLICATE:
            raise _duplicate(await _token_loan(token)) from None
        raise
    except Exception as exc:  # the partial unique index: another open loan of this unit committed first
        if "loan_one_open_per_unit" in str(exc) or (is_unique_violation(exc) and "serial_unit_id" in str(exc)):
            raise DomainError(await whereabouts(v.unit), field="serial", status=409) from None
        raise


async def _unit_refusal(refusal: DomainError, unit: dict) -> Exception:
    """The parts move refused the check-out: 409 (another keeper won the unit) says who has it now."""
    if refusal.status == 409:
        units = await find_units(unit["serial"])
        unit = next((u for u in units if u["id"] == unit["id"]), unit)
        return DomainError(await whereabouts(unit), field="serial", status=409)
    return refusal


async def _fulfil_request(actor: Actor, request_id: int, loan_id: int, now: dt.datetime) -> None:
    try:
        await move("loan_request", request_id, None, REQUEST_TRANSITIONS["fulfil"], actor=actor,
                   sets={"loan_id": loan_id}, labels=REQUEST_LABELS, now=now, check_perm=False)
    except DomainError as exc:
        if exc.status not in (404, 409):
            raise
        raise DomainError(_("This loaner request was already fulfilled or cancelled."), field="request_id",
                          status=409) from None

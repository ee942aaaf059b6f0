"""One loan after check-out: check-in with a test, notice recall, case finished, permanent replacement."""

from __future__ import annotations

import app.customers.api as customers
import app.parts.api as parts
from app.core.audit.services import Actor, record
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError, not_found
from app.core.i18n import _
from app.core.rows import update
from app.core.status import move, update_versioned
from app.loaners.schemas import CheckinInput
from app.loaners.tables import Loan
from app.loaners.status import LOAN_LABELS, LOAN_TRANSITIONS, RECALLABLE, LoanStatus
from app.loaners.services._base import AT_CUSTOMER, FAIL_DESTINATIONS, POOL, _allow, _invalid
from app.loaners.services._reads import find_units, get_loan, open_loan_by_serial

# --------------------------------------------------------------------------- check-in

# a little over 60 lines: the checks, then the one transaction, read top-down as the keeper works
async def check_in(actor: Actor, data: CheckinInput, loan_id: int | None = None) -> int:
    """Take a loaner back: condition in, check-in test; pass → the pool, fail → bench or quarantine.

    Side effects (one transaction): loan out → returned (compare-and-set on status and version);
    the unit moves CUSTOMER → LOANER / BENCH / QUARANTINE (`loan_back`); notice recalled when the
    dispatch slip is given; audit `loan.checked_in`. Raises DomainError 400/409 (not out: nothing written).
    """
    _allow(actor, "loaners.keep")
    errors: dict[str, str] = {}
    loan = await get_loan(loan_id) if loan_id is not None else await open_loan_by_serial(data.serial)
    if loan is None and loan_id is not None:
        raise not_found(_("No such loan."))
    if loan is None or loan["status"] != "out":
        serial = loan["serial"] if loan else (data.serial or "").strip()
        if not serial:
            errors["serial"] = _("Scan or type the loaner's serial number.")
        else:
            units = await find_units(serial)
            where = units[0]["location_name"] if units and units[0]["location_name"] else _("outside the stock")
            errors["serial"] = (_("Unit %(serial)s is not out on loan (it is in %(location)s): nothing to check in.",
                                  serial=serial, location=where) if units else _("No unit with serial %(serial)s.", serial=serial))
    if not data.condition_in.strip():
        errors["condition_in"] = _("Describe the loaner's condition when it comes back.")
    if data.test_result not in ("pass", "fail"):
        errors["test_result"] = _("Record the check-in test: pass or fail.")
    destination = "pool"
    if data.test_result == "fail":
        if data.destination not in FAIL_DESTINATIONS:
            errors["destination"] = _("A unit that fails the test goes to the bench or to quarantine: choose one.")
        else:
            destination = data.destination
        if not data.test_note.strip():
            errors["test_note"] = _("Say what failed.")
    if errors:
        raise _invalid(errors)
    assert loan is not None
    to_code = POOL if destination == "pool" else FAIL_DESTINATIONS[destination]
    recall = data.recall_ref.strip()[:60]
    async with write_transaction():
        now = utcnow()
        sets = {"returned_at": now, "condition_in": data.condition_in.strip()[:500], "test_result": data.test_result,
                "test_note": data.test_note.strip()[:500], "returned_to": destination, "in_by": actor.user_id,
                "in_by_name": actor.display[:60]}
        if recall:
            sets.update(recall_ref=recall, recalled_at=now)
        # compare-and-set on (status out, version): of two check-ins, one wins, the other reads 409
        await move("loan", int(loan["id"]), data.version, LOAN_TRANSITIONS["check_in"], actor=actor, sets=sets,
                   labels=LOAN_LABELS, now=now)
        try:
            await parts.move_serial_unit(actor, int(loan["serial_unit_id"]), to_code, expect_from=AT_CUSTOMER,
                                         kind="loan_back", document_type="loan", document_id=loan["number"],
                                         reason=(data.test_note.strip() or data.condition_in.strip())[:500],
                                         check_roles=False)
        except DomainError as refusal:
            raise DomainError(refusal.message, errors={"serial": refusal.message}, status=refusal.status) from None
        await record(actor, "loan.checked_in", "loan", loan["id"], before={"status": "out"}, after={
            "status": "returned", "condition_in": data.condition_in.strip(), "test_result": data.test_result,
            "returned_to": destination, "test_note": data.test_note.strip(), "recall_ref": recall})
    return int(loan["id"])


# --------------------------------------------------------------------------- notice recall, case finished, conversion

async def _edit(loan_id: int, version: int | None, sets: dict, *, statuses: tuple[str, ...]) -> dict:
    """A versioned edit of a loan in one of `statuses` (compare-and-set; Stale 409 / 404). Returns the loan as it was."""
    loan = await get_loan(loan_id)
    if loan is None:
        raise not_found(_("No such loan."))
    marks = ", ".join("{}" for _s in statuses)
    await update_versioned("loan", int(loan_id), version, sets, where=f"status IN ({marks})", where_args=statuses)
    return loan


async def recall_notice(actor: Actor, loan_id: int, dispatch_ref: str, *, version: int | None = None) -> None:
    """R-LOAN-01: the notice is recalled through the dispatch slip that reinstalled the customer's unit."""
    _allow(actor, "loaners.follow_up")
    ref = (dispatch_ref or "").strip()[:60]
    if not ref:
        raise DomainError(_("Enter the dispatch slip that reinstalled the customer's unit."), field="recall_ref")
    async with write_transaction():
        loan = await _edit(loan_id, version, {"recall_ref": ref, "recalled_at": utcnow()},
                           statuses=tuple(str(x) for x in RECALLABLE))
        await record(actor, "loan.notice_recalled", "loan", loan_id, before={"recall_ref": loan["recall_ref"]},
                     after={"recall_ref": ref})


async def mark_case_finished(actor: Actor, loan_id: int, *, version: int | None = None) -> None:
    """The linked case is finished while the loaner is still out: it moves to the follow-up list."""
    _allow(actor, "loaners.follow_up")
    async with write_transaction():
        await _edit(loan_id, version, {"case_finished_at": utcnow()}, statuses=(str(LoanStatus.OUT),))
        await record(actor, "loan.case_finished", "loan", loan_id)


async def note_case_finished(case_type: str, *, case_id: int | None = None, case_ref: str = "") -> int:
    """For other domains (RMA shipped/closed, ticket completed): open loans of that case join the
    "case finished, loaner still out" list. Joins the caller's transaction. Returns loans marked."""
    if case_id is not None:
        rows = await update(Loan, (Loan.status == "out") & Loan.case_finished_at.is_null() & (Loan.case_type == case_type)
                            & (Loan.case_id == case_id), returning=Loan.id, case_finished_at=utcnow())
    else:
        rows = await update(Loan, (Loan.status == "out") & Loan.case_finished_at.is_null() & (Loan.case_type == case_type)
                            & (Loan.case_ref == case_ref), returning=Loan.id, case_finished_at=utcnow())
    return len(rows)


async def on_rma_finished(rma_id: int) -> object:
    return await note_case_finished("rma", case_id=rma_id)


async def convert_to_permanent(actor: Actor, loan_id: int, *, approval_ref: str, note: str = "",
                               version: int | None = None) -> None:
    """R-SCR-01: the loaner becomes the customer's unit (e.g. after a scrap approval of theirs);
    the notice is annotated as a permanent replacement.

    Side effects: loan out → converted (compare-and-set); the unit leaves the stock from CUSTOMER
    (`issue` ledger row, document = the notice); the unit is registered as the customer's device
    (customers domain) when its serial is not registered yet; audit `loan.converted`.
    """
    _allow(actor, "loaners.keep")
    ref = (approval_ref or "").strip()[:60]
    if not ref:
        raise DomainError(_("Enter the approval (e.g. the scrap record number) behind the permanent replacement."),
                          field="approval_ref")
    loan = await get_loan(loan_id)
    if loan is None:
        raise not_found(_("No such loan."))
    if loan["status"] != "out":
        raise DomainError(_("Only a loaner that is out at the customer can become the customer's unit."), status=409)
    async with write_transaction():
        await move("loan", int(loan_id), version, LOAN_TRANSITIONS["convert"], actor=actor, labels=LOAN_LABELS,
                   sets={"converted_at": utcnow(), "conversion_ref": ref, "conversion_note": (note or "").strip()[:500],
                         "converted_by_name": actor.display[:60]})
        try:
            await parts.move_serial_unit(actor, int(loan["serial_unit_id"]), None, expect_from=AT_CUSTOMER, kind="issue",
                                         document_type="loan", document_id=loan["number"],
                                         reason=_("Permanent replacement (%(ref)s)", ref=ref)[:500], check_roles=False)
        except DomainError as refusal:
            raise DomainError(refusal.message, status=refusal.status) from None
        device_id = await _register_device(actor, loan)
        await record(actor, "loan.converted", "loan", loan_id, before={"status": "out"},
                     after={"status": "converted", "approval_ref": ref, "note": note, "device_id": device_id})


async def _register_device(actor: Actor, loan: dict) -> int | None:
    if await customers.lookup_device(loan["serial"]) is not None:
        return None
    data = customers.DeviceInput(serial=loan["serial"], product_name=loan["part_name"][:200], model=loan["model"],
                                 customer_id=str(loan["customer_id"]), site="",
                                 notes=_("Permanent replacement from loan %(number)s", number=loan["number"]))
    try:
        return await customers.create_device(actor, data)
    except DomainError:
        return None  # a serial the device register refuses stays on the notice only

"""With the real return-repair module (issue #5): an RMA cannot close while its loaner is out."""

from __future__ import annotations

import pytest

from app.core.dates import today as business_today
from app.core.errors import DomainError

from app.loaners import services as loans
from app.loaners.services import CheckinInput

rma = pytest.importorskip("app.rma.services")
factories = pytest.importorskip("tests.rma.factories")

from tests.loaners.factories import checkout, keeper, make_loaner  # noqa: E402


async def test_rma_close_refused_while_loaner_out_then_allowed_after_checkin():
    """The RMA's close asks close_blockers(): refused with a link to the loan; after the check-in it closes."""
    rma_id = await factories.make_rma("called_back")
    record = await rma.get_rma(rma_id)
    actor = await keeper()
    _p, _u, serial = await make_loaner()
    # customer and RMA number come from the RMA itself
    loan_id = await checkout(actor, serial, "", case_type="rma", case_id=str(rma_id), case_ref="")
    loan = await loans.get_loan(loan_id)
    assert loan["case_ref"] == record["number"] and loan["customer_id"] == record["customer_id"]
    # the repair is finished (called back) while the loaner is still out → follow-up list
    assert await loans.refresh_finished_cases() >= 1
    assert loan_id in [r["id"] for r in await loans.finished_still_out(limit=100000)]
    with pytest.raises(DomainError) as err:  # the loaner close guard's blocker, raised by the RMA domain
        await rma.close(factories.DESK, rma_id, record["version"])
    assert type(err.value) is DomainError and err.value.status == 409 and serial in str(err.value)
    assert f"/loaners/{loan_id}" in (err.value.link or "") + str(getattr(err.value, "blockers", "")) + str(err.value.current)
    assert (await rma.get_rma(rma_id))["status"] == "called_back"
    await loans.check_in(actor, CheckinInput(serial=serial, condition_in="完好", test_result="pass"))
    await rma.close(factories.DESK, rma_id, (await rma.get_rma(rma_id))["version"])
    assert (await rma.get_rma(rma_id))["status"] == "closed"


async def test_picker_offers_open_rmas_by_number():
    """The check-out picker finds an open RMA by its number and carries its customer and case."""
    rma_id = await factories.make_rma("repairing")
    record = await rma.get_rma(rma_id)
    options = await loans.pick(record["number"])
    hit = [o for o in options if o["case_type"] == "rma" and str(o["case_id"]) == str(rma_id)]
    assert hit and hit[0]["customer_id"] == record["customer_id"] and hit[0]["case_ref"] == record["number"]


async def test_shipping_the_rma_puts_its_loaner_on_the_finished_still_out_list():
    """When the repaired unit ships back (case finished hook), the loaner still out joins the follow-up list at once."""
    import datetime as dt

    rma_id = await factories.make_rma("ready_to_ship")
    actor = await keeper()
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(actor, serial, "", case_type="rma", case_id=str(rma_id), case_ref="")
    assert (await loans.get_loan(loan_id))["case_finished_at"] is None
    record = await rma.get_rma(rma_id)
    await rma.ship(factories.DESK, rma_id, record["version"], carrier="顺丰", tracking_no="SF123",
                   customer_told_on=business_today().isoformat())
    assert (await loans.get_loan(loan_id))["case_finished_at"] is not None

"""Loaner services (issue #6): check-out, check-in, overdue, closing rule, conversion, races (R-LOAN-01…03)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.core.hooks import close_blockers
from app.core.db import fetch, new_form_token, write_transaction
from app.loaners import services as loans
from app.core.errors import DomainError
from app.loaners.services import CheckinInput, CheckoutInput
from app.parts import services as parts
from seed.factories import unique
from tests.loaners.factories import checkout, desk, future, keeper, make_customer, make_device, make_loaner


@pytest.fixture
def no_rma(monkeypatch):
    """As before issue #5 landed: no RMA module, RMAs are linked by number only."""
    monkeypatch.setattr(loans._base, "_rma_services", lambda: None)


@pytest.fixture
def fake_rma(monkeypatch):
    """An RMA module answering for RMA #5001 (customer given by the test via .customer_id)."""
    import types

    state = types.SimpleNamespace(customer_id=None, finished=False)

    async def get_rma(rma_id):
        if int(rma_id) != 5001:
            return None
        return {"id": 5001, "number": "RMA-2026-005001", "customer_id": state.customer_id, "status": "repairing",
                "is_finished": state.finished, "received_at": loans.utcnow() - dt.timedelta(hours=30)}

    module = types.SimpleNamespace(get_rma=get_rma)
    monkeypatch.setattr(loans._base, "_rma_services", lambda: module)
    return state


async def loans_of_unit(unit_id: int) -> int:
    return int((await fetch("SELECT COUNT(*) AS n FROM loan WHERE serial_unit_id = {}", unit_id))[0]["n"])


async def moves_of_unit(unit_id: int) -> int:
    return int((await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE serial_unit_id = {}", unit_id))[0]["n"])


async def test_r_loan_01_checkout_moves_unit_to_customer_with_numbered_notice():
    """R-LOAN-01/03: check-out draws a BP notice number, moves the unit LOANER → CUSTOMER (loan_out), records the loan."""
    actor = await keeper()
    part_id, unit_id, serial = await make_loaner()
    customer = await make_customer()
    loan_id = await checkout(actor, serial, customer, case_ref="FW-1")
    loan = await loans.get_loan(loan_id)
    assert loan["number"].startswith("BP-") and loan["status"] == "out"
    assert loan["serial"] == serial and loan["customer_id"] == customer and loan["case_ref"] == "FW-1"
    name = (await fetch("SELECT full_name FROM app_user WHERE id = {}", actor.user_id))[0]["full_name"]
    assert loan["condition_out"] and loan["out_by_name"] == name  # X-04: the person's name, read from the user
    unit = await parts.get_unit(unit_id)
    assert unit["location_code"] == "CUSTOMER" and unit["status"] == "at_customer"
    move = (await fetch("SELECT * FROM stock_move WHERE serial_unit_id = {} ORDER BY id DESC LIMIT 1", unit_id))[0]
    assert move["kind"] == "loan_out" and move["document_type"] == "loan" and move["document_id"] == loan["number"]
    audit = await fetch("SELECT * FROM audit_event WHERE action = 'loan.checked_out' AND entity_id = {}", str(loan_id))
    assert len(audit) == 1
    assert (await parts.reconcile(part_id))["mismatches"] == []


async def test_checkout_refuses_unit_not_in_pool_and_writes_nothing():
    """A unit in the central warehouse is not a loaner: clear message on the serial, nothing written."""
    actor = await keeper()
    _part, unit_id, serial = await make_loaner(location="CENTRAL")
    customer = await make_customer()
    before = await moves_of_unit(unit_id)
    with pytest.raises(DomainError) as err:
        await checkout(actor, serial, customer)
    assert "备品池" in err.value.errors["serial"] or "loaner pool" in err.value.errors["serial"]
    assert await loans_of_unit(unit_id) == 0 and await moves_of_unit(unit_id) == before


async def test_checkout_refuses_unknown_serial_and_past_return_date():
    """Unknown serial and a return date in the past are refused with field messages."""
    actor = await keeper()
    _part, unit_id, serial = await make_loaner()
    customer = await make_customer()
    with pytest.raises(DomainError) as err:
        await checkout(actor, "NO-SUCH-" + unique("x"), customer)
    assert "serial" in err.value.errors
    with pytest.raises(DomainError) as err:
        await checkout(actor, serial, customer, days=-1)
    assert "expected_return" in err.value.errors and err.value.status == 400
    assert await loans_of_unit(unit_id) == 0


async def test_checkout_case_rules_rma_ticket_standalone(no_rma):
    """RMA needs the repair, a ticket its number, a standalone loan a reason; each is stored as given."""
    actor = await keeper()
    customer = await make_customer()
    _p, _u, serial = await make_loaner()
    with pytest.raises(DomainError) as err:
        await checkout(actor, serial, customer, case_type="rma", case_id="")
    assert "case_id" in err.value.errors
    with pytest.raises(DomainError) as err:
        await checkout(actor, serial, customer, case_type="ticket", case_ref="")
    assert "case_ref" in err.value.errors
    with pytest.raises(DomainError) as err:
        await checkout(actor, serial, customer, case_type="standalone", case_ref="", reason="  ")
    assert "reason" in err.value.errors
    loan_id = await checkout(actor, serial, customer, case_type="standalone", case_ref="", reason="客户临时借用")
    loan = await loans.get_loan(loan_id)
    assert loan["case_type"] == "standalone" and loan["reason"] == "客户临时借用"
    _p, _u, serial2 = await make_loaner()
    rma_loan = await loans.get_loan(await checkout(actor, serial2, customer, case_type="rma", case_id="4242", case_ref=""))
    assert rma_loan["case_type"] == "rma" and rma_loan["case_id"] == 4242


async def test_checkout_fills_device_and_refuses_device_of_another_customer():
    """The customer's unit taken away is recorded on the notice; a device of another customer is refused."""
    actor = await keeper()
    customer, other = await make_customer(), await make_customer()
    device = await make_device(customer)
    dev_serial = (await fetch("SELECT serial FROM device WHERE id = {}", device))[0]["serial"]
    _p, _u, serial = await make_loaner()
    with pytest.raises(DomainError) as err:
        await checkout(actor, serial, other, device_serial=dev_serial.lower())
    assert "device_serial" in err.value.errors
    loan = await loans.get_loan(await checkout(actor, serial, customer, device_serial=dev_serial.lower()))
    assert loan["device_serial"] == dev_serial and loan["device_model"]


async def test_only_keepers_check_out():
    """The desk may not check out (403 in the service too)."""
    _p, unit_id, serial = await make_loaner()
    with pytest.raises(DomainError) as err:
        await checkout(await desk(), serial, await make_customer())
    assert err.value.status == 403 and await loans_of_unit(unit_id) == 0


async def test_race_two_keepers_same_unit_one_wins_other_told_who_has_it():
    """Two keepers check out the same unit at the same moment: one loan, the loser is told who has it."""
    k1, k2 = await keeper(), await keeper()
    part_id, unit_id, serial = await make_loaner()
    c1, c2 = await make_customer(), await make_customer()
    results = await asyncio.gather(checkout(k1, serial, c1, token=unique("tok")), checkout(k2, serial, c2, token=unique("tok")),
                                   return_exceptions=True)
    wins = [r for r in results if isinstance(r, int)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(losses) == 1, results
    loan = await loans.get_loan(wins[0])
    message = losses[0].errors["serial"]
    assert loan["number"] in message and loan["out_by_name"] in message
    assert await loans_of_unit(unit_id) == 1
    assert (await parts.reconcile(part_id))["mismatches"] == []


async def test_race_many_keepers_same_unit():
    """Eight keepers at once on one unit: exactly one loan, every loser gets the notice number."""
    keepers = [await keeper() for _ in range(8)]
    _p, unit_id, serial = await make_loaner()
    customer = await make_customer()
    results = await asyncio.gather(*[checkout(k, serial, customer) for k in keepers], return_exceptions=True)
    wins = [r for r in results if isinstance(r, int)]
    assert len(wins) == 1, results
    number = (await loans.get_loan(wins[0]))["number"]
    assert all(isinstance(r, DomainError) and number in r.message for r in results if not isinstance(r, int))
    assert await loans_of_unit(unit_id) == 1


async def test_double_submit_same_token_ten_times_books_one_loan():
    """The same one-time token submitted 10× at once → one loan; the others point at it."""
    actor = await keeper()
    _p, unit_id, serial = await make_loaner()
    customer = await make_customer()
    token = new_form_token()
    results = await asyncio.gather(*[checkout(actor, serial, customer, token=token, case_ref="FW-9") for _ in range(10)],
                                   return_exceptions=True)
    wins = [r for r in results if isinstance(r, int)]
    assert len(wins) == 1, results

    def is_dup(r):
        return isinstance(r, DomainError) and (r.current or {}).get("kind") == loans.DUPLICATE

    dups = [r for r in results if is_dup(r)]
    others = [r for r in results if isinstance(r, DomainError) and not is_dup(r)]
    assert len(dups) + len(others) == 9
    assert all(d.status == 409 and d.current["loan_id"] in (None, wins[0]) for d in dups)
    assert await loans_of_unit(unit_id) == 1
    again = await asyncio.gather(checkout(actor, serial, customer, token=token), return_exceptions=True)
    assert is_dup(again[0]) and again[0].current["loan_id"] == wins[0] and again[0].link == f"/loaners/{wins[0]}"


async def test_checkin_pass_returns_unit_to_pool():
    """Check-in with a passed test: loan returned, unit back in LOANER (loan_back), notice recalled by dispatch slip."""
    actor = await keeper()
    part_id, unit_id, serial = await make_loaner()
    loan_id = await checkout(actor, serial, await make_customer())
    assert await loans.check_in(actor, CheckinInput(serial=serial, condition_in="完好", test_result="pass",
                                                     recall_ref="PG-2026-000007")) == loan_id
    loan = await loans.get_loan(loan_id)
    assert loan["status"] == "returned" and loan["returned_to"] == "pool" and loan["test_result"] == "pass"
    assert loan["recall_ref"] == "PG-2026-000007" and loan["recalled_at"] is not None
    unit = await parts.get_unit(unit_id)
    assert unit["location_code"] == "LOANER" and unit["status"] == "in_stock"
    kinds = [r["kind"] for r in await fetch("SELECT kind FROM stock_move WHERE serial_unit_id = {} ORDER BY id", unit_id)]
    assert kinds[-2:] == ["loan_out", "loan_back"]
    assert (await parts.reconcile(part_id))["mismatches"] == []


@pytest.mark.parametrize("destination,code", [("bench", "BENCH"), ("quarantine", "QUARANTINE")])
async def test_checkin_failed_test_goes_to_bench_or_quarantine(destination, code):
    """A unit that fails the check-in test goes to the bench or quarantine, not the pool."""
    actor = await keeper()
    _p, unit_id, serial = await make_loaner()
    loan_id = await checkout(actor, serial, await make_customer())
    await loans.check_in(actor, CheckinInput(serial=serial, condition_in="外壳破损", test_result="fail",
                                             destination=destination, test_note="无法开机"))
    assert (await parts.get_unit(unit_id))["location_code"] == code
    assert (await loans.get_loan(loan_id))["returned_to"] == destination


async def test_checkin_refuses_bad_input_and_unit_not_out():
    """Check-in of a unit that is not out, a missing test result, a failed test without destination → nothing written."""
    actor = await keeper()
    _p, unit_id, serial = await make_loaner()
    with pytest.raises(DomainError) as err:
        await loans.check_in(actor, CheckinInput(serial=serial, condition_in="ok", test_result="pass"))
    assert "serial" in err.value.errors
    loan_id = await checkout(actor, serial, await make_customer())
    before = await moves_of_unit(unit_id)
    with pytest.raises(DomainError) as err:
        await loans.check_in(actor, CheckinInput(serial=serial, condition_in="ok", test_result=""))
    assert "test_result" in err.value.errors
    with pytest.raises(DomainError) as err:
        await loans.check_in(actor, CheckinInput(serial=serial, condition_in="ok", test_result="fail", test_note="坏"))
    assert "destination" in err.value.errors
    assert (await loans.get_loan(loan_id))["status"] == "out" and await moves_of_unit(unit_id) == before


async def test_checkin_twice_at_once_books_once():
    """Two keepers check the same loaner in at once: one return, one 409."""
    k1, k2 = await keeper(), await keeper()
    _p, unit_id, serial = await make_loaner()
    loan_id = await checkout(k1, serial, await make_customer())
    data = CheckinInput(serial=serial, condition_in="ok", test_result="pass")
    results = await asyncio.gather(loans.check_in(k1, data, loan_id), loans.check_in(k2, data, loan_id),
                                   return_exceptions=True)
    assert results.count(loan_id) == 1 and any(isinstance(r, DomainError) for r in results)
    backs = await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE serial_unit_id = {} AND kind = 'loan_back'", unit_id)
    assert int(backs[0]["n"]) == 1


async def backdate(loan_id: int, days: int) -> None:
    async with write_transaction():
        await fetch("UPDATE loan SET expected_return = {} WHERE id = {}", loans.today() - dt.timedelta(days=days), loan_id)


async def test_r_loan_03_overdue_list():
    """R-LOAN-03: a loan past its expected return is on the overdue list (oldest first) and counted."""
    actor = await keeper()
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(actor, serial, await make_customer())
    rows, _c = await loans.overdue(limit=10000)
    assert loan_id not in [r["id"] for r in rows]
    before = await loans.overdue_count()
    await backdate(loan_id, 3)
    rows, _c = await loans.overdue(limit=10000)
    hit = [r for r in rows if r["id"] == loan_id]
    assert hit and hit[0]["days_overdue"] == 3
    assert await loans.overdue_count() == before + 1


async def test_overdue_keyset_pages_do_not_repeat():
    """Keyset pages of the overdue list cover every row once."""
    actor = await keeper()
    customer = await make_customer()
    for days in (5, 5, 6):
        _p, _u, serial = await make_loaner()
        await backdate(await checkout(actor, serial, customer), days)
    seen, cursor = [], None
    while True:
        after = None
        if cursor:
            d, i = cursor.split("_")
            after = (dt.date.fromisoformat(d), int(i))
        rows, cursor = await loans.overdue(after=after, limit=2)
        seen += [r["id"] for r in rows]
        if not cursor:
            break
    assert len(seen) == len(set(seen)) == await loans.overdue_count()


async def test_case_finished_while_loaner_out_is_listed(no_rma):
    """A finished case whose loaner is still out appears on the follow-up list until the check-in."""
    actor = await keeper()
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(actor, serial, await make_customer(), case_type="rma", case_id="77001", case_ref="")
    async with write_transaction():
        assert await loans.note_case_finished("rma", case_id=77001) == 1
    assert loan_id in [r["id"] for r in await loans.finished_still_out(limit=10000)]
    await loans.check_in(actor, CheckinInput(serial=serial, condition_in="ok", test_result="pass"))
    assert loan_id not in [r["id"] for r in await loans.finished_still_out(limit=10000)]
    _p, _u, serial2 = await make_loaner()
    other = await checkout(actor, serial2, await make_customer())
    await loans.mark_case_finished(actor, other)
    assert other in [r["id"] for r in await loans.finished_still_out(limit=10000)]


async def test_closing_rule_rma_and_ticket_blocked_while_loaner_out(no_rma):
    """Issue #6 §6: close_blockers() names the open loan with its URL; after the check-in nothing blocks."""
    actor = await keeper()
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(actor, serial, await make_customer(), case_type="rma", case_id="88001", case_ref="")
    blockers = await close_blockers("rma", 88001)
    assert len(blockers) == 1 and blockers[0].url == f"/loaners/{loan_id}" and blockers[0].kind == "loaner"
    assert serial in blockers[0].message
    assert await close_blockers("rma", 88002) == []
    _p, _u, serial2 = await make_loaner()
    ticket_loan = await checkout(actor, serial2, await make_customer(), case_type="ticket", case_ref="88003")
    assert [b.url for b in await close_blockers("ticket", 88003)] == [f"/loaners/{ticket_loan}"]
    await loans.check_in(actor, CheckinInput(serial=serial, condition_in="ok", test_result="pass"))
    assert await close_blockers("rma", 88001) == []


async def test_r_scr_01_permanent_replacement_converts_loaner_into_customer_unit():
    """R-SCR-01: the loaner becomes the customer's device; the unit leaves the stock; the notice is annotated."""
    actor = await keeper()
    part_id, unit_id, serial = await make_loaner()
    customer = await make_customer()
    loan_id = await checkout(actor, serial, customer)
    with pytest.raises(DomainError) as err:
        await loans.convert_to_permanent(actor, loan_id, approval_ref="")
    assert "approval_ref" in err.value.errors
    await loans.convert_to_permanent(actor, loan_id, approval_ref="BF-2026-000003", note="原机报废")
    loan = await loans.get_loan(loan_id)
    assert loan["status"] == "converted" and loan["conversion_ref"] == "BF-2026-000003"
    unit = await parts.get_unit(unit_id)
    assert unit["location_id"] is None and unit["status"] == "issued"
    device = await fetch("SELECT customer_id FROM device WHERE serial = {}", serial.upper())
    assert device and device[0]["customer_id"] == customer
    assert (await parts.reconcile(part_id))["mismatches"] == []
    with pytest.raises(DomainError):
        await loans.check_in(actor, CheckinInput(serial=serial, condition_in="ok", test_result="pass"))


async def test_request_is_fulfilled_once_by_checkout():
    """The desk requests a loaner; the keeper's check-out fulfils it; a second fulfilment is refused."""
    d, k = await desk(), await keeper()
    customer = await make_customer()
    req = await loans.create_request(d, loans.RequestInput(customer_id=str(customer), case_type="ticket", case_ref="FW-77",
                                                          trigger_rule="not_fixed_on_site", reason="现场2小时未修复"))
    assert req in [r["id"] for r in await loans.open_requests(limit=10000)]
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(k, serial, customer, case_ref="FW-77", request_id=str(req))
    assert (await loans.get_request(req))["status"] == "fulfilled"
    assert (await loans.get_request(req))["loan_id"] == loan_id
    _p, unit2, serial2 = await make_loaner()
    with pytest.raises(DomainError) as err:
        await checkout(k, serial2, customer, case_ref="FW-77", request_id=str(req))
    assert err.value.status == 409 and await loans_of_unit(unit2) == 0
    assert await loans.recorded_triggers("ticket", "FW-77")


async def test_request_refused_for_finance_and_bad_input():
    """Finance cannot request; a request needs a customer and a date not in the past."""
    finance = loans.Actor(user_id=None, username="f", roles=frozenset({"finance"}))
    with pytest.raises(DomainError) as err:
        await loans.create_request(finance, loans.RequestInput(customer_id="1", case_type="standalone", reason="x"))
    assert err.value.status == 403
    with pytest.raises(DomainError) as err:
        await loans.create_request(await desk(), loans.RequestInput(customer_id="", case_type="standalone", reason="x",
                                                                    needed_by="2001-01-01"))
    assert {"customer_id", "needed_by"} <= set(err.value.errors)


async def test_availability_by_model_counts_pool_and_out():
    """Availability by model: units in the pool vs. out on loan ("2 of 3 available")."""
    actor = await keeper()
    model = unique("DS-7808N-AV")
    part_id, _u, serial = await make_loaner(model=model)
    await make_loaner(part_id)
    await make_loaner(part_id)
    await checkout(actor, serial, await make_customer())
    rows = await loans.availability(model)
    row = next(r for r in rows if r["part_id"] == part_id)
    assert (row["available"], row["out"], row["total"]) == (2, 1, 3)
    units, _c = await loans.pool_units(part_id=part_id)
    assert len(units) == 2


async def test_rma_case_checked_against_rma_module_and_customer_prefilled(fake_rma):
    """With the RMA module: an unknown RMA is refused; a known one gives its number and customer."""
    actor = await keeper()
    customer = await make_customer()
    fake_rma.customer_id = customer
    _p, unit_id, serial = await make_loaner()
    with pytest.raises(DomainError) as err:
        await checkout(actor, serial, customer, case_type="rma", case_id="5002", case_ref="")
    assert "case_id" in err.value.errors and await loans_of_unit(unit_id) == 0
    loan_id = await checkout(actor, serial, "", case_type="rma", case_id="5001", case_ref="")
    loan = await loans.get_loan(loan_id)
    assert loan["case_ref"] == "RMA-2026-005001" and loan["customer_id"] == customer
    hits = await loans.triggers_for_case("rma", 5001)
    assert [h.rule for h in hits] == ["long_maintenance"]  # received 30 h ago > 12 h (R-LOAN-02)
    fake_rma.finished = True
    assert await loans.refresh_finished_cases() >= 1
    assert loan_id in [r["id"] for r in await loans.finished_still_out(limit=10000)]
    await loans.check_in(actor, CheckinInput(serial=serial, condition_in="ok", test_result="pass"))


async def test_only_the_requester_or_the_keeper_cancels_a_request():
    """Another desk user cannot cancel someone's loaner request (403, still open); the requester and the keeper can."""
    asker, other, k = await desk(), await desk(), await keeper()
    customer = await make_customer()

    async def new_request() -> int:
        return await loans.create_request(asker, loans.RequestInput(customer_id=str(customer), case_type="standalone",
                                                                    reason="客户临时需要"))

    first, second = await new_request(), await new_request()
    with pytest.raises(DomainError) as err:
        await loans.cancel_request(other, first)
    assert err.value.status == 403 and (await loans.get_request(first))["status"] == "open"
    await loans.cancel_request(asker, first)
    await loans.cancel_request(k, second)
    assert (await loans.get_request(first))["status"] == (await loans.get_request(second))["status"] == "cancelled"

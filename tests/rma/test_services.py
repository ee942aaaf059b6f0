"""Service tests for the bench pipeline, one rule each (R-RMA-01…08)."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.core.dates import today as business_today

from app.core import hooks
from app.core.db import fetch
from app.core.errors import DomainError, Stale
from app.rma import services as svc
from seed.factories import unique
from tests.rma.factories import (BENCH, DESK, FINANCE, MANAGER, age_qc, end_burn_in, make_device_for_rma, make_rma,
                                 pay_quote)


async def test_receive_fills_device_customer_warranty_and_number():
    """R-RMA-01: a scanned serial fills device, customer and warranty; the RMA gets an RMA- number."""
    device_id, serial = await make_device_for_rma()
    rma_id, number = await svc.receive(BENCH, svc.IntakeInput(serial=serial.lower(), fault_reported="花屏", appearance="ok"))
    rma = await svc.get_rma(rma_id)
    assert number.startswith("RMA-") and rma["number"] == number
    assert rma["device_id"] == device_id and rma["customer_name"] and rma["in_warranty"]
    assert rma["status"] == "inspected" and rma["region"]
    steps = await svc.timeline(rma_id)
    assert [(t["from_status"], t["to_status"]) for t in steps] == [("", "received"), ("received", "inspected")]


async def test_receive_bad_input_writes_nothing():
    """X-05: damage without the call record, no fault → 400 with field errors; no row."""
    serial = unique("NOPE").upper()
    with pytest.raises(DomainError) as exc:
        await svc.receive(BENCH, svc.IntakeInput(serial=serial, appearance="damaged"))
    assert {"customer_name", "fault_reported", "damage_call", "damage_cause"} <= set(exc.value.errors)
    assert not await fetch("SELECT id FROM rma WHERE serial = {}", serial)


async def test_receive_same_unit_twice_refused():
    """One unit is on the bench once."""
    _d, serial = await make_device_for_rma()
    await svc.receive(BENCH, svc.IntakeInput(serial=serial, fault_reported="x"))
    with pytest.raises(DomainError) as exc:
        await svc.receive(BENCH, svc.IntakeInput(serial=serial, fault_reported="x"))
    assert "serial" in exc.value.errors


async def test_unknown_serial_with_customer_name_accepted():
    """A unit not in the installed base is received with the customer typed in."""
    rma_id, _n = await svc.receive(BENCH, svc.IntakeInput(serial=unique("X").upper(), customer_name="散客张", fault_reported="坏"))
    rma = await svc.get_rma(rma_id)
    assert rma["device_id"] is None and rma["status"] == "received"


async def test_unbox_damaged_requires_call_and_cause():
    """R-RMA-01: damage → the customer is phoned and the cause recorded."""
    rma_id = await make_rma("received")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.unbox(BENCH, rma_id, rma["version"], appearance="damaged")
    assert {"damage_call", "damage_cause"} <= set(exc.value.errors)
    await svc.unbox(BENCH, rma_id, rma["version"], appearance="damaged", damage_call="已致电", damage_cause="快递")
    assert (await svc.get_rma(rma_id))["status"] == "inspected"


async def test_full_pipeline_records_every_transition():
    """R-RMA-01: every stage to closed, who and when on each transition, versions consecutive."""
    rma_id = await make_rma("closed")
    rma = await svc.get_rma(rma_id)
    steps = await svc.timeline(rma_id)
    assert rma["status"] == "closed" and rma["outcome"] == "repaired" and rma["exception_number"].startswith("YC-")
    assert [t["version"] for t in steps] == list(range(1, rma["version"] + 1))
    assert all(t["username"] and t["created_at"] for t in steps)
    assert [t["to_status"] for t in steps][-4:] == ["shipped", "delivered", "called_back", "closed"]
    assert (await fetch("SELECT status FROM rma_callback WHERE rma_id = {}", rma_id))[0]["status"] == "done"


async def test_twenty_concurrent_advances_move_once():
    """Quality bar: 20 concurrent clicks on one card → 1 transition, 19 'already moved', 1 row."""
    rma_id = await make_rma("inspected")
    rma = await svc.get_rma(rma_id)
    before = len(await svc.timeline(rma_id))
    results = await asyncio.gather(*[svc.confirm(BENCH, rma_id, rma["version"]) for _ in range(20)],
                                   return_exceptions=True)
    ok = [r for r in results if isinstance(r, dict)]
    stale = [r for r in results if isinstance(r, Stale)]
    assert len(ok) == 1 and len(stale) == 19, results
    assert all("bench-test" in s.message for s in stale)
    assert len(await svc.timeline(rma_id)) == before + 1
    assert (await svc.get_rma(rma_id))["version"] == rma["version"] + 1


async def test_illegal_transition_refused_with_reason():
    """A transition from the wrong stage is refused (409) and changes nothing."""
    rma_id = await make_rma("inspected")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.start_repair(BENCH, rma_id, rma["version"])
    assert exc.value.status == 409 and not isinstance(exc.value, Stale)
    assert (await svc.get_rma(rma_id))["version"] == rma["version"]


async def test_roles_refused():
    """Only bench/qc move bench stages; desk cannot QC, bench cannot record payments."""
    rma_id = await make_rma("registered")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.qc(DESK, rma_id, rma["version"], fault_code="X", fault_confirmed="y")
    assert exc.value.status == 403
    with pytest.raises(DomainError) as exc:
        await svc.record_payment(BENCH, rma_id, token="t", amount="1", received_on="2026-01-01", method="cash")
    assert exc.value.status == 403


async def test_qc_opens_numbered_exception_slip_and_records_failure():
    """QC confirms the fault: exception slip YC-…, the device history gets the failure (R-CUS-05)."""
    rma_id = await make_rma("registered")
    rma = await svc.get_rma(rma_id)
    await svc.qc(BENCH, rma_id, rma["version"], fault_code="no video", fault_confirmed="无视频输出", unresolvable=True)
    rma = await svc.get_rma(rma_id)
    slip = await fetch("SELECT * FROM rma_exception_slip WHERE rma_id = {}", rma_id)
    assert slip[0]["number"] == rma["exception_number"] and rma["qc_at"] is not None
    events = await fetch("SELECT * FROM device_event WHERE device_id = {} AND source_type = 'rma'", rma["device_id"])
    assert events and events[0]["fault_code"] == "NO-VIDEO" and events[0]["unresolvable"]


async def test_second_repair_of_same_fault_proposes_replacement():
    """R-CUS-06: the same device returned a third time with the same fault → replacement proposed."""
    device_id, serial = await make_device_for_rma()
    for _ in range(2):
        rid = await make_rma("ready_to_ship", serial=serial)
        rma = await svc.get_rma(rid)
        await svc.ship(BENCH, rid, rma["version"], carrier="EMS", tracking_no="1", customer_told_on=business_today())
    rid = await make_rma("waiting", serial=serial)
    assert (await svc.get_rma(rid))["replacement_proposed"]


async def test_burn_in_not_finished_final_test_refused():
    """Rule: a passing final test before the burn-in time has elapsed is refused."""
    rma_id = await make_rma("burn_in")
    rma = await svc.get_rma(rma_id)
    assert rma["burn_in_hours"] == 24
    with pytest.raises(DomainError) as exc:
        await svc.final_test(BENCH, rma_id, rma["version"], result="pass")
    assert "Burn-in" in exc.value.message or "老化" in exc.value.message
    assert (await svc.get_rma(rma_id))["status"] == "burn_in"
    await end_burn_in(rma_id)
    await svc.final_test(BENCH, rma_id, rma["version"], result="pass")
    assert (await svc.get_rma(rma_id))["status"] == "ready_to_ship"


async def test_burn_in_hours_per_model_minimum():
    """Burn-in duration per product: the model's hours are the minimum."""
    model = unique("BURN")
    await svc.set_burn_in_hours(MANAGER, model, 48)
    rma_id = await make_rma("repaired", model=model)
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.start_burn_in(BENCH, rma_id, rma["version"], hours="24")
    assert "hours" in exc.value.errors
    await svc.start_burn_in(BENCH, rma_id, rma["version"])
    assert (await svc.get_rma(rma_id))["burn_in_hours"] == 48


async def test_failed_final_test_back_to_repair_counts_rework():
    """A failed final test sends the unit back to repair and counts as rework."""
    rma_id = await make_rma("burn_in")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError):
        await svc.final_test(BENCH, rma_id, rma["version"], result="fail")  # a reason is required
    await svc.final_test(BENCH, rma_id, rma["version"], result="fail", note="老化中死机")
    rma = await svc.get_rma(rma_id)
    assert rma["status"] == "repairing" and rma["rework_count"] == 1


async def test_out_of_warranty_repair_refused_until_paid():
    """R-RMA-04: unpaid out-of-warranty → repair refused; cost → quote → accept → pay → starts."""
    rma_id = await make_rma("waiting", in_warranty=False)
    rma = await svc.get_rma(rma_id)
    assert not rma["in_warranty"]
    with pytest.raises(DomainError):
        await svc.start_repair(BENCH, rma_id, rma["version"])
    await svc.cost_quote(BENCH, rma_id, fault="主板", amount="280")
    await svc.send_quote(DESK, rma_id)
    await svc.customer_decision(DESK, rma_id, accept=True)
    with pytest.raises(DomainError) as exc:
        await svc.start_repair(BENCH, rma_id, rma["version"])
    assert exc.value.status == 409
    quote = await svc.get_quote(rma_id)
    assert quote["receivable_id"] and not quote["is_paid"]
    await svc.record_payment(FINANCE, rma_id, token=unique("tok"), amount="280.00", received_on=business_today().isoformat(),
                             method="cash")
    assert (await svc.get_quote(rma_id))["is_paid"]
    await svc.start_repair(BENCH, rma_id, rma["version"])
    assert (await svc.get_rma(rma_id))["status"] == "repairing"


async def test_declined_quote_ships_back_unrepaired():
    """R-RMA-04: declined → shipped back unrepaired; repair cannot start."""
    rma_id = await make_rma("waiting", in_warranty=False)
    await svc.cost_quote(BENCH, rma_id, fault="主板", amount="280")
    await svc.send_quote(DESK, rma_id)
    await svc.customer_decision(DESK, rma_id, accept=False, note="太贵")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError):
        await svc.start_repair(BENCH, rma_id, rma["version"])
    await svc.ship_unrepaired(BENCH, rma_id, rma["version"])
    rma = await svc.get_rma(rma_id)
    assert rma["status"] == "ready_to_ship" and rma["outcome"] == "unrepaired"


async def test_ship_unrepaired_refused_without_reason():
    """An in-warranty unit nobody declined is not returned unrepaired."""
    rma_id = await make_rma("waiting")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError):
        await svc.ship_unrepaired(BENCH, rma_id, rma["version"])


async def test_three_day_breach_raises_exactly_one_application():
    """R-RMA-03: past 3 days after QC with intact appearance → exactly one replacement application."""
    rma_id = await make_rma("repairing")
    damaged = await make_rma("repairing", appearance="damaged")
    fresh = await make_rma("repairing")
    await age_qc(rma_id, 3.5)
    await age_qc(damaged, 3.5)
    await asyncio.gather(*[svc.sweep_three_day() for _ in range(5)], return_exceptions=True)
    await svc.sweep_three_day()
    assert len(await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", rma_id)) == 1
    assert not await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", damaged)
    assert not await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", fresh)


async def test_replacement_approved_issues_unit_and_quarantines_faulty():
    """R-RMA-03: approved → new unit issued from stock via the parts ledger, faulty one to quarantine."""
    from seed.parts import make_part, stock_unit

    rma_id = await make_rma("repairing")
    await age_qc(rma_id, 4)
    await svc.sweep_three_day()
    app = (await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", rma_id))[0]
    part_id = await make_part(serialised=True, category="device")
    new_serial = unique("NEW")
    await stock_unit(part_id, "CENTRAL", new_serial)
    with pytest.raises(DomainError):
        await svc.decide_replacement(MANAGER, app["id"], approve=True, new_serial="NOSUCH")
    await svc.decide_replacement(MANAGER, app["id"], approve=True, new_serial=new_serial)
    rma = await svc.get_rma(rma_id)
    assert rma["status"] == "ready_to_ship" and rma["outcome"] == "replaced"
    new_unit = await fetch("SELECT su.status, l.code FROM serial_unit su JOIN stock_location l ON l.id = su.location_id "
                           "WHERE su.serial = {}", new_serial)
    assert new_unit[0]["code"] == "CUSTOMER"
    faulty = await fetch("SELECT l.code FROM serial_unit su JOIN stock_location l ON l.id = su.location_id "
                         "WHERE su.serial = {}", rma["serial"])
    assert faulty[0]["code"] == "QUARANTINE"
    with pytest.raises(DomainError) as exc:
        await svc.decide_replacement(MANAGER, app["id"], approve=False, note="again")
    assert exc.value.status == 409


async def test_replacement_decision_manager_only():
    """Only the manager approves replacements."""
    rma_id = await make_rma("repairing")
    await age_qc(rma_id, 4)
    await svc.sweep_three_day()
    app = (await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", rma_id))[0]
    with pytest.raises(DomainError) as exc:
        await svc.decide_replacement(BENCH, app["id"], approve=False, note="no")
    assert exc.value.status == 403


async def test_parts_consumed_from_bench_location():
    """Parts used on the bench leave the BENCH location through the parts ledger; shortage refused."""
    from app.parts import services as parts
    from seed.parts import make_part, stock

    part_id = await make_part()
    part = await parts.get_part(part_id)
    await stock(part_id, "BENCH", 3)
    rma_id = await make_rma("repairing")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.repaired(BENCH, rma_id, rma["version"], fault_found="换电容", part_no=part["part_no"], qty=5)
    assert exc.value.status == 409 and (await svc.get_rma(rma_id))["status"] == "repairing"
    await svc.repaired(BENCH, rma_id, rma["version"], fault_found="换电容", part_no=part["part_no"], qty=2)
    assert await parts.on_hand(part_id, "BENCH") == 1
    uses = await fetch("SELECT qty, move_id FROM rma_part_use WHERE rma_id = {}", rma_id)
    assert uses[0]["qty"] == 2 and uses[0]["move_id"]


async def test_close_refused_while_loaner_out():
    """Issue #6 hook: an RMA with a loaner out at the customer cannot close; the blocker's message is shown."""
    rma_id = await make_rma("called_back")

    async def guard(case_id: int) -> list[hooks.Blocker]:
        return [hooks.Blocker(message="备品未归还", url="/loaners/1", kind="loaner")] if case_id == rma_id else []

    hooks.register_close_guard("rma", guard)
    try:
        rma = await svc.get_rma(rma_id)
        with pytest.raises(DomainError) as exc:
            await svc.close(DESK, rma_id, rma["version"])
        assert exc.value.message == "备品未归还" and exc.value.link == "/loaners/1"
    finally:
        hooks._CLOSE_GUARDS["rma"].remove(guard)
    await svc.close(DESK, rma_id, rma["version"])


async def test_ship_requires_fields_and_creates_callback():
    """R-RMA-06 / R-CB-01: carrier, tracking, told date required; a callback to-do is created."""
    rma_id = await make_rma("ready_to_ship")
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.ship(BENCH, rma_id, rma["version"], carrier="", tracking_no="", customer_told_on="bad")
    assert {"carrier", "tracking_no", "customer_told_on"} <= set(exc.value.errors)
    await svc.ship(BENCH, rma_id, rma["version"], carrier="顺丰", tracking_no="SF1", customer_told_on=business_today())
    cb = await fetch("SELECT status FROM rma_callback WHERE rma_id = {}", rma_id)
    assert cb[0]["status"] == "open"


async def test_ship_overdue_list():
    """R-RMA-06: completed more than 2 days ago and still here → on the overdue list."""
    rma_id = await make_rma("ready_to_ship")
    from app.core.db import write_transaction

    async with write_transaction():
        await fetch("UPDATE rma SET completed_at = {} WHERE id = {}", svc.utcnow() - dt.timedelta(days=3), rma_id)
    assert rma_id in [r["id"] for r in await svc.overdue_shipments(limit=10000)]


async def test_handover_and_consultation_recorded():
    """R-RMA-05/07: hand-over to the group lead and the customer's answer are recorded."""
    from seed.factories import make_user

    lead = await make_user("bench")
    rma_id = await make_rma("repairing")
    with pytest.raises(DomainError):
        await svc.hand_over(BENCH, rma_id, to_user_id=lead, note="")
    await svc.hand_over(BENCH, rma_id, to_user_id=lead, note="修不好，交组长")
    assert (await svc.get_rma(rma_id))["technician_id"] == lead
    await svc.consult(DESK, rma_id, answer="continue", note="客户同意继续")
    assert len(await fetch("SELECT id FROM rma_consultation WHERE rma_id = {}", rma_id)) == 1


async def test_board_fifo_and_counts():
    """R-RMA-02: cards per stage in first-in first-out order; counts per stage."""
    first = await make_rma("inspected")
    second = await make_rma("inspected")
    data = await svc.board(per_column=100000)
    ids = [c.row["id"] for c in data["columns"]["inspected"]]
    assert ids.index(first) < ids.index(second)
    assert data["counts"]["inspected"] >= 2


async def test_three_day_clock_on_card():
    """R-RMA-03: the card shows hours left of the repair window (negative when breached)."""
    rma_id = await make_rma("repairing")
    await age_qc(rma_id, 4)
    card = await svc.card(rma_id)
    assert card.clock_left_h is not None and card.clock_left_h < 0


async def test_monthly_report():
    """R-RMA-08: by region, repaired vs not, turnaround median/p90, rework rate, suppliers."""
    await make_rma("ready_to_ship")
    month = dt.datetime.now(svc.tz()).strftime("%Y-%m")
    report = await svc.monthly_report(month)
    assert report["received"] >= 1 and report["completed"] >= 1
    assert report["median_days"] is not None and report["p90_days"] is not None
    assert svc.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9


async def test_loaner_read_api():
    """get_rma / rma_options_for_loan for the loaners domain."""
    rma_id = await make_rma("waiting")
    rma = await svc.get_rma(rma_id)
    assert {"number", "customer_id", "customer_name", "device_serial", "model", "status", "is_finished"} <= set(rma)
    assert not rma["is_finished"]
    options = await svc.rma_options_for_loan(rma["number"])
    assert [o["id"] for o in options] == [rma_id]
    assert await svc.get_rma(10**9) is None


async def test_concurrent_replacement_approvals_one_wins():
    """Two managers approving one application at once: one issue, one 409; one unit leaves stock."""
    from seed.parts import make_part, stock_unit

    rma_id = await make_rma("repairing")
    await age_qc(rma_id, 4)
    await svc.sweep_three_day()
    app = (await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", rma_id))[0]
    part_id = await make_part(serialised=True, category="device")
    serials = [unique("NEWC") for _ in range(4)]
    for serial in serials:
        await stock_unit(part_id, "CENTRAL", serial)
    results = await asyncio.gather(*[svc.decide_replacement(MANAGER, app["id"], approve=True, new_serial=s)
                                     for s in serials], return_exceptions=True)
    assert sum(1 for r in results if r is None) == 1
    assert all(isinstance(r, DomainError) and r.status == 409 for r in results if r is not None)
    moved = await fetch("SELECT su.serial FROM serial_unit su JOIN stock_location l ON l.id = su.location_id "
                        "WHERE l.code = 'CUSTOMER' AND su.part_id = {}", part_id)
    assert len(moved) == 1


async def test_three_day_rule_skips_out_of_warranty():
    """R-RMA-03 × R-RMA-04: an out-of-warranty unit is not offered a free replacement."""
    rma_id = await make_rma("repairing", in_warranty=False)
    await age_qc(rma_id, 5)
    await svc.sweep_three_day()
    assert not await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", rma_id)


async def test_confirm_may_correct_phone_and_address():
    """R-RMA-01: registration confirmed with the customer may correct the phone and return address."""
    rma_id = await make_rma("inspected")
    rma = await svc.get_rma(rma_id)
    await svc.confirm(BENCH, rma_id, rma["version"], note="王工", contact_phone="13800000000", address="新地址 1 号")
    rma = await svc.get_rma(rma_id)
    assert rma["contact_phone"] == "13800000000" and rma["address"] == "新地址 1 号" and rma["status"] == "registered"


async def test_concurrent_intake_of_one_unit_creates_one_rma():
    """Two desks receiving the same unit at once: one RMA (partial UNIQUE index), the other refused."""
    _d, serial = await make_device_for_rma()
    results = await asyncio.gather(*[svc.receive(BENCH, svc.IntakeInput(serial=serial, fault_reported="坏"))
                                     for _ in range(6)], return_exceptions=True)
    assert sum(1 for r in results if isinstance(r, tuple)) == 1
    assert all(isinstance(r, DomainError) and "serial" in r.errors for r in results if not isinstance(r, tuple))
    assert len(await fetch("SELECT id FROM rma WHERE serial = {}", serial)) == 1

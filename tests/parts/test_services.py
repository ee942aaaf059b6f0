"""Stock ledger services (R-INV-01…06): rules, refusals, concurrency."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import DB_REFUSED
from app.core.audit.services import Actor
from app.core.db import fetch, write_transaction
from app.parts import emergency, purchasing, services, stocktake
from app.core.errors import DomainError
from app.parts.services import is_duplicate_submit, is_not_enough_stock
from seed.factories import make_user, unique
from seed.parts import KEEPER, make_part, stock, stock_unit

GM = Actor(user_id=None, username="gm-test", roles=frozenset({"gm"}))
MANAGER = Actor(user_id=None, username="mgr-test", roles=frozenset({"manager"}))
WAREHOUSE = Actor(user_id=None, username="wh-test", roles=frozenset({"warehouse"}))
DESK = Actor(user_id=None, username="desk-test", roles=frozenset({"desk"}))


async def ledger_sum(part_id: int, location) -> int:
    loc = await services.location_id(location)
    rows = await fetch(
        "SELECT COALESCE(SUM(CASE WHEN to_location_id = {} THEN qty ELSE 0 END), 0) - "
        "COALESCE(SUM(CASE WHEN from_location_id = {} THEN qty ELSE 0 END), 0) AS s FROM stock_move WHERE part_id = {}",
        loc, loc, part_id)
    return int(rows[0]["s"])


async def moves_of(part_id: int) -> int:
    return int((await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE part_id = {}", part_id))[0]["n"])


async def test_issue_lowers_on_hand_and_writes_one_ledger_row():
    """R-INV-03: an issue to a repair books one movement and lowers on-hand by the same quantity."""
    part = await make_part()
    await stock(part, "BENCH", 5)
    move = await services.issue_to(WAREHOUSE, part, 2, "BENCH", "rma", 42)
    assert move.qty == 2 and move.from_location_id == await services.location_id("BENCH") and move.to_location_id is None
    assert await services.on_hand(part, "BENCH") == 3 == await ledger_sum(part, "BENCH")
    row = (await fetch("SELECT * FROM stock_move WHERE id = {}", move.id))[0]
    assert (row["document_type"], row["document_id"], row["username"]) == ("rma", "42", "wh-test")
    audit = await fetch("SELECT action FROM audit_event WHERE entity_type = 'part' AND entity_id = {} ORDER BY id", str(part))
    assert audit[-1]["action"] == "stock.issue"


async def test_issue_more_than_on_hand_is_refused_with_409_and_nothing_written():
    """R-INV-03: not enough stock → not-enough-stock 409 (409), on-hand and ledger unchanged."""
    part = await make_part()
    await stock(part, "CENTRAL", 1)
    before = await moves_of(part)
    with pytest.raises(DomainError) as err:
        await services.issue_to(WAREHOUSE, part, 2, "CENTRAL", "ticket", 1)
    assert err.value.status == 409 and err.value.current["available"] == 1 and is_not_enough_stock(err.value)
    assert await services.on_hand(part, "CENTRAL") == 1 and await moves_of(part) == before


async def test_out_of_stock_offers_substitutes_in_stock():
    """R-INV-01: a discontinued part out of stock offers its substitutes that are in stock there."""
    sub = await make_part()
    await stock(sub, "CENTRAL", 4)
    sub_no = (await services.get_part(sub))["part_no"]
    old = await make_part(discontinued=True, substitutes=sub_no)
    with pytest.raises(DomainError) as err:
        await services.issue_to(WAREHOUSE, old, 1, "CENTRAL", "ticket", 9)
    assert [s["part_no"] for s in err.value.current["substitutes"]] == [sub_no]


@pytest.mark.parametrize("qty", [0, -1, "x", ""])
async def test_bad_quantity_is_refused(qty):
    """Bad input: zero, negative or non-numeric quantity → clear message on qty, nothing written."""
    part = await make_part()
    await stock(part, "CENTRAL", 3)
    with pytest.raises(DomainError) as err:
        await services.transfer(WAREHOUSE, part, qty, "CENTRAL", "BENCH")
    assert "qty" in err.value.errors and await moves_of(part) == 1


async def test_unknown_part_and_same_location_are_refused():
    """Bad input: unknown part; transfer to the same location."""
    with pytest.raises(DomainError) as err:
        await services.transfer(WAREHOUSE, 99999999, 1, "CENTRAL", "BENCH")
    assert "part" in err.value.errors
    part = await make_part()
    await stock(part, "CENTRAL", 3)
    with pytest.raises(DomainError) as err:
        await services.transfer(WAREHOUSE, part, 1, "CENTRAL", "CENTRAL")
    assert "to_location" in err.value.errors and await moves_of(part) == 1


async def test_only_movers_move_stock():
    """Roles: desk cannot move stock (403); a domain that authorised its user passes check_roles=False."""
    part = await make_part()
    await stock(part, "BENCH", 3)
    with pytest.raises(DomainError) as err:
        await services.issue_to(DESK, part, 1, "BENCH", "rma", 1)
    assert err.value.status == 403
    bench = Actor(user_id=None, username="bench-x", roles=frozenset({"bench"}))
    await services.issue_to(bench, part, 1, "BENCH", "rma", 1, check_roles=False)
    assert await services.on_hand(part, "BENCH") == 2


async def test_ledger_rows_are_append_only():
    """R-INV-03: the database refuses UPDATE and DELETE on ledger rows."""
    part = await make_part()
    await stock(part, "CENTRAL", 1)
    for sql in ("UPDATE stock_move SET qty = 5 WHERE part_id = {}", "DELETE FROM stock_move WHERE part_id = {}"):
        with pytest.raises(DB_REFUSED):
            async with write_transaction():
                await fetch(sql, part)
    assert await ledger_sum(part, "CENTRAL") == 1


async def test_database_refuses_negative_on_hand():
    """R-INV-03: even raw SQL cannot make on-hand negative (CHECK / trigger)."""
    part = await make_part()
    await stock(part, "CENTRAL", 1)
    with pytest.raises(DB_REFUSED):
        async with write_transaction():
            await fetch("UPDATE stock_level SET on_hand = -1 WHERE part_id = {}", part)
    assert await services.on_hand(part, "CENTRAL") == 1


async def test_joins_callers_transaction_and_refusal_keeps_it_usable():
    """Inside a caller's write_transaction the service joins it; a refused issue rolls back only itself."""
    part = await make_part()
    await stock(part, "BENCH", 1)
    async with write_transaction():
        await services.issue_to(WAREHOUSE, part, 1, "BENCH", "rma", 7)
        with pytest.raises(DomainError):
            await services.issue_to(WAREHOUSE, part, 1, "BENCH", "rma", 7)
        await fetch("SELECT 1 AS x")  # the transaction is still usable
    assert await services.on_hand(part, "BENCH") == 0 == await ledger_sum(part, "BENCH")
    # a caller's rollback takes the movement with it
    await stock(part, "BENCH", 1)
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await services.issue_to(WAREHOUSE, part, 1, "BENCH", "rma", 8)
            raise RuntimeError("caller failed")
    assert await services.on_hand(part, "BENCH") == 1 == await ledger_sum(part, "BENCH")


async def test_fifty_concurrent_issues_of_the_last_unit():
    """Quality bar: 50 concurrent issues of the last unit → 1 success, 49 not-enough-stock 409; on-hand 0 = ledger sum."""
    part = await make_part()
    await stock(part, "CENTRAL", 1)
    results = await asyncio.gather(
        *[services.issue_to(WAREHOUSE, part, 1, "CENTRAL", "ticket", n) for n in range(50)], return_exceptions=True)
    ok = [r for r in results if isinstance(r, services.Move)]
    refused = [r for r in results if is_not_enough_stock(r)]
    assert len(ok) == 1 and len(refused) == 49, [r for r in results if not (isinstance(r, services.Move) or is_not_enough_stock(r))]
    assert all(r.status == 409 for r in refused)
    assert await services.on_hand(part, "CENTRAL") == 0 == await ledger_sum(part, "CENTRAL")


async def test_same_serial_unit_transferred_twice_at_once_one_wins():
    """Quality bar: two keepers move the same unit at once → one wins, the other a 409; the unit is where the winner put it."""
    part = await make_part(serialised=True)
    unit_id = await stock_unit(part, "CENTRAL")
    unit = await services.get_unit(unit_id)
    results = await asyncio.gather(
        services.transfer(WAREHOUSE, part, 1, "CENTRAL", "BENCH", serial=unit["serial"]),
        services.transfer(WAREHOUSE, part, 1, "CENTRAL", "LOANER", serial=unit["serial"]),
        return_exceptions=True)
    wins = [r for r in results if isinstance(r, services.Move)]
    losses = [r for r in results if isinstance(r, DomainError)]
    assert len(wins) == 1 and len(losses) == 1 and losses[0].status == 409
    after = await services.get_unit(unit_id)
    assert after["location_id"] == wins[0].to_location_id
    assert await services.on_hand(part, "CENTRAL") == 0
    assert (await services.reconcile(part))["mismatches"] == []


async def test_move_serial_unit_concurrently_by_serial():
    """move_serial_unit (loaners' API): two concurrent loan-outs of one unit → one wins."""
    part = await make_part(serialised=True)
    unit_id = await stock_unit(part, "LOANER")
    serial = (await services.get_unit(unit_id))["serial"]
    results = await asyncio.gather(
        *[services.move_serial_unit(WAREHOUSE, serial, "CUSTOMER", expect_from="LOANER", kind="loan_out",
                                    document_type="loaner", document_id=n) for n in range(5)], return_exceptions=True)
    assert sum(isinstance(r, services.Move) for r in results) == 1
    unit = await services.get_unit(unit_id)
    assert unit["location_code"] == "CUSTOMER" and unit["status"] == "at_customer"
    back = await services.move_serial_unit(WAREHOUSE, unit_id, "LOANER", kind="loan_back", document_type="loaner", document_id=1)
    assert back.from_location_id == await services.location_id("CUSTOMER")


async def test_same_token_posted_ten_times_books_once():
    """Quality bar: the same one-time token used 10 times at once → one movement, nine duplicate-submit 409."""
    part = await make_part()
    await stock(part, "CENTRAL", 20)
    token = services.new_token()
    results = await asyncio.gather(
        *[services.transfer(WAREHOUSE, part, 1, "CENTRAL", "BENCH", token=token) for _ in range(10)], return_exceptions=True)
    assert sum(isinstance(r, services.Move) for r in results) == 1
    assert sum(is_duplicate_submit(r) for r in results) == 9
    assert await services.on_hand(part, "BENCH") == 1


async def test_refused_movement_releases_its_token():
    """A token whose movement was refused (not enough stock) can be used again after fixing the form."""
    part = await make_part()
    token = services.new_token()
    with pytest.raises(DomainError):
        await services.transfer(WAREHOUSE, part, 1, "CENTRAL", "BENCH", token=token)
    await stock(part, "CENTRAL", 1)
    await services.transfer(WAREHOUSE, part, 1, "CENTRAL", "BENCH", token=token)
    assert await services.on_hand(part, "BENCH") == 1


async def test_serialised_receive_needs_one_new_serial_per_unit():
    """Serialised parts: receive needs qty different serials; a known serial is refused; nothing written."""
    part = await make_part(serialised=True)
    with pytest.raises(DomainError) as err:
        await services.receive(WAREHOUSE, part, 2, "CENTRAL", serials=["A1"])
    assert "serials" in err.value.errors
    a, b = unique("SN"), unique("SN")
    await services.receive(WAREHOUSE, part, 2, "CENTRAL", serials=[a, b])
    with pytest.raises(DomainError):
        await services.receive(WAREHOUSE, part, 2, "CENTRAL", serials=[unique("SN"), a])
    assert await services.on_hand(part, "CENTRAL") == 2
    assert len(await services.find_units(a)) == 1
    with pytest.raises(DomainError) as err:
        await services.transfer(WAREHOUSE, part, 1, "CENTRAL", "BENCH")
    assert "serial" in err.value.errors


async def test_adjust_needs_reason_and_writes_off():
    """Count adjustment: reason required; minus writes off; cannot go below zero."""
    part = await make_part()
    with pytest.raises(DomainError) as err:
        await services.adjust(WAREHOUSE, part, "CENTRAL", 5, "  ")
    assert "reason" in err.value.errors
    await services.adjust(WAREHOUSE, part, "CENTRAL", 5, "found")
    await services.adjust(WAREHOUSE, part, "CENTRAL", -2, "broken")
    with pytest.raises(DomainError):
        await services.adjust(WAREHOUSE, part, "CENTRAL", -4, "lost")
    assert await services.on_hand(part, "CENTRAL") == 3 == await ledger_sum(part, "CENTRAL")


async def test_quarantine_and_return():
    """Quarantine moves stock to QUARANTINE with a reason; a return books unused parts back."""
    part = await make_part()
    await stock(part, "OFFICE-X" if False else "CENTRAL", 4)
    with pytest.raises(DomainError):
        await services.quarantine(WAREHOUSE, part, 1, "CENTRAL", reason="")
    await services.quarantine(WAREHOUSE, part, 1, "CENTRAL", reason="faulty")
    await services.issue_to(WAREHOUSE, part, 2, "CENTRAL", "ticket", 5)
    await services.return_stock(WAREHOUSE, part, 1, "CENTRAL", document_type="ticket", document_id=5, reason="unused")
    assert await services.on_hand(part, "QUARANTINE") == 1
    assert await services.on_hand(part, "CENTRAL") == 2


async def test_technician_stock_transfer():
    """R-INV-02: a technician's stock is made on first use; transfers in and out."""
    user_id = await make_user("field")
    loc = await services.technician_location(user_id)
    assert loc == await services.technician_location(user_id)
    part = await make_part()
    await stock(part, "CENTRAL", 3)
    await services.transfer(WAREHOUSE, part, 2, "CENTRAL", loc)
    await services.transfer(WAREHOUSE, part, 1, loc, "CENTRAL")
    assert await services.on_hand(part, loc) == 1


async def test_reconcile_finds_no_mismatch_and_detects_one():
    """R-INV-03: reconciliation proves on-hand = ledger sum, and reports a tampered level."""
    part = await make_part()
    await stock(part, "CENTRAL", 3)
    assert (await services.reconcile(part))["mismatches"] == []
    async with write_transaction():
        await fetch("UPDATE stock_level SET on_hand = 7 WHERE part_id = {}", part)
    report = await services.reconcile(part)
    assert report["mismatches"] and report["mismatches"][0]["ledger"] == 3 and report["mismatches"][0]["on_hand"] == 7
    async with write_transaction():
        await fetch("UPDATE stock_level SET on_hand = 3 WHERE part_id = {}", part)


async def test_minimum_default_rule_and_reorder_list():
    """R-INV-04: minimum = 3% of the installed quantity (rounded up) unless set by hand; below it → reorder list."""
    part = await make_part()
    result = await services.set_minimum(WAREHOUSE, part, "CENTRAL", installed_qty=150)
    assert result == {"installed_qty": 150, "min_qty": 5, "min_manual": False}
    rows = await services.reorder_list(await services.location_id("CENTRAL"), limit=100000)
    assert any(r["part_id"] == part and r["shortfall"] == 5 for r in rows)
    await services.set_minimum(WAREHOUSE, part, "CENTRAL", min_qty=2)
    await stock(part, "CENTRAL", 2)
    rows = await services.reorder_list(await services.location_id("CENTRAL"), limit=100000)
    assert not any(r["part_id"] == part for r in rows)
    with pytest.raises(DomainError):
        await services.set_minimum(WAREHOUSE, part, "CENTRAL", min_qty=-1)


async def test_catalogue_validation():
    """R-INV-01: part number unique, name required, cost is money."""
    no = unique("PN")
    await services.create_part(WAREHOUSE, services.PartInput(part_no=no, name="交换机", cost="1,200.50"))
    assert (await services.part_by_no(no))["cost_fen"] == 120050
    with pytest.raises(DomainError) as err:
        await services.create_part(WAREHOUSE, services.PartInput(part_no=no, name="x"))
    assert "part_no" in err.value.errors
    with pytest.raises(DomainError) as err:
        await services.create_part(WAREHOUSE, services.PartInput(part_no=unique("PN"), name="", cost="abc"))
    assert set(err.value.errors) >= {"name", "cost"}
    with pytest.raises(DomainError) as err:
        await services.create_part(DESK, services.PartInput(part_no=unique("PN"), name="x"))
    assert err.value.status == 403


async def test_lookup_by_part_number_or_serial():
    """Keeper speed: the search box finds an exact part number or a scanned serial."""
    part = await make_part(serialised=True)
    unit_id = await stock_unit(part, "CENTRAL")
    p = await services.get_part(part)
    assert await services.lookup(p["part_no"]) == ("part", part)
    assert await services.lookup((await services.get_unit(unit_id))["serial"]) == ("unit", unit_id)
    assert await services.lookup("no-such-thing-xyz") is None


# ---------------------------------------------------------------- emergency store (R-INV-05)


async def _emergency_request(part_no: str, qty: int = 1) -> int:
    return await emergency.create_request(WAREHOUSE, emergency.RequestInput(
        customer_name="某银行分行", reason="录像机故障，监控中断", lines=[(part_no, str(qty))]))


async def test_nothing_leaves_the_emergency_store_without_approval():
    """R-INV-05: transfer or issue from the emergency store without an approved request is refused."""
    part = await make_part()
    await stock(part, "EMERGENCY", 2)
    with pytest.raises(DomainError) as err:
        await services.issue_to(WAREHOUSE, part, 1, "EMERGENCY", "ticket", 1)
    assert err.value.status == 409
    with pytest.raises(DomainError):
        await services.transfer(WAREHOUSE, part, 1, "EMERGENCY", "CENTRAL", document_type="emergency_release", document_id=1)
    req = await _emergency_request((await services.get_part(part))["part_no"])
    engineer = await make_user("field", username=unique("eng"))
    eng_name = (await fetch("SELECT username FROM app_user WHERE id = {}", engineer))[0]["username"]
    with pytest.raises(DomainError) as err:
        await emergency.issue(WAREHOUSE, req, engineer=eng_name)
    assert err.value.status == 409  # not approved yet
    assert await services.on_hand(part, "EMERGENCY") == 2


async def test_emergency_request_gm_approval_then_issue_with_engineer():
    """R-INV-05: request → GM approves (only GM) → keeper issues with the engineer named; linked in the ledger."""
    part = await make_part()
    await stock(part, "EMERGENCY", 3)
    req = await _emergency_request((await services.get_part(part))["part_no"], 2)
    with pytest.raises(DomainError) as err:
        await emergency.approve(MANAGER, req)
    assert err.value.status == 403
    await emergency.approve(GM, req, "同意")
    with pytest.raises(DomainError):
        await emergency.approve(GM, req)  # stale second click
    eng_id = await make_user("field", username=unique("eng"))
    eng = (await fetch("SELECT username FROM app_user WHERE id = {}", eng_id))[0]["username"]
    with pytest.raises(DomainError) as err:
        await emergency.issue(WAREHOUSE, req, engineer="")
    assert "engineer" in err.value.errors
    await emergency.issue(WAREHOUSE, req, engineer=eng)
    detail = await emergency.get_request(req)
    assert detail["status"] == "issued" and detail["engineer_id"] == eng_id
    assert [(m["kind"], m["qty"]) for m in detail["moves"]] == [("emergency", 2)]
    assert await services.on_hand(part, "EMERGENCY") == 1 and await services.on_hand(part, "CUSTOMER") >= 2
    with pytest.raises(DomainError):
        await emergency.issue(WAREHOUSE, req, engineer=eng)  # issued once only
    actions = [r["action"] for r in await fetch(
        "SELECT action FROM audit_event WHERE entity_type = 'emergency_request' AND entity_id = {} ORDER BY id", str(req))]
    assert actions == ["emergency.requested", "emergency.approved", "emergency.issued"]


async def test_emergency_issue_of_serialised_unit_and_shortage_rolls_back():
    """R-INV-05: serialised units are issued by serial; a shortage rolls the whole issue back (still approved)."""
    part = await make_part(serialised=True)
    unit = await stock_unit(part, "EMERGENCY")
    serial = (await services.get_unit(unit))["serial"]
    req = await _emergency_request((await services.get_part(part))["part_no"], 2)
    await emergency.approve(GM, req)
    eng = unique("eng")
    await make_user("field", username=eng)
    lines = (await emergency.get_request(req))["lines"]
    with pytest.raises(DomainError):
        await emergency.issue(WAREHOUSE, req, engineer=eng, serials={lines[0]["id"]: f"{serial} NOPE-{serial}"})
    assert (await emergency.get_request(req))["status"] == "approved"
    assert (await services.get_unit(unit))["location_code"] == "EMERGENCY"


async def test_emergency_request_bad_input():
    """Bad input: no customer, no reason, unknown part → field messages, nothing written."""
    before = (await fetch("SELECT COUNT(*) AS n FROM emergency_request"))[0]["n"]
    with pytest.raises(DomainError) as err:
        await emergency.create_request(WAREHOUSE, emergency.RequestInput(lines=[("NO-SUCH-PART", "1")]))
    assert set(err.value.errors) >= {"customer_name", "reason", "line0"}
    assert (await fetch("SELECT COUNT(*) AS n FROM emergency_request"))[0]["n"] == before


# ---------------------------------------------------------------- purchasing (R-INV-04)


async def test_purchase_request_manager_approval_then_receipt():
    """R-INV-04: request → manager approval → receipt into stock; over-receipt refused; fully received closes it."""
    part = await make_part()
    no = (await services.get_part(part))["part_no"]
    pr = await purchasing.create_request(WAREHOUSE, location="CENTRAL", lines=[(no, "5")])
    with pytest.raises(DomainError):
        await purchasing.receive_request(WAREHOUSE, pr, {})  # not approved
    with pytest.raises(DomainError) as err:
        await purchasing.approve(WAREHOUSE, pr)
    assert err.value.status == 403
    await purchasing.approve(MANAGER, pr)
    line = (await purchasing.get_request(pr))["lines"][0]
    await purchasing.receive_request(WAREHOUSE, pr, {line["id"]: "3"})
    with pytest.raises(DomainError):
        await purchasing.receive_request(WAREHOUSE, pr, {line["id"]: "3"})
    assert (await purchasing.get_request(pr))["status"] == "approved"
    await purchasing.receive_request(WAREHOUSE, pr, {line["id"]: "2"})
    assert (await purchasing.get_request(pr))["status"] == "received"
    assert await services.on_hand(part, "CENTRAL") == 5 == await ledger_sum(part, "CENTRAL")


async def test_purchase_request_from_reorder_list():
    """R-INV-04: the reorder list makes a purchase request for the shortfalls of a location."""
    user_id = await make_user("field")
    loc = await services.technician_location(user_id)
    part = await make_part()
    await services.set_minimum(WAREHOUSE, part, loc, min_qty=4)
    pr = await purchasing.request_from_reorder_list(WAREHOUSE, loc)
    lines = (await purchasing.get_request(pr))["lines"]
    assert [(line["part_id"], line["qty"]) for line in lines] == [(part, 4)]


# ---------------------------------------------------------------- stocktake (R-INV-06)


async def test_stocktake_posts_differences_after_approval():
    """R-INV-06: count sheet → counts → submit → manager approves → differences posted as adjustments."""
    user_id = await make_user("field")
    loc = await services.technician_location(user_id)
    a, b = await make_part(), await make_part()
    await stock(a, loc, 5)
    await stock(b, loc, 2)
    st = await stocktake.start(WAREHOUSE, loc)
    sheet = await stocktake.get(st)
    assert {line["part_id"]: line["expected_qty"] for line in sheet["lines"]} == {a: 5, b: 2}
    ids = {line["part_id"]: line["id"] for line in sheet["lines"]}
    await stocktake.enter_counts(WAREHOUSE, st, {ids[a]: "4"})
    with pytest.raises(DomainError):
        await stocktake.submit(WAREHOUSE, st)  # b not counted
    with pytest.raises(DomainError) as err:
        await stocktake.enter_counts(WAREHOUSE, st, {ids[b]: "-3"})
    assert f"count{ids[b]}" in err.value.errors
    await stocktake.enter_counts(WAREHOUSE, st, {ids[b]: "2"})
    await stocktake.submit(WAREHOUSE, st)
    with pytest.raises(DomainError) as err:
        await stocktake.approve(WAREHOUSE, st)
    assert err.value.status == 403
    assert await stocktake.approve(MANAGER, st) == 1
    assert await services.on_hand(a, loc) == 4 == await ledger_sum(a, loc)
    assert await services.on_hand(b, loc) == 2
    assert (await stocktake.get(st))["status"] == "approved"


async def test_seeded_history_keeps_on_hand_equal_to_ledger_sum():
    """Seed (bulk inserts): generated history leaves on-hand = ledger sum and units where the ledger says."""
    import random

    from seed.parts import seed_history

    await make_part()
    serial_part = await make_part(serialised=True)
    await stock_unit(serial_part, "CENTRAL")
    await seed_history(random.Random(7), 600, quiet=True)
    report = await services.reconcile()
    assert report["mismatches"] == [], report["mismatches"][:5]


async def test_reconcile_command_exit_status():
    """`python -m app.parts reconcile` exits 0 when on-hand = ledger sum everywhere."""
    import os
    import subprocess
    import sys

    proc = await asyncio.create_subprocess_exec(sys.executable, "-m", "app.parts", "reconcile", env=dict(os.environ),
                                                stdout=subprocess.PIPE, stderr=subprocess.PIPE)
    out, err = await proc.communicate()
    assert proc.returncode == 0, (out.decode(), err.decode()[-2000:])
    assert b"0 mismatches" in out


async def test_minimums_follow_the_installed_base():
    """R-INV-04 default rule: an office store's minimum = ceil(3% × devices of that model its office serves);
    a minimum set by hand stays."""
    from seed.customers import make_customer, make_device, make_office

    office_id = await make_office()
    office_code = (await fetch("SELECT code FROM service_office WHERE id = {}", office_id))[0]["code"]
    store = await services.create_location(KEEPER, code=unique("OFF-"), name="测试办事处备件库", kind="office",
                                           office=office_code)
    model = unique("DS-7808N-")
    part = await make_part(serialised=True, model=model)
    customer = await make_customer(office_id=office_id)
    for _ in range(40):
        await make_device(customer, model=model)
    assert await services.recompute_minimums(KEEPER) >= 1
    level = (await fetch("SELECT installed_qty, min_qty FROM stock_level WHERE part_id = {} AND location_id = {}",
                         part, store))[0]
    assert (level["installed_qty"], level["min_qty"]) == (40, 2)  # ceil(40 × 3%) = 2
    await services.set_minimum(WAREHOUSE, part, store, min_qty=5)
    await services.recompute_minimums(KEEPER)
    level = (await fetch("SELECT installed_qty, min_qty FROM stock_level WHERE part_id = {} AND location_id = {}",
                         part, store))[0]
    assert (level["installed_qty"], level["min_qty"]) == (40, 5)
    with pytest.raises(DomainError):
        await services.recompute_minimums(DESK)


async def test_stocktake_found_part_and_serialised_difference():
    """R-INV-06 / #12.1: a part found at the location is added; a serialised part's count cannot be typed other than the
    book quantity (its serials must be scanned); typing the book quantity confirms its units; approval posts the rest."""
    user_id = await make_user("field")
    loc = await services.technician_location(user_id)
    found = await make_part()
    cam = await make_part(serialised=True)
    await stock_unit(cam, loc)
    st = await stocktake.start(WAREHOUSE, loc)
    await stocktake.add_line(WAREHOUSE, st, (await services.get_part(found))["part_no"])
    lines = {line["part_id"]: line for line in (await stocktake.get(st))["lines"]}
    assert lines[found]["expected_qty"] == 0 and lines[cam]["expected_qty"] == 1
    with pytest.raises(DomainError) as err:
        await stocktake.enter_counts(WAREHOUSE, st, {lines[found]["id"]: "3", lines[cam]["id"]: "0"})
    assert f"count{lines[cam]['id']}" in err.value.errors
    assert (await stocktake.get(st))["lines"][0]["counted_qty"] is None  # nothing saved
    await stocktake.enter_counts(WAREHOUSE, st, {lines[found]["id"]: "3", lines[cam]["id"]: "1"})
    await stocktake.submit(WAREHOUSE, st)
    sheet = await stocktake.get(st)
    assert sheet["missing_units"] == [] and sheet["extra_units"] == []
    assert await stocktake.approve(MANAGER, st) == 1
    assert await services.on_hand(found, loc) == 3 and await services.on_hand(cam, loc) == 1


async def test_refusals_need_a_reason_and_cancel():
    """Refusing a purchase or an emergency release needs a reason; the requester can cancel."""
    part = await make_part()
    no = (await services.get_part(part))["part_no"]
    pr = await purchasing.create_request(WAREHOUSE, location="CENTRAL", lines=[(no, "1")])
    with pytest.raises(DomainError) as err:
        await purchasing.reject(MANAGER, pr, "")
    assert "note" in err.value.errors
    await purchasing.reject(MANAGER, pr, "too expensive")
    assert (await purchasing.get_request(pr))["status"] == "rejected"
    req = await _emergency_request(no)
    with pytest.raises(DomainError) as err:
        await emergency.reject(GM, req, "")
    assert "note" in err.value.errors
    with pytest.raises(DomainError) as err:
        await emergency.cancel(Actor(user_id=987654, username="other-desk", roles=frozenset({"desk"})), req)
    await emergency.cancel(WAREHOUSE, req)
    assert (await emergency.get_request(req))["status"] == "cancelled"
    with pytest.raises(DomainError):
        await emergency.approve(GM, req)


async def test_scrap_writes_off_from_quarantine():
    """R-SCR-03 hook: approved scrap leaves the quarantine; a unit ends as scrapped; needs the scrap record."""
    part = await make_part(serialised=True)
    unit = await stock_unit(part, "CENTRAL")
    serial = (await services.get_unit(unit))["serial"]
    await services.quarantine(WAREHOUSE, part, 1, "CENTRAL", serial=serial, reason="faulty")
    with pytest.raises(DomainError) as err:
        await services.scrap(WAREHOUSE, part, 1, "", serial=serial)
    assert "document_id" in err.value.errors
    move = await services.scrap(WAREHOUSE, part, 1, 17, serial=serial, reason="appraisal group: scrap")
    assert move.kind == "scrap" and move.to_location_id is None
    after = await services.get_unit(unit)
    assert after["status"] == "scrapped" and after["location_id"] is None
    assert await services.on_hand(part, "QUARANTINE") == 0
    assert (await services.reconcile(part))["mismatches"] == []


async def test_opposite_transfers_of_one_part_at_once_never_deadlock():
    """#11.3: 60 transfers of one part, half CENTRAL→BENCH and half BENCH→CENTRAL, all at once (PostgreSQL deadlocked
    here: 31/60 were 500s) → every one books, no unexpected error; on-hand equals the ledger sum in both places."""
    part = await make_part()
    await stock(part, "CENTRAL", 100)
    await stock(part, "BENCH", 100)
    calls = [services.transfer(WAREHOUSE, part, 1, *(("CENTRAL", "BENCH") if n % 2 else ("BENCH", "CENTRAL")))
             for n in range(60)]
    results = await asyncio.gather(*calls, return_exceptions=True)
    unexpected = [r for r in results if not isinstance(r, services.Move)]
    assert unexpected == []
    assert await services.on_hand(part, "CENTRAL") == 100 == await ledger_sum(part, "CENTRAL")
    assert await services.on_hand(part, "BENCH") == 100 == await ledger_sum(part, "BENCH")
    assert (await services.reconcile(part))["mismatches"] == []


async def test_mixed_movements_of_two_parts_at_once_keep_ledger_equal_to_on_hand():
    """#11.3: transfers both ways, issues, returns and adjustments of two parts at once → only Moves or a stock 409."""
    a, b = await make_part(), await make_part()
    for p in (a, b):
        await stock(p, "CENTRAL", 50)
        await stock(p, "BENCH", 50)
    calls = []
    for n in range(40):
        p = (a, b)[n % 2]
        calls.append([
            lambda p=p: services.transfer(WAREHOUSE, p, 2, "CENTRAL", "BENCH"),
            lambda p=p: services.transfer(WAREHOUSE, p, 3, "BENCH", "CENTRAL"),
            lambda p=p, n=n: services.issue_to(WAREHOUSE, p, 1, "BENCH", "ticket", n),
            lambda p=p, n=n: services.return_stock(WAREHOUSE, p, 1, "CENTRAL", document_type="ticket", document_id=n),
            lambda p=p: services.adjust(WAREHOUSE, p, "CENTRAL", -1, "count"),
        ][n % 5]())
    results = await asyncio.gather(*calls, return_exceptions=True)
    assert [r for r in results if not (isinstance(r, services.Move) or is_not_enough_stock(r))] == []
    for p in (a, b):
        for loc in ("CENTRAL", "BENCH"):
            assert await services.on_hand(p, loc) == await ledger_sum(p, loc)


class DeadlockDetectedError(Exception):
    """Stands in for asyncpg's (matched by class name, as the retry does)."""


async def test_conflict_is_retried_then_booked_once():
    """#11.3: a deadlock/serialization failure rolls the attempt back and the service runs again (bounded)."""
    part = await make_part()
    await stock(part, "CENTRAL", 5)
    failures = iter([DeadlockDetectedError("deadlock detected"), None])

    async def flaky():
        move = await services.transfer(WAREHOUSE, part, 1, "CENTRAL", "BENCH")
        exc = next(failures)
        if exc is not None:
            raise exc  # after the transfer, inside the one transaction below: the whole attempt rolls back
        return move

    async def one_transaction():
        async with write_transaction():
            return await flaky()

    move = await services.retrying(one_transaction)
    assert isinstance(move, services.Move)
    assert await services.on_hand(part, "BENCH") == 1 == await ledger_sum(part, "BENCH")  # the failed attempt left nothing
    assert await services.on_hand(part, "CENTRAL") == 4 == await ledger_sum(part, "CENTRAL")


async def test_conflict_that_outlasts_the_retries_is_a_409_not_a_500():
    """#11.3: never a 500 for a conflict: after ATTEMPTS tries the caller gets a 409 'try again', nothing written."""
    part = await make_part()
    await stock(part, "CENTRAL", 5)
    tries = 0

    async def always_deadlocks():
        nonlocal tries
        tries += 1
        async with write_transaction():
            await services.transfer(WAREHOUSE, part, 1, "CENTRAL", "BENCH")
            raise DeadlockDetectedError("deadlock detected")

    with pytest.raises(DomainError) as err:
        await services.retrying(always_deadlocks)
    assert err.value.status == 409 and err.value.current == {"kind": "conflict"} and tries == services.ATTEMPTS
    assert await services.on_hand(part, "BENCH") == 0 == await ledger_sum(part, "BENCH")


async def test_other_errors_and_refusals_are_not_retried():
    """#11.3: only conflicts are retried — a refusal or a programming error goes up at the first try."""
    tries = 0

    async def boom():
        nonlocal tries
        tries += 1
        raise ValueError("bug")

    with pytest.raises(ValueError):
        await services.retrying(boom)
    assert tries == 1
    import sqlite3

    assert services.is_conflict(DeadlockDetectedError()) and not services.is_conflict(ValueError("database is locked"))
    assert services.is_conflict(sqlite3.OperationalError("database is locked"))
    assert not services.is_conflict(sqlite3.OperationalError("no such table: x"))


async def _emergency_store() -> int:
    """An emergency-kind store of the test's own (the shared EMERGENCY holds other tests' stock)."""
    code = unique("EM").upper()[:30]
    return await services.create_location(MANAGER, code=code, name=code, kind="emergency")


@pytest.mark.parametrize("who", [WAREHOUSE, MANAGER])
async def test_r_inv_05_adjustment_in_the_emergency_store_by_a_non_gm_is_refused(who):
    """#11 R-INV-05 loophole: a -5 adjustment (or +1) in the emergency store by warehouse or manager → 403 with a clear
    message; on-hand, ledger and audit unchanged."""
    loc = await _emergency_store()
    part = await make_part()
    await stock(part, loc, 5)
    before_moves = await moves_of(part)
    before_audit = (await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE entity_type = 'part' AND entity_id = {}",
                                str(part)))[0]["n"]
    for delta in (-5, 1):
        with pytest.raises(DomainError) as err:
            await services.adjust(who, part, loc, delta, "count")
        assert err.value.status == 403 and "总经理" in err.value.message
    assert await services.on_hand(part, loc) == 5 == await ledger_sum(part, loc)
    assert await moves_of(part) == before_moves
    assert (await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE entity_type = 'part' AND entity_id = {}",
                        str(part)))[0]["n"] == before_audit


async def test_r_inv_05_gm_may_adjust_the_emergency_store_and_others_stores_stay_open():
    """#11: the general manager's adjustment there is booked; a warehouse adjustment elsewhere still is."""
    loc = await _emergency_store()
    part = await make_part()
    await stock(part, loc, 5)
    move = await services.adjust(GM, part, loc, -2, "broken in storage")
    assert move.kind == "adjust" and await services.on_hand(part, loc) == 3 == await ledger_sum(part, loc)
    await stock(part, "CENTRAL", 2)
    await services.adjust(WAREHOUSE, part, "CENTRAL", -1, "count")
    assert await services.on_hand(part, "CENTRAL") == 1


async def test_r_inv_05_stocktake_difference_in_the_emergency_store_needs_the_gm():
    """#11: a manager cannot post an emergency-store count difference (403, nothing posted, still waiting);
    the general manager can; a count with no difference there the manager may close."""
    loc = await _emergency_store()
    part = await make_part()
    await stock(part, loc, 5)
    st = await stocktake.start(WAREHOUSE, loc)
    line = (await stocktake.get(st))["lines"][0]
    await stocktake.enter_counts(WAREHOUSE, st, {line["id"]: "0"})
    await stocktake.submit(WAREHOUSE, st)
    with pytest.raises(DomainError) as err:
        await stocktake.approve(MANAGER, st)
    assert err.value.status == 403 and "总经理" in err.value.message
    assert (await stocktake.get(st))["status"] == "submitted" and await services.on_hand(part, loc) == 5
    assert await stocktake.approve(GM, st) == 1
    assert await services.on_hand(part, loc) == 0 == await ledger_sum(part, loc)

    st2 = await stocktake.start(WAREHOUSE, loc)
    await stocktake.submit(WAREHOUSE, st2)  # nothing left on the sheet: no differences
    assert await stocktake.approve(MANAGER, st2) == 0


async def _table_counts() -> tuple:
    rows = []
    for table in ("stock_move", "audit_event", "purchase_request", "emergency_request"):
        rows.append((await fetch(f"SELECT COUNT(*) AS n FROM {table}"))[0]["n"])
    return tuple(rows)


@pytest.mark.parametrize("qty", [services.MAX_QTY + 1, 3_000_000_000, 2**63])
async def test_quantities_beyond_the_business_maximum_are_refused_and_write_nothing(qty):
    """#11.5: a count adjustment of 3,000,000,000 was accepted. Every quantity (movement, adjustment either sign,
    stocktake count, minimum, purchase and emergency request lines) above MAX_QTY → 400 on its field, nothing written."""
    part = await make_part()
    await stock(part, "CENTRAL", 5)
    part_no = (await services.get_part(part))["part_no"]
    before = await _table_counts()
    calls = {
        "qty": [lambda: services.adjust(WAREHOUSE, part, "CENTRAL", qty, "count"),
                lambda: services.adjust(WAREHOUSE, part, "CENTRAL", -qty, "count"),
                lambda: services.transfer(WAREHOUSE, part, qty, "CENTRAL", "BENCH"),
                lambda: services.receive(WAREHOUSE, part, qty, "CENTRAL"),
                lambda: services.issue_to(WAREHOUSE, part, qty, "CENTRAL", "ticket", 1)],
        "min_qty": [lambda: services.set_minimum(MANAGER, part, "CENTRAL", min_qty=str(qty))],
        "line0": [lambda: purchasing.create_request(WAREHOUSE, location="CENTRAL", lines=[(part_no, str(qty))]),
                  lambda: emergency.create_request(WAREHOUSE, emergency.RequestInput(
                      customer_name="某银行", reason="故障", lines=[(part_no, str(qty))]))],
    }
    for field_name, fns in calls.items():
        for fn in fns:
            with pytest.raises(DomainError) as err:
                await fn()
            assert err.value.status == 400 and field_name in err.value.errors, (field_name, err.value.errors)
    assert await _table_counts() == before
    assert await services.on_hand(part, "CENTRAL") == 5


async def test_quantity_limits_at_their_boundary():
    """#11.5: exactly MAX_QTY is accepted (adjustment, count, minimum; installed base up to MAX_INSTALLED), one more is not."""
    part = await make_part()
    move = await services.adjust(WAREHOUSE, part, "CENTRAL", services.MAX_QTY, "found a pallet")
    assert move.qty == services.MAX_QTY
    assert (await services.set_minimum(MANAGER, part, "CENTRAL", min_qty=str(services.MAX_QTY),
                                       installed_qty=str(services.MAX_INSTALLED)))["min_qty"] == services.MAX_QTY
    with pytest.raises(DomainError) as err:
        await services.set_minimum(MANAGER, part, "CENTRAL", installed_qty=str(services.MAX_INSTALLED + 1))
    assert "installed_qty" in err.value.errors
    user_id = await make_user("field")
    loc = await services.technician_location(user_id)
    await stock(part, loc, 1)
    st = await stocktake.start(WAREHOUSE, loc)
    line = (await stocktake.get(st))["lines"][0]
    with pytest.raises(DomainError) as err:
        await stocktake.enter_counts(WAREHOUSE, st, {line["id"]: str(services.MAX_QTY + 1)})
    assert f"count{line['id']}" in err.value.errors
    assert (await stocktake.get(st))["lines"][0]["counted_qty"] is None
    await stocktake.enter_counts(WAREHOUSE, st, {line["id"]: str(services.MAX_QTY)})
    assert (await stocktake.get(st))["lines"][0]["counted_qty"] == services.MAX_QTY


async def _tech_store() -> int:
    return await services.technician_location(await make_user("field"))


async def test_scan_part_number_adds_one_and_serial_marks_its_unit_present():
    """#12.1: each scan of a part number +1 on its line (a part not on the sheet gets a line); a serial marks its unit
    present, scanning it again changes nothing; a serialised part number alone is refused with a message."""
    loc = await _tech_store()
    bulk, cam, other = await make_part(), await make_part(serialised=True), await make_part()
    await stock(bulk, loc, 3)
    unit = await services.get_unit(await stock_unit(cam, loc))
    st = await stocktake.start(WAREHOUSE, loc)
    bulk_no, other_no = (await services.get_part(bulk))["part_no"], (await services.get_part(other))["part_no"]
    for n in (1, 2):
        assert (await stocktake.scan(WAREHOUSE, st, bulk_no))["counted"] == n
    assert (await stocktake.scan(WAREHOUSE, st, other_no))["counted"] == 1
    first = await stocktake.scan(WAREHOUSE, st, unit["serial"])
    again = await stocktake.scan(WAREHOUSE, st, unit["serial"])
    assert (first["counted"], first["extra"], first["again"]) == (1, False, False) and (again["counted"], again["again"]) == (1, True)
    with pytest.raises(DomainError) as err:
        await stocktake.scan(WAREHOUSE, st, unit["part_no"])
    assert "code" in err.value.errors and err.value.status == 400
    counted = {line["part_id"]: line["counted_qty"] for line in (await stocktake.get(st))["lines"]}
    assert counted == {bulk: 2, other: 1, cam: 1}


@pytest.mark.parametrize("code", ["", "   ", "NO-SUCH-CODE-123"])
async def test_bad_scan_changes_nothing(code):
    """#12.1: an empty or unknown code → 400 on the scan field; counts and audit unchanged."""
    loc = await _tech_store()
    part = await make_part()
    await stock(part, loc, 1)
    st = await stocktake.start(WAREHOUSE, loc)
    before = await stocktake.get(st)
    audit = (await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE entity_type = 'stocktake' AND entity_id = {}", str(st)))[0]
    with pytest.raises(DomainError) as err:
        await stocktake.scan(WAREHOUSE, st, code)
    assert err.value.status == 400 and "code" in err.value.errors
    assert (await stocktake.get(st))["lines"] == before["lines"] and (await stocktake.get(st))["version"] == before["version"]
    assert (await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE entity_type = 'stocktake' AND entity_id = {}",
                        str(st)))[0] == audit


async def test_scanning_needs_the_stocktake_role_and_an_open_count():
    """#12.1: the desk cannot scan (403); a submitted count takes no more scans (409)."""
    loc = await _tech_store()
    part = await make_part()
    await stock(part, loc, 1)
    part_no = (await services.get_part(part))["part_no"]
    st = await stocktake.start(WAREHOUSE, loc)
    with pytest.raises(DomainError) as err:
        await stocktake.scan(DESK, st, part_no)
    assert err.value.status == 403
    await stocktake.scan(WAREHOUSE, st, part_no)
    await stocktake.submit(WAREHOUSE, st)
    with pytest.raises(DomainError) as err:
        await stocktake.scan(WAREHOUSE, st, part_no)
    assert err.value.status == 409
    assert (await stocktake.get(st))["lines"][0]["counted_qty"] == 1


async def test_two_counters_scanning_one_part_at_once_both_count():
    """#12.1 race: ten scans of one part number at once → counted 10 (an atomic +1, no lost update)."""
    loc = await _tech_store()
    part = await make_part()
    await stock(part, loc, 10)
    part_no = (await services.get_part(part))["part_no"]
    st = await stocktake.start(WAREHOUSE, loc)
    results = await asyncio.gather(*[stocktake.scan(WAREHOUSE, st, part_no) for _ in range(10)], return_exceptions=True)
    assert [r for r in results if not isinstance(r, dict)] == []
    assert (await stocktake.get(st))["lines"][0]["counted_qty"] == 10


async def test_lines_not_scanned_count_as_zero_only_when_the_counter_says_done():
    """#12.1: submit is refused while a line is uncounted; 'done' for one category sets only that category's lines to 0;
    'done' for the location sets the rest."""
    loc = await _tech_store()
    bulk, cons = await make_part(), await make_part(category="consumable")
    await stock(bulk, loc, 2)
    await stock(cons, loc, 4)
    st = await stocktake.start(WAREHOUSE, loc)
    with pytest.raises(DomainError):
        await stocktake.submit(WAREHOUSE, st)
    assert await stocktake.finish(WAREHOUSE, st, "consumable") == 1
    counted = {line["part_id"]: line["counted_qty"] for line in (await stocktake.get(st))["lines"]}
    assert counted == {bulk: None, cons: 0}
    with pytest.raises(DomainError):
        await stocktake.submit(WAREHOUSE, st)
    assert await stocktake.finish(WAREHOUSE, st) == 1
    await stocktake.submit(WAREHOUSE, st)
    assert {line["part_id"]: line["counted_qty"] for line in (await stocktake.get(st))["lines"]} == {bulk: 0, cons: 0}


async def test_scanned_stocktake_posts_missing_and_extra_serials_on_approval():
    """#12.1 (was refused): units A, B expected; A scanned, C (recorded in CENTRAL) and D (new to the system) found.
    Approval writes B off as lost, moves C here from CENTRAL, receives D; on-hand equals the ledger everywhere."""
    loc = await _tech_store()
    cam = await make_part(serialised=True)
    cam_no = (await services.get_part(cam))["part_no"]
    a = await services.get_unit(await stock_unit(cam, loc))
    b = await services.get_unit(await stock_unit(cam, loc))
    c = await services.get_unit(await stock_unit(cam, "CENTRAL"))
    st = await stocktake.start(WAREHOUSE, loc, blind=True)
    await stocktake.scan(WAREHOUSE, st, a["serial"])
    assert (await stocktake.scan(WAREHOUSE, st, c["serial"]))["extra"] is True
    d_serial = unique("SN-D")
    with pytest.raises(DomainError):
        await stocktake.scan(WAREHOUSE, st, d_serial)  # unknown without its part number
    assert (await stocktake.scan(WAREHOUSE, st, d_serial, part_no=cam_no))["extra"] is True
    await stocktake.finish(WAREHOUSE, st)
    await stocktake.submit(WAREHOUSE, st)
    sheet = await stocktake.get(st)
    assert sheet["blind"] and [u["serial"] for u in sheet["missing_units"]] == [b["serial"]]
    assert sorted(u["serial"] for u in sheet["extra_units"]) == sorted([c["serial"], d_serial])
    assert await stocktake.approve(MANAGER, st, "季度盘点") == 3
    assert (await services.get_unit(b["id"]))["status"] == "lost" and (await services.get_unit(b["id"]))["location_id"] is None
    assert (await services.get_unit(c["id"]))["location_id"] == loc
    d = (await services.find_units(d_serial))[0]
    assert d["location_id"] == loc and d["status"] == "in_stock"
    assert await services.on_hand(cam, loc) == 3 == await ledger_sum(cam, loc)
    assert await services.on_hand(cam, "CENTRAL") == await ledger_sum(cam, "CENTRAL")
    reasons = [r["reason"] for r in await fetch("SELECT reason FROM stock_move WHERE document_type = 'stocktake' "
                                                 "AND document_id = {} ORDER BY id", str(st))]
    assert len(reasons) == 3 and all("季度盘点" in r for r in reasons)


async def test_unit_moved_away_during_the_count_makes_approval_409_and_posts_nothing():
    """#12.1: a missing unit that was moved elsewhere meanwhile → approval 409, nothing posted, still waiting."""
    loc = await _tech_store()
    cam = await make_part(serialised=True)
    a = await services.get_unit(await stock_unit(cam, loc))
    st = await stocktake.start(WAREHOUSE, loc)
    await stocktake.finish(WAREHOUSE, st)
    await stocktake.submit(WAREHOUSE, st)
    await services.transfer(WAREHOUSE, cam, 1, loc, "CENTRAL", serial=a["serial"])
    moves = await moves_of(cam)
    with pytest.raises(DomainError) as err:
        await stocktake.approve(MANAGER, st)
    assert err.value.status == 409 and await moves_of(cam) == moves
    assert (await stocktake.get(st))["status"] == "submitted"

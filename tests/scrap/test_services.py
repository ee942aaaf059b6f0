"""Scrap services (issue #14): raising, the appraisal group and its quorum, manager/GM approval, disposal
through the ledger, rejection, races (R-SCR-01…03, R-INV-02)."""

from __future__ import annotations

import asyncio
from decimal import Decimal

import pytest

from app.core.db import fetch
from app.core.errors import DomainError, Stale
from app.core.settings import set_setting
from app.core.actor import SYSTEM
from app.parts import api as parts
from app.scrap import queries, services
from app.scrap.schemas import ConveneInput, DecisionInput, OpinionInput, RaiseInput, WithdrawInput
from tests.scrap.factories import (appraised, approved, convened, dispose_input, keeper, person, quarantined_qty,
                                   quarantined_unit, raise_unit, version)


async def count(sql: str, *args) -> int:
    return int((await fetch(sql, *args))[0]["n"])


async def scrap_moves(part_id: int) -> int:
    return await count("SELECT COUNT(*) AS n FROM stock_move WHERE part_id = {} AND kind = 'scrap'", part_id)


@pytest.fixture
async def quorum_2():
    await set_setting(SYSTEM, "scrap.quorum", 2)
    yield
    await set_setting(SYSTEM, "scrap.quorum", 2)


# --------------------------------------------------------------------------- raise (R-SCR-01)


async def test_r_scr_01_raise_unit_in_quarantine_gets_gapless_bf_number_and_audit():
    """R-SCR-01: a unit in quarantine gets a numbered 报废品处理记录 (BF series), draft, valued at the part's cost."""
    k = await keeper()
    part_id, unit_id, serial = await quarantined_unit("123.45")
    rid = await raise_unit(k, serial, note="主板烧毁")
    row = await services.get_request(rid)
    assert row["number"].startswith("BF-") and row["status"] == "draft" and row["serial_unit_id"] == unit_id
    assert row["value"] == Decimal("123.45") and row["qty"] == 1 and row["supplier"] == "测试供应商"
    doc = await fetch("SELECT * FROM doc_number WHERE series = 'scrap' AND formatted = {}", row["number"])
    assert doc and doc[0]["entity_id"] == str(rid)
    assert await count("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'scrap.raised' AND entity_id = {}", str(rid)) == 1


async def test_r_inv_02_unit_in_central_store_is_moved_to_quarantine_when_raised():
    """R-INV-02: a unit raised from another store first moves to QUARANTINE through the ledger."""
    k = await keeper()
    part_id, unit_id, serial = await quarantined_unit(location="CENTRAL")
    rid = await raise_unit(k, serial)
    unit = await parts.get_unit(unit_id)
    assert unit["location_code"] == "QUARANTINE"
    move = (await fetch("SELECT * FROM stock_move WHERE serial_unit_id = {} ORDER BY id DESC LIMIT 1", unit_id))[0]
    assert move["kind"] == "quarantine" and move["document_id"] == (await services.get_request(rid))["number"]


async def test_quantity_above_quarantine_is_refused_and_nothing_written():
    """X-05: a quantity above what quarantine holds → message on qty; no record, no number drawn."""
    k = await keeper()
    part_id, part_no = await quarantined_qty(3)
    before = await count("SELECT COUNT(*) AS n FROM scrap_request")
    numbers = await count("SELECT COUNT(*) AS n FROM doc_number WHERE series = 'scrap'")
    with pytest.raises(DomainError) as err:
        await services.raise_request(k, RaiseInput(reason="obsolete", part_no=part_no, qty=4))
    assert err.value.status == 400 and "3" in err.value.errors["qty"]
    assert await count("SELECT COUNT(*) AS n FROM scrap_request") == before
    assert await count("SELECT COUNT(*) AS n FROM doc_number WHERE series = 'scrap'") == numbers


async def test_quantity_on_the_boundary_and_open_records_reserve_their_stock():
    """Quarantine 5: 5 is accepted (on the boundary); then a second request for 1 more is refused."""
    k = await keeper()
    part_id, part_no = await quarantined_qty(5, cost="2.50")
    rid = await services.raise_request(k, RaiseInput(reason="quality_defect", part_no=part_no, qty=5))
    assert (await services.get_request(rid))["value"] == Decimal("12.50")
    with pytest.raises(DomainError) as err:
        await services.raise_request(k, RaiseInput(reason="quality_defect", part_no=part_no, qty=1))
    assert "qty" in err.value.errors


@pytest.mark.parametrize("value", ["0", "-5"])
async def test_value_zero_or_negative_is_refused(value):
    """X-05: a book value of 0 or less → clear message on the value field, nothing written."""
    from app.core.forms import parse

    obj, errors = parse(RaiseInput, {"reason": "obsolete", "serial": "X", "value": value, "value_reason": "估值"})
    assert obj is None and "value" in errors


async def test_part_without_cost_needs_a_value_override():
    """A part whose cost is 0 cannot be valued at 0: the keeper must enter the value (with a reason)."""
    k = await keeper()
    _p, _u, serial = await quarantined_unit("0.00")
    with pytest.raises(DomainError) as err:
        await raise_unit(k, serial)
    assert "value" in err.value.errors
    rid = await raise_unit(k, serial, value=Decimal("88.00"), value_reason="按残值估算")
    row = await services.get_request(rid)
    assert row["value"] == Decimal("88.00") and row["value_override_reason"] == "按残值估算"


async def test_one_open_record_per_unit():
    """A unit already on an open scrap record cannot be raised again (partial unique index)."""
    k = await keeper()
    _p, _u, serial = await quarantined_unit()
    await raise_unit(k, serial)
    with pytest.raises(DomainError) as err:
        await raise_unit(k, serial)
    assert "serial" in err.value.errors


async def test_only_the_warehouse_raises():
    """scrap.raise: a bench engineer is refused (403)."""
    bench = await person("bench")
    _p, _u, serial = await quarantined_unit()
    with pytest.raises(DomainError) as err:
        await raise_unit(bench, serial)
    assert err.value.status == 403


# --------------------------------------------------------------------------- appraisal group (R-SCR-01, R-SCR-03)


async def test_r_scr_03_convene_needs_the_quorum_of_appraisers(quorum_2):
    """R-SCR-03: one appraiser is below the quorum of 2 → refused; two → appraising."""
    k = await keeper()
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k, serial)
    a, b = await person("bench"), await person("qc")
    with pytest.raises(DomainError) as err:
        await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[a.user_id]))
    assert "appraisers" in err.value.errors
    await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[a.user_id, b.user_id]))
    row = await services.get_request(rid)
    assert row["status"] == "appraising" and row["quorum"] == 2
    assert len(await services.appraisers(rid)) == 2


async def test_r_scr_03_quorum_setting_three_needs_three():
    """The quorum is a setting: at 3, two appraisers are not enough."""
    await set_setting(SYSTEM, "scrap.quorum", 3)
    try:
        k = await keeper()
        _p, _u, serial = await quarantined_unit()
        rid = await raise_unit(k, serial)
        group = [await person("bench") for _ in range(3)]
        with pytest.raises(DomainError):
            await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[g.user_id for g in group[:2]]))
        await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[g.user_id for g in group]))
        await services.give_opinion(group[0], rid, OpinionInput(opinion="scrap"))
        await services.give_opinion(group[1], rid, OpinionInput(opinion="scrap"))
        assert (await services.get_request(rid))["status"] == "appraising"  # 2 of 3: below the quorum
        await services.give_opinion(group[2], rid, OpinionInput(opinion="scrap"))
        assert (await services.get_request(rid))["status"] == "appraised"
    finally:
        await set_setting(SYSTEM, "scrap.quorum", 2)


async def test_requester_cannot_appraise_own_request(quorum_2):
    """R-SCR-03: the requester is refused as an appraiser."""
    k = await person("warehouse")
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k, serial)
    other = await person("bench")
    with pytest.raises(DomainError) as err:
        await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[k.user_id, other.user_id]))
    assert "appraisers" in err.value.errors and (await services.get_request(rid))["status"] == "draft"


async def test_appraisers_must_be_bench_qc_or_warehouse(quorum_2):
    """A finance clerk cannot sit in an appraisal group."""
    k = await keeper()
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k, serial)
    a, f = await person("bench"), await person("finance")
    with pytest.raises(DomainError):
        await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[a.user_id, f.user_id]))


async def test_below_quorum_cannot_proceed_and_non_appraiser_is_refused(quorum_2):
    """One opinion of two: still appraising, the manager cannot approve; a stranger's opinion is refused (403)."""
    rid, _k, group = await convened()
    assert await services.give_opinion(group[0], rid, OpinionInput(opinion="scrap")) == "appraising"
    stranger = await person("bench")
    with pytest.raises(DomainError) as err:
        await services.give_opinion(stranger, rid, OpinionInput(opinion="scrap"))
    assert err.value.status == 403
    manager = await person("manager")
    with pytest.raises(DomainError) as err:
        await services.decide(manager, rid, DecisionInput(version=await version(rid), decision="approve"), level="manager")
    assert err.value.status == 409


async def test_one_appraiser_voting_twice_counts_once(quorum_2):
    """R-SCR-03: a second vote by the same appraiser is refused (409) and the count stays 1."""
    rid, _k, group = await convened()
    await services.give_opinion(group[0], rid, OpinionInput(opinion="scrap"))
    with pytest.raises(DomainError) as err:
        await services.give_opinion(group[0], rid, OpinionInput(opinion="scrap"))
    assert err.value.status == 409
    assert len(await services.opinions(rid)) == 1 and (await services.get_request(rid))["status"] == "appraising"


async def test_same_appraiser_double_click_race_counts_once(quorum_2):
    """Two simultaneous votes of one appraiser: one counts, the other is refused."""
    rid, _k, group = await convened()
    results = await asyncio.gather(*(services.give_opinion(group[0], rid, OpinionInput(opinion="scrap")) for _ in range(2)),
                                   return_exceptions=True)
    assert sum(isinstance(r, DomainError) for r in results) == 1
    assert len(await services.opinions(rid)) == 1 and (await services.get_request(rid))["status"] == "appraising"


async def test_the_last_two_votes_arriving_together_both_count(quorum_2):
    """Both appraisers vote at once: both opinions count and the record moves to appraised exactly once."""
    rid, _k, group = await convened()
    await asyncio.gather(*(services.give_opinion(a, rid, OpinionInput(opinion="scrap")) for a in group))
    row = await services.get_request(rid)
    assert row["status"] == "appraised" and row["appraisal_result"] == "scrap"
    assert await count("SELECT COUNT(*) AS n FROM status_change WHERE table_name = 'scrap_request' AND row_id = {} "
                       "AND to_status = 'appraised'", rid) == 1


async def test_quorum_for_repair_rejects_and_sends_the_unit_to_the_bench(quorum_2):
    """The group finds it repairable: rejected at appraisal, the unit goes QUARANTINE → BENCH (recorded)."""
    rid, _k, group = await convened()
    for a in group:
        await services.give_opinion(a, rid, OpinionInput(opinion="repair", note="可修"))
    row = await services.get_request(rid)
    assert row["status"] == "rejected" and row["rejected_stage"] == "appraisal" and row["returned_to"] == "BENCH"
    assert (await parts.get_unit(row["serial_unit_id"]))["location_code"] == "BENCH"


# --------------------------------------------------------------------------- approval (R-SCR-03)


async def test_an_appraiser_cannot_approve(quorum_2):
    """R-SCR-03: an appraiser who also holds the manager role is refused (403)."""
    k = await keeper()
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k, serial)
    both = await person("qc", "manager")
    other = await person("bench")
    await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[both.user_id, other.user_id]))
    for a in (both, other):
        await services.give_opinion(a, rid, OpinionInput(opinion="scrap"))
    with pytest.raises(DomainError) as err:
        await services.decide(both, rid, DecisionInput(version=await version(rid), decision="approve"), level="manager")
    assert err.value.status == 403 and (await services.get_request(rid))["status"] == "appraised"


@pytest.mark.parametrize("cost,gm", [("4999.99", False), ("5000.00", False), ("5000.01", True)])
async def test_r_scr_03_gm_needed_only_above_the_threshold(quorum_2, cost, gm):
    """R-SCR-03: just below, on and just above the ¥5,000 threshold (setting): only above needs the GM."""
    rid, _k = await approved(cost=cost)
    row = await services.get_request(rid)
    assert row["status"] == "manager_approved" and bool(row["gm_needed"]) is gm


async def test_above_threshold_cannot_be_disposed_before_the_gm(quorum_2):
    """Above the threshold: disposal refused until the GM approves; nothing leaves quarantine."""
    rid, k = await approved(cost="8000.00")
    row = await services.get_request(rid)
    with pytest.raises(DomainError) as err:
        await services.dispose(k, rid, dispose_input(row["version"]))
    assert err.value.status == 409 and await scrap_moves(row["part_id"]) == 0
    boss = await person("gm")
    await services.decide(boss, rid, DecisionInput(version=row["version"], decision="approve", note="同意"), level="gm")
    await services.dispose(k, rid, dispose_input(await version(rid)))
    assert (await services.get_request(rid))["status"] == "disposed" and await scrap_moves(row["part_id"]) == 1


async def test_gm_cannot_decide_below_the_threshold(quorum_2):
    """Below the threshold the manager's approval is final: a GM decision is refused (409)."""
    rid, _k = await approved(cost="100.00")
    boss = await person("gm")
    with pytest.raises(DomainError) as err:
        await services.decide(boss, rid, DecisionInput(version=await version(rid), decision="approve"), level="gm")
    assert err.value.status == 409


async def test_manager_approval_and_refusal_racing_one_wins(quorum_2):
    """An approval and a refusal on the same version: exactly one wins, the other gets Stale (409)."""
    rid, _k, _g = await appraised()
    v = await version(rid)
    m1, m2 = await person("manager"), await person("manager")
    results = await asyncio.gather(
        services.decide(m1, rid, DecisionInput(version=v, decision="approve"), level="manager"),
        services.decide(m2, rid, DecisionInput(version=v, decision="reject", note="不同意", returned_to="CENTRAL"),
                        level="manager"),
        return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], DomainError) and errors[0].status == 409
    row = await services.get_request(rid)
    unit = await parts.get_unit(row["serial_unit_id"])
    if row["status"] == "rejected":
        assert unit["location_code"] == "CENTRAL"
    else:
        assert row["status"] == "manager_approved" and unit["location_code"] == "QUARANTINE"


async def test_two_gms_approving_at_once_one_wins(quorum_2):
    """Two GMs approve the same version at once: one approval, the other Stale; one history row."""
    rid, _k = await approved(cost="9000.00")
    v = await version(rid)
    g1, g2 = await person("gm"), await person("gm")
    results = await asyncio.gather(
        *(services.decide(g, rid, DecisionInput(version=v, decision="approve"), level="gm") for g in (g1, g2)),
        return_exceptions=True)
    assert sum(isinstance(r, Stale) or (isinstance(r, DomainError) and r.status == 409) for r in results) == 1
    assert await count("SELECT COUNT(*) AS n FROM status_change WHERE table_name = 'scrap_request' AND row_id = {} "
                       "AND to_status = 'gm_approved'", rid) == 1


async def test_manager_refusal_returns_the_stock_and_needs_a_reason(quorum_2):
    """Refusing needs a note and a destination (X-05); the unit goes back to the central warehouse, recorded."""
    from app.core.forms import parse

    obj, errors = parse(DecisionInput, {"version": "3", "decision": "reject"})
    assert obj is None and {"note", "returned_to"} <= set(errors)
    rid, _k, _g = await appraised()
    m = await person("manager")
    await services.decide(m, rid, DecisionInput(version=await version(rid), decision="reject", note="仍可使用",
                                                returned_to="CENTRAL"), level="manager")
    row = await services.get_request(rid)
    assert row["status"] == "rejected" and row["rejected_stage"] == "manager" and row["returned_to"] == "CENTRAL"
    assert (await parts.get_unit(row["serial_unit_id"]))["location_code"] == "CENTRAL"
    assert await count("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'scrap.rejected' AND entity_id = {}", str(rid)) == 1


# --------------------------------------------------------------------------- disposal (R-SCR-01, R-SCR-03)


async def test_r_scr_03_stock_cannot_leave_quarantine_before_approval(quorum_2):
    """R-SCR-03: disposing an appraised (not yet approved) record is refused; the ledger has no scrap row."""
    rid, k, _g = await appraised()
    row = await services.get_request(rid)
    with pytest.raises(DomainError) as err:
        await services.dispose(k, rid, dispose_input(row["version"]))
    assert err.value.status == 409 and await scrap_moves(row["part_id"]) == 0
    assert (await parts.get_unit(row["serial_unit_id"]))["location_code"] == "QUARANTINE"


async def test_r_scr_01_disposal_writes_the_unit_off_through_the_ledger(quorum_2):
    """R-SCR-01/03: disposal records method, date and who; the unit leaves quarantine (`scrap` move), scrapped."""
    rid, k = await approved()
    row = await services.get_request(rid)
    await services.dispose(k, rid, dispose_input(row["version"], "recycle"))
    row = await services.get_request(rid)
    assert row["status"] == "disposed" and row["disposal_method"] == "recycle" and row["disposed_by"] == k.user_id
    unit = await parts.get_unit(row["serial_unit_id"])
    assert unit["location_id"] is None and unit["status"] == "scrapped"
    move = (await fetch("SELECT * FROM stock_move WHERE id = {}", row["disposal_move_id"]))[0]
    assert move["kind"] == "scrap" and move["document_id"] == row["number"] and move["to_location_id"] is None
    from app.parts import services as ledger  # reconcile is not in parts.api (tests may look deeper)

    assert (await ledger.reconcile(row["part_id"]))["mismatches"] == []


async def test_quantity_disposal_takes_the_quantity_out_of_quarantine(quorum_2):
    """A bulk record: disposal takes exactly its quantity out of quarantine."""
    k = await keeper()
    part_id, part_no = await quarantined_qty(7)
    rid = await services.raise_request(k, RaiseInput(reason="obsolete", part_no=part_no, qty=4))
    group = [await person("qc") for _ in range(2)]
    await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[g.user_id for g in group]))
    for g in group:
        await services.give_opinion(g, rid, OpinionInput(opinion="scrap"))
    m = await person("manager")
    await services.decide(m, rid, DecisionInput(version=await version(rid), decision="approve"), level="manager")
    await services.dispose(k, rid, dispose_input(await version(rid)))
    assert await parts.on_hand(part_id, "QUARANTINE") == 3


async def test_two_keepers_disposing_at_once_one_wins(quorum_2):
    """Two disposals of the same version: one ledger row, the other Stale."""
    rid, k = await approved()
    k2 = await keeper()
    v = await version(rid)
    results = await asyncio.gather(services.dispose(k, rid, dispose_input(v)), services.dispose(k2, rid, dispose_input(v)),
                                   return_exceptions=True)
    assert sum(isinstance(r, DomainError) for r in results) == 1
    assert await scrap_moves((await services.get_request(rid))["part_id"]) == 1


async def test_withdraw_returns_the_item(quorum_2):
    """The keeper withdraws a draft: rejected (withdrawn), unit back to the bench."""
    k = await keeper()
    _p, unit_id, serial = await quarantined_unit()
    rid = await raise_unit(k, serial)
    await services.withdraw(k, rid, WithdrawInput(version=await version(rid), note="误报", returned_to="BENCH"))
    row = await services.get_request(rid)
    assert row["status"] == "rejected" and row["rejected_stage"] == "withdrawn"
    assert (await parts.get_unit(unit_id))["location_code"] == "BENCH"


async def test_r_scr_01_linked_loaner_becomes_a_permanent_replacement(quorum_2):
    """R-SCR-01: disposing a record linked to a loan annotates the notice as a permanent replacement."""
    from app.loaners import api as loaners
    from tests.loaners.factories import checkout, make_customer, make_loaner

    k = await keeper()
    _lp, _lu, loaner_serial = await make_loaner()
    customer = await make_customer()
    loan_id = await checkout(k, loaner_serial, customer, case_ref="FW-9")
    loan = await loaners.get_loan(loan_id)
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k, serial, loan_number=loan["number"], source_type="rma", source_ref="RMA-2026-000001")
    group = [await person("bench") for _ in range(2)]
    await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[g.user_id for g in group]))
    for g in group:
        await services.give_opinion(g, rid, OpinionInput(opinion="scrap"))
    await services.decide(await person("manager"), rid, DecisionInput(version=await version(rid), decision="approve"),
                          level="manager")
    await services.dispose(k, rid, dispose_input(await version(rid)))
    row = await services.get_request(rid)
    assert row["loan_converted_at"] is not None
    loan = await loaners.get_loan(loan_id)
    assert loan["status"] == "converted" and loan["conversion_ref"] == row["number"]


async def test_unknown_loan_number_is_refused():
    """A notice number that does not exist → message on the field, nothing written."""
    k = await keeper()
    _p, _u, serial = await quarantined_unit()
    with pytest.raises(DomainError) as err:
        await raise_unit(k, serial, loan_number="BP-1999-000001")
    assert "loan_number" in err.value.errors


# --------------------------------------------------------------------------- finance (R-SCR-03)


async def test_r_scr_03_writeoff_list_totals_by_reason_and_supplier(quorum_2):
    """The month's write-offs: each disposed record once, totals by reason and supplier add up."""
    from app.core.dates import today

    month = today().strftime("%Y-%m")
    before = await queries.writeoffs(month)
    rid, k = await approved(cost="150.00")
    await services.dispose(k, rid, dispose_input(await version(rid)))
    after = await queries.writeoffs(month)
    assert after["total"] - before["total"] == Decimal("150.00")
    assert sum(v for _k, v in after["by_reason"]) == after["total"] == sum(v for _k, v in after["by_supplier"])
    assert any(r["id"] == rid for r in after["rows"])


async def test_two_keepers_raising_the_same_quantity_at_once_cannot_over_reserve():
    """Quarantine holds 5: two requests for 3 at once → one record, the other a message on qty."""
    k1, k2 = await keeper(), await keeper()
    _part_id, part_no = await quarantined_qty(5)
    results = await asyncio.gather(
        *(services.raise_request(k, RaiseInput(reason="obsolete", part_no=part_no, qty=3)) for k in (k1, k2)),
        return_exceptions=True)
    errors = [r for r in results if isinstance(r, Exception)]
    assert len(errors) == 1 and isinstance(errors[0], DomainError) and "qty" in errors[0].errors
    assert await count("SELECT COUNT(*) AS n FROM scrap_request WHERE part_no = {}", part_no) == 1


async def test_loaner_that_cannot_be_converted_keeps_the_reason_and_can_be_retried(quorum_2):
    """R-SCR-01: the loan is no longer out at disposal → the disposal stands, the reason is kept, annotate is offered."""
    from app.loaners import api as loaners
    from tests.loaners.factories import checkout, make_customer, make_loaner

    k = await keeper()
    _lp, _lu, loaner_serial = await make_loaner()
    loan_id = await checkout(k, loaner_serial, await make_customer(), case_ref="FW-10")
    loan = await loaners.get_loan(loan_id)
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k, serial, loan_number=loan["number"])
    group = [await person("bench") for _ in range(2)]
    await services.convene(k, rid, ConveneInput(version=await version(rid), appraisers=[g.user_id for g in group]))
    for g in group:
        await services.give_opinion(g, rid, OpinionInput(opinion="scrap"))
    await services.decide(await person("manager"), rid, DecisionInput(version=await version(rid), decision="approve"),
                          level="manager")
    await loaners.convert_to_permanent(k, loan_id, approval_ref="OTHER-1")  # meanwhile converted elsewhere
    await services.dispose(k, rid, dispose_input(await version(rid)))
    row = await services.get_request(rid)
    assert row["status"] == "disposed" and row["loan_converted_at"] is None and row["loan_note"]
    user = type("U", (), {"id": k.user_id, "roles": k.roles})()
    assert (await services.actions_for(user, row))["annotate"] is True


async def test_ledger_refusal_rolls_the_disposal_back(quorum_2):
    """The unit left quarantine meanwhile: the ledger refuses the `scrap` movement (409 with its message) and the
    record stays approved — the status move and the ledger row are one transaction."""
    rid, k = await approved()
    row = await services.get_request(rid)
    await parts.transfer(k, row["part_id"], 1, "QUARANTINE", "CENTRAL", serial=row["serial_unit_id"], reason="借出测试",
                         check_roles=False)
    with pytest.raises(DomainError) as err:
        await services.dispose(k, rid, dispose_input(row["version"]))
    assert err.value.status == 409
    after = await services.get_request(rid)
    assert after["status"] == "manager_approved" and after["version"] == row["version"]
    assert await scrap_moves(row["part_id"]) == 0
    assert await count("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'scrap.disposed' AND entity_id = {}",
                       str(rid)) == 0


@pytest.mark.parametrize("offset,ok", [(-1, True), (0, True), (1, False)])
async def test_disposal_date_may_not_be_in_the_future(offset, ok):
    """The disposal date: yesterday and today are accepted, tomorrow is a field message (X-05)."""
    import datetime as dt

    from app.core.dates import today
    from app.core.forms import parse
    from app.scrap.schemas import DisposeInput

    day = today() + dt.timedelta(days=offset)
    obj, errors = parse(DisposeInput, {"version": "2", "method": "destroy", "disposed_on": day.isoformat()})
    assert (obj is not None) is ok and (("disposed_on" in errors) is not ok)

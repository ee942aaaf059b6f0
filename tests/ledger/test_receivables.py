"""Rule tests for receivables (SPEC §H, R-AR-01…04)."""

from __future__ import annotations

import asyncio
import datetime as dt
from decimal import Decimal

import pytest

from app.core.db import fetch
from app.ledger import receivables as ar
from app.core.errors import DomainError
from app.core.dates import today
from app.ledger.services import post_receivable
from seed.factories import unique
from tests.ledger.factories import actor


def _customer() -> str:
    return unique("客户")


async def _sent_statement(desk, manager, finance, customer: str, amounts: list[str]) -> int:
    for a in amounts:
        await post_receivable(desk, "ticket", unique("T"), None, customer, "monthly", Decimal(a), "服务费", None,
                              posted_on=today() - dt.timedelta(days=3))
    sid = await ar.draft_statement(desk, customer, today().strftime("%Y-%m"))
    for who, verb in ((manager, "review"), (finance, "check"), (finance, "send")):
        st = await ar.get_statement(sid)
        await ar.move_statement(who, sid, verb, st["version"])
    return sid


async def test_post_receivable_joins_and_validates():
    """Any domain posts a line; bad input names the field and writes nothing."""
    desk = await actor("desk")
    name = _customer()
    with pytest.raises(DomainError) as err:
        await post_receivable(desk, "ticket", "1", None, name, "weekly", Decimal("0"), "x", None)
    assert {"account_class", "amount"} <= set(err.value.errors)
    rid = await post_receivable(desk, "ticket", "T-1", None, name, "monthly", Decimal("12.34"), "visit", None)
    row = (await fetch("SELECT * FROM receivable WHERE id = {}", rid))[0]
    assert (row["amount_fen"], row["due_date"]) == (1234, None)


async def test_r_ar_02_retail_due_in_seven_working_days_skipping_holidays():
    """R-AR-02: retail is due 7 working days after posting — weekends and public holidays skipped."""
    # Thu 2026-09-24 → Fri 25 is 中秋节 (holiday) → Mon 28, Tue 29, Wed 30, Thu 1 Oct (国庆 holiday)…
    due = await ar.add_working_days(dt.date(2026, 9, 24), 7)
    # Working: 28, 29, 30 Sep; 1–7 Oct off; then 8, 9, Sat 10 (国庆节调休, a make-up working day), 12 Oct.
    assert due == dt.date(2026, 10, 12)
    desk = await actor("desk")
    rid = await post_receivable(desk, "ticket", "R1", None, _customer(), "retail", Decimal("50"), "repair", None,
                                posted_on=dt.date(2026, 9, 24))
    row = (await fetch("SELECT due_date FROM receivable WHERE id = {}", rid))[0]
    assert str(row["due_date"])[:10] == "2026-10-12"


async def test_working_day_calendar_make_up_day_counts():
    """A make-up working Saturday in the calendar counts as a working day."""
    finance = await actor("finance")
    sat = dt.date(2031, 3, 1)  # a Saturday far from other tests
    assert await ar.add_working_days(dt.date(2031, 2, 28), 1) == dt.date(2031, 3, 3)
    await ar.set_calendar_day(finance, sat, True, "调休")
    assert await ar.add_working_days(dt.date(2031, 2, 28), 1) == sat
    await ar.delete_calendar_day(finance, sat)


async def test_r_ar_01_sales_confirmation_numbered_and_posted():
    """R-AR-01: the coordinator registers a sales confirmation: XS-number drawn, receivable posted."""
    desk, tech = await actor("desk"), await actor("field")
    name = _customer()
    sid, number = await ar.register_sales_confirmation(
        desk, customer_name=name, customer_id=None, account_class="retail", technician_user_id=tech.user_id,
        amount="1,200.50", description="硬盘录像机", sold_on=today())
    assert number.startswith("XS-")
    line = (await fetch("SELECT * FROM receivable WHERE source_type = 'sales_confirmation' AND source_id = {}", number))[0]
    assert (line["amount_fen"], line["technician_user_id"], line["customer_name"]) == (120050, tech.user_id, name)


async def test_r_ar_01_only_desk_registers_sales_confirmations():
    """R-AR-01: registering is the coordinator's job (desk)."""
    finance = await actor("finance")
    with pytest.raises(DomainError) as err:
        await ar.register_sales_confirmation(finance, customer_name="x", customer_id=None, account_class="retail",
                                             technician_user_id=1, amount="1", description="", sold_on=today())
    assert err.value.status == 403


async def test_r_ar_02_statement_workflow_roles_and_order():
    """R-AR-02: draft (desk) → review (manager) → check (finance) → sent; wrong role or order refused."""
    desk, manager, finance = await actor("desk"), await actor("manager"), await actor("finance")
    name = _customer()
    await post_receivable(desk, "ticket", unique("T"), None, name, "monthly", Decimal("100"), "a", None)
    await post_receivable(desk, "ticket", unique("T"), None, name, "monthly", Decimal("23.45"), "b", None)
    sid = await ar.draft_statement(desk, name, today().strftime("%Y-%m"))
    st = await ar.get_statement(sid)
    assert st["number"].startswith("DZ-") and st["total_fen"] == 12345 and len(st["lines"]) == 2
    with pytest.raises(DomainError) as err:
        await ar.move_statement(finance, sid, "check", st["version"])  # not reviewed yet
    assert err.value.status == 409
    with pytest.raises(DomainError) as err:
        await ar.move_statement(desk, sid, "review", st["version"])
    assert err.value.status == 403
    await ar.move_statement(manager, sid, "review", st["version"])
    st = await ar.get_statement(sid)
    with pytest.raises(DomainError):
        await ar.move_statement(finance, sid, "return_check", st["version"], note="")  # a return needs a note
    await ar.move_statement(finance, sid, "return_check", st["version"], note="第二行金额不对")
    st = await ar.get_statement(sid)
    assert st["status"] == "draft" and st["note"] == "第二行金额不对"
    for who, verb in ((manager, "review"), (finance, "check"), (finance, "send")):
        st = await ar.get_statement(sid)
        await ar.move_statement(who, sid, verb, st["version"])
    st = await ar.get_statement(sid)
    assert st["status"] == "sent" and st["due_on"] is not None
    assert all(ln["source_type"] == "ticket" for ln in st["lines"])


async def test_r_ar_02_concurrent_check_one_wins():
    """Two finance users checking the same statement at once: one wins, the rest get 409."""
    desk, manager = await actor("desk"), await actor("manager")
    f1, f2 = await actor("finance"), await actor("finance")
    name = _customer()
    await post_receivable(desk, "ticket", unique("T"), None, name, "monthly", Decimal("10"), "a", None)
    sid = await ar.draft_statement(desk, name, today().strftime("%Y-%m"))
    await ar.move_statement(manager, sid, "review", (await ar.get_statement(sid))["version"])
    version = (await ar.get_statement(sid))["version"]
    results = await asyncio.gather(*[ar.move_statement(who, sid, "check", version) for who in [f1, f2] * 5],
                                   return_exceptions=True)
    assert results.count("checked") == 1
    assert all(isinstance(r, DomainError) and r.status == 409 for r in results if r != "checked")
    events = await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'statement.check' AND entity_id = {}", str(sid))
    assert events[0]["n"] == 1


async def test_r_ar_02_part_payments_exact_to_the_fen_and_never_above_open():
    """Part payments allocate oldest first, exact to the fen; a payment above the open amount is refused."""
    desk, manager, finance = await actor("desk"), await actor("manager"), await actor("finance")
    name = _customer()
    sid = await _sent_statement(desk, manager, finance, name, ["100.01", "0.02", "33.33"])
    with pytest.raises(DomainError) as err:
        await ar.record_payment(finance, ar.new_token(), amount="133.37", received_on=today(), method="transfer",
                                statement_id=sid)
    assert "amount" in err.value.errors
    assert (await fetch("SELECT COUNT(*) AS n FROM ar_payment WHERE statement_id = {}", sid))[0]["n"] == 0
    await ar.record_payment(finance, ar.new_token(), amount="100.02", received_on=today(), method="transfer", statement_id=sid)
    st = await ar.get_statement(sid)
    assert (st["paid_fen"], st["open_fen"], st["status"]) == (10002, 3334, "sent")
    paid = [ln["paid_fen"] for ln in st["lines"]]
    assert paid == [10001, 1, 0]
    await ar.record_payment(finance, ar.new_token(), amount="33.34", received_on=today(), method="cash", statement_id=sid)
    st = await ar.get_statement(sid)
    assert (st["paid_fen"], st["status"]) == (13336, "settled")
    assert all(not ln["is_open"] for ln in st["lines"])


async def test_payment_double_submit_books_once():
    """The same one-time token submitted 10 times at once books one payment."""
    desk, finance = await actor("desk"), await actor("finance")
    rid = await post_receivable(desk, "ticket", unique("T"), None, _customer(), "retail", Decimal("80"), "x", None)
    token = ar.new_token()
    results = await asyncio.gather(*[ar.record_payment(finance, token, amount="30", received_on=today(), method="cash",
                                                       receivable_id=rid) for _ in range(10)], return_exceptions=True)
    ids = {r[0] for r in results if isinstance(r, tuple)}
    assert len(ids) == 1, results
    assert all(isinstance(r, tuple) or (isinstance(r, DomainError) and r.status == 409) for r in results)
    row = (await fetch("SELECT paid_fen FROM receivable WHERE id = {}", rid))[0]
    assert row["paid_fen"] == 3000
    assert (await fetch("SELECT COUNT(*) AS n FROM ar_payment WHERE token = {}", token))[0]["n"] == 1


async def test_concurrent_different_payments_never_exceed_open():
    """Ten finance clerks paying 30 on an 80 line at once: at most two succeed; paid never exceeds the amount."""
    desk, finance = await actor("desk"), await actor("finance")
    rid = await post_receivable(desk, "ticket", unique("T"), None, _customer(), "retail", Decimal("80"), "x", None)
    results = await asyncio.gather(*[ar.record_payment(finance, ar.new_token(), amount="30", received_on=today(),
                                                       method="cash", receivable_id=rid) for _ in range(10)],
                                   return_exceptions=True)
    ok = [r for r in results if isinstance(r, tuple)]
    assert len(ok) == 2
    row = (await fetch("SELECT paid_fen, is_open FROM receivable WHERE id = {}", rid))[0]
    assert row["paid_fen"] == 6000 and row["is_open"]


async def test_only_finance_records_payments():
    """Only finance records payments."""
    desk = await actor("desk")
    rid = await post_receivable(desk, "ticket", unique("T"), None, _customer(), "retail", Decimal("8"), "x", None)
    with pytest.raises(DomainError) as err:
        await ar.record_payment(desk, ar.new_token(), amount="8", received_on=today(), method="cash", receivable_id=rid)
    assert err.value.status == 403


async def test_line_on_statement_paid_through_statement_only():
    """A line on a statement is paid through the statement."""
    desk, finance = await actor("desk"), await actor("finance")
    name = _customer()
    rid = await post_receivable(desk, "ticket", unique("T"), None, name, "monthly", Decimal("8"), "x", None)
    await ar.draft_statement(desk, name, today().strftime("%Y-%m"))
    with pytest.raises(DomainError):
        await ar.record_payment(finance, ar.new_token(), amount="8", received_on=today(), method="cash", receivable_id=rid)


async def test_r_ar_03_extension_request_and_approval():
    """R-AR-03: an extension request waits for the manager; approval moves the due date; one pending at a time."""
    desk, manager, field = await actor("desk"), await actor("manager"), await actor("field")
    rid = await post_receivable(desk, "ticket", unique("T"), None, _customer(), "retail", Decimal("50"), "x", field.user_id)
    new_due = today() + dt.timedelta(days=40)
    with pytest.raises(DomainError) as err:
        await ar.request_extension(field, rid, reason="", requested_due_date=today() - dt.timedelta(days=1))
    assert {"reason", "requested_due_date"} <= set(err.value.errors)
    eid = await ar.request_extension(field, rid, reason="客户财务月底付款", requested_due_date=new_due)
    with pytest.raises(DomainError):
        await ar.request_extension(desk, rid, reason="again", requested_due_date=new_due)
    with pytest.raises(DomainError) as err:
        await ar.decide_extension(desk, eid, True)
    assert err.value.status == 403
    await ar.decide_extension(manager, eid, True, note="同意")
    row = (await fetch("SELECT due_date, extended FROM receivable WHERE id = {}", rid))[0]
    assert str(row["due_date"])[:10] == new_due.isoformat() and row["extended"]
    with pytest.raises(DomainError) as err:
        await ar.decide_extension(manager, eid, False)
    assert err.value.status == 409


async def test_r_ar_04_week_check_overdue_review_and_ageing():
    """R-AR-04: weekly reconciliation once per week; overdue lines listed for Monday; ageing buckets by days."""
    desk, manager, tech = await actor("desk"), await actor("manager"), await actor("field")
    name = _customer()
    as_of = today()
    for days, amount in ((5, "1.00"), (31, "2.00"), (61, "3.00"), (91, "4.00"), (200, "5.00")):
        await post_receivable(desk, "ticket", unique("T"), None, name, "retail", Decimal(amount), "x", tech.user_id,
                              posted_on=as_of - dt.timedelta(days=days), due_date=as_of - dt.timedelta(days=days - 7))
    report = await ar.ageing(as_of)
    mine = [c for c in report["all_customers"] if c["customer_name"] == name][0]
    assert (mine["b0"], mine["b1"], mine["b2"], mine["b3"], mine["total"]) == (100, 200, 300, 900, 1500)
    overdue = [r for r in (await ar.overdue_review(as_of, tech.user_id))["rows"] if r["customer_name"] == name]
    assert len(overdue) == 4  # the 5-day-old line is due in 2 days
    await ar.save_followup(manager, overdue[0]["id"], "已催款，下周付")
    ledger = await ar.technician_ledger(tech.user_id, as_of - dt.timedelta(days=5))
    assert ledger["week_total"] >= 100
    await ar.check_week(desk, tech.user_id, as_of - dt.timedelta(days=5), note="ok")
    with pytest.raises(DomainError) as err:
        await ar.check_week(desk, tech.user_id, as_of - dt.timedelta(days=5))
    assert err.value.status == 409


async def test_r_ar_03_simultaneous_extension_requests_leave_one_pending():
    """Five requests for the same line at once: one waits, four are told one is already waiting."""
    desk, field = await actor("desk"), await actor("field")
    rid = await post_receivable(desk, "ticket", unique("T"), None, _customer(), "retail", Decimal("20"), "x", field.user_id)
    new_due = today() + dt.timedelta(days=30)
    results = await asyncio.gather(*[ar.request_extension(field, rid, reason="月底付款", requested_due_date=new_due)
                                     for _ in range(5)], return_exceptions=True)
    assert sum(isinstance(r, int) for r in results) == 1
    assert all(isinstance(r, DomainError) for r in results if not isinstance(r, int))
    assert len(await fetch("SELECT id FROM ar_extension WHERE receivable_id = {} AND status = 'pending'", rid)) == 1

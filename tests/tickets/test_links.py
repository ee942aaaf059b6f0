"""The other domains hear about a visit: parts consumed from the technician's own stock (parts ledger),
the paper slip number through the ledger (R-SLIP-02), failures to the device's warranty (R-CUS-05),
the loaner close guard."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.db import fetch
from app.core.errors import DomainError
from app.parts import api as parts
from app.tickets import services
from seed.parts import make_part, stock
from tests.ledger.factories import actor as ledger_actor, issued_book
from tests.tickets.factories import T0, field, finish_form, make_customer, make_device, on_site, visit_of

M = dt.timedelta(minutes=1)


async def _on_site_with_stock(qty: int = 3):
    tech = await field()
    part_id = await make_part()
    loc = await parts.technician_location(tech.user_id)
    await stock(part_id, loc, qty)
    part = await parts.get_part(part_id)
    tid, d, tech = await on_site(tech=tech)
    return tid, tech, part, loc


async def on_site(tech=None, **kw):
    from tests.tickets.factories import dispatched, step

    tid, d, tech = await dispatched(tech=tech, **kw)
    v = await visit_of(tid)
    await services.depart(tech, v["id"], step(v), now=T0 + 10 * M)
    v = await visit_of(tid)
    await services.arrive(tech, v["id"], step(v), now=T0 + 60 * M)
    return tid, d, tech


async def test_parts_used_are_consumed_from_the_technicians_own_stock():
    """Finishing with 2 of a part in the technician's stock issues them to the ticket through the parts ledger."""
    tid, tech, part, loc = await _on_site_with_stock(3)
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v, part_no=part["part_no"], qty="2"), now=T0 + 90 * M)
    assert await parts.on_hand(part["id"], loc) == 1
    used = await fetch("SELECT part_no, qty FROM ticket_visit_part WHERE ticket_id = {}", tid)
    assert [(r["part_no"], r["qty"]) for r in used] == [(part["part_no"], 2)]


async def test_parts_not_in_own_stock_refused_nothing_written():
    """More than the technician holds (or an unknown part) is a field error; stock, visit and ticket unchanged."""
    tid, tech, part, loc = await _on_site_with_stock(1)
    v = await visit_of(tid)
    for part_no, qty in ((part["part_no"], "2"), ("NO-SUCH-PART", "1")):
        with pytest.raises(DomainError) as exc:
            await services.finish(tech, v["id"], finish_form(v, part_no=part_no, qty=qty), now=T0 + 90 * M)
        assert "part_no" in exc.value.errors
    assert await parts.on_hand(part["id"], loc) == 1
    assert (await visit_of(tid))["status"] == "on_site"


async def test_r_slip_02_visit_records_the_next_slip_number_and_refuses_out_of_order():
    """The technician's book: number 2 while 1 is unused is refused with the ledger's message; 1 is linked to the job."""
    finance = await ledger_actor("finance")
    tech = await field()
    book = await issued_book(finance, tech, per_book=10, first=1)
    tid, _d, tech = await on_site(tech=tech)
    v = await visit_of(tid)
    with pytest.raises(DomainError) as exc:
        await services.finish(tech, v["id"], finish_form(v, slip_number="2", amount="80.00"), now=T0 + 90 * M)
    assert "slip_number" in exc.value.errors
    with pytest.raises(DomainError) as exc:  # a book is held: the number is required
        await services.finish(tech, v["id"], finish_form(v), now=T0 + 90 * M)
    assert "slip_number" in exc.value.errors
    assert (await visit_of(tid))["status"] == "on_site"
    await services.finish(tech, v["id"], finish_form(v, slip_number="1", amount="80.00"), now=T0 + 90 * M)
    number = (await fetch("SELECT number FROM ticket WHERE id = {}", tid))[0]["number"]
    slip = await fetch("SELECT state, job_type, job_id, amount_fen FROM slip WHERE book_id = {} AND number = 1", book["id"])
    assert (slip[0]["state"], slip[0]["job_id"], slip[0]["amount_fen"]) == ("used", number, 8000)


async def test_r_slip_02_a_number_from_another_repairers_book_is_refused():
    """A number that is in somebody else's book is not in this technician's book: refused, nothing written."""
    finance = await ledger_actor("finance")
    tech, other = await field(), await field()
    await issued_book(finance, tech, per_book=5, first=1)
    await issued_book(finance, other, per_book=5, first=101)
    tid, _d, tech = await on_site(tech=tech)
    v = await visit_of(tid)
    with pytest.raises(DomainError) as exc:
        await services.finish(tech, v["id"], finish_form(v, slip_number="101"), now=T0 + 90 * M)
    assert "slip_number" in exc.value.errors
    assert (await visit_of(tid))["status"] == "on_site"


async def test_r_cus_05_unclearable_failure_that_stopped_work_extends_the_warranty():
    """Not done, work stopped → record_failure(unresolvable) on the device: the warranty end moves by 60 days."""
    cid = await make_customer()
    dev = await make_device(cid, acceptance=dt.date.today() - dt.timedelta(days=100), warranty_months=36)
    before = (await fetch("SELECT warranty_end FROM device WHERE id = {}", dev))[0]["warranty_end"]
    tid, _d, tech = await on_site(customer_id=cid, device_id=dev, fault_code="DVR-HDD")
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v, result="return_repair", work_stopped="1"),
                          now=dt.datetime.now(dt.timezone.utc))
    events = await fetch("SELECT event_type, unresolvable, source_type FROM device_event WHERE device_id = {}", dev)
    assert ("failure", True, "ticket") in {(e["event_type"], bool(e["unresolvable"]), e["source_type"]) for e in events}
    after = (await fetch("SELECT warranty_end FROM device WHERE id = {}", dev))[0]["warranty_end"]
    from app.core.dates import as_date

    assert as_date(after) == as_date(before) + dt.timedelta(days=60)


async def test_a_ticket_cannot_close_while_its_loaner_is_out():
    """The loaners domain's `ticket` close guard: a loaner still out blocks the close (409 with a link)."""
    from tests.loaners.factories import checkout, keeper, make_loaner
    from tests.tickets.factories import sign_form

    cid = await make_customer()
    tid, d, tech = await on_site(customer_id=cid)
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v), now=T0 + 90 * M)
    v = await visit_of(tid)
    await services.sign(tech, v["id"], sign_form(v), now=T0 + 95 * M)
    _part, _unit, serial = await make_loaner()
    number = (await fetch("SELECT number FROM ticket WHERE id = {}", tid))[0]["number"]
    await checkout(await keeper(), serial, cid, case_type="ticket", case_id=str(tid), case_ref=number)
    version = (await fetch("SELECT version FROM ticket WHERE id = {}", tid))[0]["version"]
    with pytest.raises(DomainError) as exc:
        await services.close(d, tid, version)
    assert exc.value.status == 409 and exc.value.link.startswith("/loaners/")
    assert (await fetch("SELECT status FROM ticket WHERE id = {}", tid))[0]["status"] == "signed"

"""R-TKT-04 parts reserved at dispatch (through the parts api), the breach sweep run in the background,
and the "breaching within 30 min" boundary; frozen clocks via now=."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.core.db import fetch
from app.core.errors import DomainError
from app.core.forms import parse_or_raise
from app.parts import api as parts
from app.tickets import services
from app.tickets.queries import TicketFilter, list_tickets
from app.tickets.schemas import DispatchForm
from seed.parts import make_part, stock
from tests.tickets.factories import T0, desk, dispatched, field, finish_form, new_ticket, step, version, visit_of

M = dt.timedelta(minutes=1)
S = dt.timedelta(seconds=1)


def _dispatch_form(tid_version: int, tech_id: int, *lines: tuple[int, int, int]) -> DispatchForm:
    return parse_or_raise(DispatchForm, {"version": str(tid_version), "technician_id": str(tech_id),
                                         "res_item": [f"{loc}:{part}" for loc, part, _q in lines],
                                         "res_qty": [str(q) for _l, _p, q in lines]})


async def _central() -> int:
    return int((await parts.get_location("CENTRAL"))["id"])


async def _number(tid: int) -> str:
    return (await fetch("SELECT number FROM ticket WHERE id = {}", tid))[0]["number"]


async def test_r_tkt_04_dispatch_reserves_parts_and_the_store_can_spare_less():
    d, tech = await desk(), await field()
    part_id, central = await make_part(), await _central()
    await stock(part_id, central, 3)
    tid = await new_ticket(d)
    await services.dispatch(d, tid, _dispatch_form(await version(tid), tech.user_id, (central, part_id, 2)), now=T0)
    number = await _number(tid)
    held = await parts.reservations_for("ticket", number)
    assert [(r["part_id"], r["qty"], r["status"]) for r in held] == [(part_id, 2, "open")]
    assert await parts.available(part_id, central) == 1 and await parts.on_hand(part_id, central) == 3
    # the ledger respects it: a transfer of 2 for somebody else is refused, 1 goes
    with pytest.raises(DomainError) as exc:
        await parts.transfer(d, part_id, 2, central, "BENCH", check_roles=False)
    assert parts.is_not_enough_stock(exc.value) and exc.value.current["available"] == 1
    await parts.transfer(d, part_id, 1, central, "BENCH", check_roles=False)
    # the reserved parts go to the technician for this ticket: the reservation is consumed by that move
    loc = await parts.technician_location(tech.user_id)
    await parts.transfer(d, part_id, 2, central, loc, document_type="ticket", document_id=number, check_roles=False)
    assert (await parts.reservations_for("ticket", number))[0]["status"] == "consumed"
    assert await parts.on_hand(part_id, central) == 0


async def test_r_tkt_04_reserving_more_than_available_refused_and_nothing_dispatched():
    d, tech = await desk(), await field()
    part_id, central = await make_part(), await _central()
    await stock(part_id, central, 1)
    tid = await new_ticket(d)
    with pytest.raises(DomainError) as exc:
        await services.dispatch(d, tid, _dispatch_form(await version(tid), tech.user_id, (central, part_id, 2)), now=T0)
    assert "res_item" in exc.value.errors
    t = (await fetch("SELECT status, assignee_id FROM ticket WHERE id = {}", tid))[0]
    assert (t["status"], t["assignee_id"]) == ("new", None)
    assert await parts.available(part_id, central) == 1
    assert await parts.reservations_for("ticket", await _number(tid)) == []


async def test_r_tkt_04_only_stores_or_the_technicians_own_stock():
    d, tech, other = await desk(), await field(), await field()
    part_id = await make_part()
    elsewhere = await parts.technician_location(other.user_id)
    await stock(part_id, elsewhere, 2)
    tid = await new_ticket(d)
    with pytest.raises(DomainError) as exc:
        await services.dispatch(d, tid, _dispatch_form(await version(tid), tech.user_id, (elsewhere, part_id, 1)), now=T0)
    assert "res_item" in exc.value.errors
    assert await parts.available(part_id, elsewhere) == 2


async def test_r_tkt_04_two_dispatches_reserving_the_last_unit_one_wins():
    d1, d2, tech = await desk(), await desk(), await field()
    part_id, central = await make_part(), await _central()
    await stock(part_id, central, 1)
    a, b = await new_ticket(d1), await new_ticket(d2)
    results = await asyncio.gather(
        services.dispatch(d1, a, _dispatch_form(await version(a), tech.user_id, (central, part_id, 1)), now=T0),
        services.dispatch(d2, b, _dispatch_form(await version(b), tech.user_id, (central, part_id, 1)), now=T0),
        return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["DomainError", "dict"], results
    loser = next(r for r in results if isinstance(r, DomainError))
    assert "res_item" in loser.errors
    rows = await fetch("SELECT on_hand, reserved FROM stock_level WHERE part_id = {} AND location_id = {}", part_id, central)
    assert (rows[0]["on_hand"], rows[0]["reserved"]) == (1, 1)
    held = await fetch("SELECT COUNT(*) AS n FROM stock_reservation WHERE part_id = {} AND status = 'open'", part_id)
    assert held[0]["n"] == 1


async def test_r_tkt_04_visit_consumes_its_reservation_and_done_releases_the_rest():
    d, tech = await desk(), await field()
    part_id, central = await make_part(), await _central()
    loc = await parts.technician_location(tech.user_id)
    await stock(part_id, loc, 2)
    await stock(part_id, central, 1)
    tid = await new_ticket(d)
    await services.dispatch(d, tid, _dispatch_form(await version(tid), tech.user_id, (loc, part_id, 2), (central, part_id, 1)),
                            now=T0)
    assert await parts.available(part_id, loc) == 0
    v = await visit_of(tid)
    await services.depart(tech, v["id"], step(v), now=T0 + 10 * M)
    v = await visit_of(tid)
    await services.arrive(tech, v["id"], step(v), now=T0 + 60 * M)
    v = await visit_of(tid)
    part = await parts.get_part(part_id)
    await services.finish(tech, v["id"], finish_form(v, part_no=part["part_no"], qty="2"), now=T0 + 90 * M)
    assert await parts.on_hand(part_id, loc) == 0
    statuses = sorted(r["status"] for r in await parts.reservations_for("ticket", await _number(tid)))
    assert statuses == ["consumed", "released"]
    assert await parts.available(part_id, central) == 1


async def test_r_tkt_04_close_releases_what_is_still_held():
    d, tech = await desk(), await field()
    part_id, central = await make_part(), await _central()
    await stock(part_id, central, 2)
    tid = await new_ticket(d)
    await services.dispatch(d, tid, _dispatch_form(await version(tid), tech.user_id, (central, part_id, 2)), now=T0)
    v = await visit_of(tid)
    await services.depart(tech, v["id"], step(v), now=T0 + 10 * M)
    v = await visit_of(tid)
    await services.arrive(tech, v["id"], step(v), now=T0 + 60 * M)
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v, result="recontact"), now=T0 + 90 * M)
    assert await parts.available(part_id, central) == 0  # not done: still held for the next visit
    v = await visit_of(tid)
    from tests.tickets.factories import sign_form

    await services.sign(tech, v["id"], sign_form(v), now=T0 + 95 * M)
    await services.close(d, tid, await version(tid), now=T0 + 100 * M)
    assert await parts.available(part_id, central) == 2
    audit = await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'stock.reservation_released'")
    assert audit[0]["n"] >= 1


async def test_count_corrections_are_not_stopped_by_a_reservation():
    d, central = await desk(), await _central()
    part_id = await make_part()
    await stock(part_id, central, 1)
    await parts.reserve(d, part_id, central, 1, "ticket", "FW-TEST-1", check_roles=False)
    from app.parts import services as psvc
    from seed.parts import KEEPER

    await psvc.adjust(KEEPER, part_id, central, -1, "lost in the count")
    assert await parts.on_hand(part_id, central) == 0


# ---------------------------------------------------------------- the sweep (R-TKT-05) and the 30-minute view


async def test_r_tkt_05_sweep_records_each_breach_once_and_is_cheap_when_nothing_is_new():
    tid = await new_ticket(now=T0)
    due = (await fetch("SELECT respond_due FROM ticket WHERE id = {}", tid))[0]["respond_due"]
    due = services._aware(due)
    await services.sweep_breaches(now=due)  # on the deadline: not yet (other tests' tickets may breach here)
    assert await fetch("SELECT id FROM ticket_breach WHERE ticket_id = {}", tid) == []
    await services.sweep_breaches(now=due + S)
    await services.sweep_breaches(now=due + S)
    assert await services.sweep_breaches(now=due + S) == 0  # nothing new: no write at all
    rows = await fetch("SELECT clock, breached_at FROM ticket_breach WHERE ticket_id = {}", tid)
    assert [(r["clock"], services._aware(r["breached_at"])) for r in rows if r["clock"] == "respond"] == [("respond", due)]


async def test_the_periodic_job_is_declared_and_runs_the_sweep():
    from app.core import periodic

    job = periodic.REGISTRY["tickets.sla_sweep"]
    assert job.every == "tickets.sweep_seconds"
    assert isinstance(await periodic.run_once(job), int)


async def test_later_rounds_read_only_deadlines_fallen_due_since_the_last_round():
    from app.tickets.services import _sla

    tid = await new_ticket(now=T0)
    due = services._aware((await fetch("SELECT respond_due FROM ticket WHERE id = {}", tid))[0]["respond_due"])
    _sla._LAST_SWEEP["at"] = due - 2 * M  # a round just before the deadline
    await services.sweep_recent(now=due + S)
    rows = await fetch("SELECT clock, breached_at FROM ticket_breach WHERE ticket_id = {} AND clock = 'respond'", tid)
    assert [services._aware(r["breached_at"]) for r in rows] == [due]
    assert _sla._LAST_SWEEP["at"] == due + S


@pytest.mark.parametrize("left,listed", [(30 * M - S, True), (30 * M, True), (30 * M + S, False)])
async def test_r_tkt_05_breaching_within_30_minutes_at_the_boundary(left, listed):
    from app.tickets.controllers import sla_view

    tid = await new_ticket(now=T0)
    t = (await fetch("SELECT * FROM ticket WHERE id = {}", tid))[0]
    due = services._aware(t["sla_due"])
    now = due - left
    rows, _c = await list_tickets(TicketFilter(view="breaching"), user_id=None, now=now, warn_minutes=30, limit=500)
    assert (tid in [r["id"] for r in rows]) is listed
    assert (await sla_view(t, now, 30))["tone"] == ("warn" if listed else "ok")


async def test_the_lifespan_starts_one_loop_per_job_unless_turned_off(monkeypatch):
    from app.core import periodic

    monkeypatch.setenv("SHOUHOU_PERIODIC", "0")
    assert periodic.start() == []
    monkeypatch.setenv("SHOUHOU_PERIODIC", "1")
    tasks = periodic.start()
    try:
        assert "periodic:tickets.sla_sweep" in {t.get_name() for t in tasks}
        assert not any(t.done() for t in tasks)  # sleeping until the first interval
    finally:
        await periodic.stop(tasks)
    assert all(t.cancelled() or t.done() for t in tasks)

"""Ticket services: one behaviour per test, rule IDs in the names; frozen clocks via now=."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.core.db import fetch
from app.core.errors import DomainError, Stale
from app.core.forms import parse, parse_or_raise
from app.tickets import services
from app.tickets.schemas import CallForm, DispatchForm, PauseForm, SignForm
from tests.tickets.factories import (T0, desk, dispatched, field, finish_form, intake, make_contract, make_customer,
                                     make_device, new_ticket, on_site, person, sign_form, step, version, visit_of)

H = dt.timedelta(hours=1)
M = dt.timedelta(minutes=1)
S = dt.timedelta(seconds=1)


async def _ticket(tid: int) -> dict:
    return (await fetch("SELECT * FROM ticket WHERE id = {}", tid))[0]


def _utc(value):
    return services._aware(value)


# ---------------------------------------------------------------- intake R-TKT-01/02/05/09

async def test_r_tkt_01_intake_records_every_field_with_a_gapless_number():
    """All intake fields are stored and the number comes from the FW series, one after the other."""
    d = await desk()
    cid = await make_customer()
    a = await services.create_ticket(d, intake(cid, channel="fax", location="机房", tried="重启过", fault_code="nosignal",
                                               current_state="黑屏", fault_at="2026-01-05T08:30"), now=T0)
    b = await services.create_ticket(d, intake(cid), now=T0)
    ta, tb = await _ticket(a), await _ticket(b)
    assert ta["number"].startswith("FW-") and int(tb["number"][-6:]) == int(ta["number"][-6:]) + 1
    assert (ta["channel"], ta["location"], ta["tried"], ta["fault_code"], ta["current_state"]) == (
        "fax", "机房", "重启过", "NOSIGNAL", "黑屏")
    assert ta["status"] == "new" and ta["fault_at"] is not None
    audit = await fetch("SELECT action FROM audit_event WHERE entity_type = 'ticket' AND entity_id = {}", str(a))
    assert [r["action"] for r in audit] == ["tickets.created"]


async def test_r_tkt_01_intake_refuses_missing_fields_and_a_foreign_device():
    """Missing contact / service are field errors; a device of another customer is refused; nothing written."""
    _obj, errors = parse(type(intake(1)), {"customer_id": "1", "channel": "pigeon"})
    assert {"channel", "contact_name", "contact_phone", "requested_service", "nature", "category"} <= set(errors)
    d = await desk()
    cid, other = await make_customer(), await make_customer()
    dev = await make_device(other)
    before = (await fetch("SELECT COUNT(*) AS n FROM ticket"))[0]["n"]
    with pytest.raises(DomainError) as exc:
        await services.create_ticket(d, intake(cid, device_id=dev), now=T0)
    assert "device_id" in exc.value.errors
    assert (await fetch("SELECT COUNT(*) AS n FROM ticket"))[0]["n"] == before


async def test_r_tkt_02_entitlement_decides_billing():
    """No contract → chargeable; annual → covered by the contract; device in warranty → free."""
    cid = await make_customer()
    assert (await services.entitlement(cid))["billing"] == "chargeable"
    annual = await make_customer()
    await make_contract(annual, "annual")
    ent = await services.entitlement(annual)
    assert (ent["status"], ent["billing"]) == ("annual", "contract")
    dev = await make_device(annual, acceptance=T0.date() - dt.timedelta(days=100), warranty_months=36)
    ent = await services.entitlement(annual, dev)
    assert ent["billing"] == "free" and ent["warranty_end"] is not None
    tid = await services.create_ticket(await desk(), intake(annual, device_id=dev), now=T0)
    row = await _ticket(tid)
    assert (row["entitlement"], row["billing"]) == ("annual", "free")


async def test_r_tkt_02_intake_refused_for_field_technician():
    """Only desk and engineering manager take calls."""
    with pytest.raises(DomainError) as exc:
        await services.create_ticket(await field(), intake(await make_customer()), now=T0)
    assert exc.value.status == 403


async def test_r_tkt_05_deadlines_city_suburb_and_36h_cap():
    """Respond 1 h; on site 2 h city / 12 h suburb (settings); a contract over 36 h is capped at 36 h."""
    city = await new_ticket(customer_id=await make_customer(area="city"))
    suburb = await new_ticket(customer_id=await make_customer(area="suburb"))
    slow = await make_customer()
    await make_contract(slow, "annual", onsite_hours_city=48, response_hours=4)
    capped = await new_ticket(customer_id=slow)
    c, s, k = await _ticket(city), await _ticket(suburb), await _ticket(capped)
    assert _utc(c["respond_due"]) == T0 + H and _utc(c["onsite_due"]) == T0 + 2 * H
    assert _utc(s["onsite_due"]) == T0 + 12 * H
    assert _utc(k["respond_due"]) == T0 + 4 * H and _utc(k["onsite_due"]) == T0 + 36 * H


async def test_r_tkt_05_resident_on_site_within_5_minutes():
    """A resident post must be on site within 5 min of the call."""
    tid = await new_ticket(service_mode="resident")
    assert _utc((await _ticket(tid))["onsite_due"]) == T0 + 5 * M


async def test_r_tkt_09_same_fault_same_device_is_a_repeat_repair():
    """A second ticket for the same device and fault points to the first; another fault does not."""
    cid = await make_customer()
    dev = await make_device(cid)
    first = await new_ticket(customer_id=cid, device_id=dev, fault_code="NO-VIDEO")
    again = await new_ticket(customer_id=cid, device_id=dev, fault_code="no-video")
    other = await new_ticket(customer_id=cid, device_id=dev, fault_code="PTZ")
    assert (await _ticket(again))["repeat_of"] == first
    assert (await _ticket(other))["repeat_of"] is None


# ---------------------------------------------------------------- dispatch R-TKT-03

async def test_r_tkt_03_dispatch_assigns_a_visit_and_numbers_the_dispatch_slip():
    """Assigning makes visit 1 for the technician, draws a PG number, starts the mobile departure clock (10 min)."""
    tid, _d, tech = await dispatched()
    t = await _ticket(tid)
    v = await visit_of(tid)
    assert t["status"] == "assigned" and t["assignee_id"] == tech.user_id and t["dispatch_number"].startswith("PG-")
    assert (v["seq"], v["status"], v["technician_id"]) == (1, "planned", tech.user_id)
    assert _utc(t["depart_due"]) == T0 + 5 * M + 10 * M and _utc(t["responded_at"]) == T0 + 5 * M


async def test_r_tkt_03_two_dispatchers_race_one_wins_the_other_sees_who():
    """Two dispatchers assign the same ticket with the same version: one wins, the other gets 409 naming the winner."""
    d1, d2 = await desk(), await desk()
    t1, t2 = await person("field", name="李一"), await person("field", name="王二")
    tid = await new_ticket(d1)
    ver = await version(tid)
    forms = [parse_or_raise(DispatchForm, {"version": str(ver), "technician_id": str(t.user_id)}) for t in (t1, t2)]
    results = await asyncio.gather(services.dispatch(d1, tid, forms[0], now=T0), services.dispatch(d2, tid, forms[1], now=T0),
                                   return_exceptions=True)
    wins = [r for r in results if isinstance(r, dict)]
    losses = [r for r in results if isinstance(r, Stale)]
    assert len(wins) == 1 and len(losses) == 1
    winner = (await _ticket(tid))["assignee_id"]
    assert ("李一" if winner == t1.user_id else "王二") in losses[0].message
    assert (await fetch("SELECT COUNT(*) AS n FROM ticket_visit WHERE ticket_id = {}", tid))[0]["n"] == 1


async def test_r_tkt_03_queue_then_engineering_manager_assigns():
    """The desk sends it to the manager's queue; the engineering manager assigns from there."""
    d = await desk()
    tid = await new_ticket(d)
    await services.dispatch(d, tid, parse_or_raise(DispatchForm, {"version": str(await version(tid)), "to_queue": "1"}), now=T0)
    assert (await _ticket(tid))["status"] == "queued"
    em, tech = await person("eng_manager"), await field()
    await services.dispatch(em, tid, parse_or_raise(DispatchForm, {"version": str(await version(tid)),
                                                                   "technician_id": str(tech.user_id)}), now=T0)
    assert (await _ticket(tid))["status"] == "assigned"


async def test_r_tkt_03_only_field_technicians_and_only_dispatchers():
    """Assigning to a non-technician is a field error; a technician cannot dispatch (403)."""
    d = await desk()
    tid = await new_ticket(d)
    clerk = await person("finance")
    with pytest.raises(DomainError) as exc:
        await services.dispatch(d, tid, parse_or_raise(DispatchForm, {"version": str(await version(tid)),
                                                                      "technician_id": str(clerk.user_id)}), now=T0)
    assert "technician_id" in exc.value.errors
    tech = await field()
    with pytest.raises(DomainError) as exc:
        await services.dispatch(tech, tid, parse_or_raise(DispatchForm, {"version": str(await version(tid)),
                                                                         "technician_id": str(tech.user_id)}), now=T0)
    assert exc.value.status == 403
    assert (await _ticket(tid))["status"] == "new"


# ---------------------------------------------------------------- the visit R-TKT-04/06

async def test_r_tkt_04_eta_call_recorded_and_a_past_eta_refused():
    """The pre-departure call stores the agreed time; a time in the past is a field error."""
    tid, _d, tech = await dispatched()
    v = await visit_of(tid)
    now = T0 + 6 * M
    with pytest.raises(DomainError) as exc:
        await services.record_call(tech, v["id"], parse_or_raise(CallForm, {"version": str(v["version"]),
                                   "eta": (now - 3 * H).isoformat()}), now=now)
    assert "eta" in exc.value.errors
    await services.record_call(tech, v["id"], parse_or_raise(CallForm, {"version": str(v["version"]),
                               "eta": (now + H).isoformat(), "note": "客户在家"}), now=now)
    v = await visit_of(tid)
    assert _utc(v["eta_at"]) == now + H and _utc(v["called_at"]) == now


async def test_arrival_before_departure_refused_nothing_written():
    """An arrival time earlier than the departure is a field error; the visit stays on the way."""
    tid, _d, tech = await dispatched()
    v = await visit_of(tid)
    await services.depart(tech, v["id"], step(v), now=T0 + 10 * M)
    v = await visit_of(tid)
    with pytest.raises(DomainError) as exc:
        await services.arrive(tech, v["id"], step(v, T0 + 9 * M), now=T0 + 30 * M)
    assert "at" in exc.value.errors
    assert (await visit_of(tid))["status"] == "on_way" and (await _ticket(tid))["arrived_at"] is None


async def test_arrival_without_departure_and_finish_before_arrival_refused():
    """Arrive before depart, finish before arrive: clear field messages, nothing written."""
    tid, _d, tech = await dispatched()
    v = await visit_of(tid)
    with pytest.raises(DomainError) as exc:
        await services.arrive(tech, v["id"], step(v), now=T0 + 30 * M)
    assert "at" in exc.value.errors
    with pytest.raises(DomainError) as exc:
        await services.finish(tech, v["id"], finish_form(v), now=T0 + 30 * M)
    assert "at" in exc.value.errors
    assert (await visit_of(tid))["status"] == "planned"


async def test_field_technician_cannot_touch_another_technicians_visit():
    """Field sees and edits only visits assigned to them (403)."""
    tid, _d, _tech = await dispatched()
    other = await field()
    v = await visit_of(tid)
    with pytest.raises(DomainError) as exc:
        await services.depart(other, v["id"], step(v), now=T0 + 10 * M)
    assert exc.value.status == 403


async def test_r_tkt_06_double_tapped_finish_records_one_visit():
    """Two finishes of the same visit at once: one succeeds, the other is stale; one result, one audit event."""
    tid, _d, tech = await on_site()
    v = await visit_of(tid)
    results = await asyncio.gather(services.finish(tech, v["id"], finish_form(v), now=T0 + 90 * M),
                                   services.finish(tech, v["id"], finish_form(v), now=T0 + 90 * M), return_exceptions=True)
    assert sum(isinstance(r, dict) for r in results) == 1
    assert sum(isinstance(r, DomainError) and r.status == 409 for r in results) == 1
    events = await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'tickets.finished' AND entity_id = {}", str(tid))
    assert events[0]["n"] == 1 and (await _ticket(tid))["status"] == "done"


async def test_r_tkt_06_sign_needs_satisfaction_reason_if_unhappy_and_a_signature():
    """Satisfaction and accessories are required; unhappy needs a reason; no signature is a field error."""
    _o, errors = parse(SignForm, {"version": "1", "signer": "王", "signature": "x"})
    assert {"satisfaction", "accessories"} <= set(errors)
    _o, errors = parse(SignForm, {"version": "1", "signer": "王", "satisfaction": "unhappy", "accessories": "yes",
                                  "signature": "x"})
    assert "unhappy_reason" in errors
    _o, errors = parse(SignForm, {"version": "1", "signer": "王", "satisfaction": "very", "accessories": "yes"})
    assert "signature" in errors


async def test_r_tkt_06_a_signature_that_is_not_a_png_is_refused():
    """The canvas sends a PNG; anything else (checked by its first bytes) is refused, the visit stays unsigned."""
    tid, _d, tech = await on_site()
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v), now=T0 + 90 * M)
    v = await visit_of(tid)
    with pytest.raises(DomainError) as exc:
        await services.sign(tech, v["id"], sign_form(v, signature="data:image/png;base64,R0lGODlhAQABAAAAACw="), now=T0 + 95 * M)
    assert "signature" in exc.value.errors
    assert (await visit_of(tid))["status"] == "finished"


@pytest.mark.parametrize("sat,score", [("very", 5), ("satisfied", 3), ("average", 2), ("unhappy", 0)])
async def test_r_tkt_08_satisfaction_scores_5_3_2_0(sat, score):
    """Signing stores the score of the satisfaction; when every visit is signed the ticket is signed."""
    tid, _d, tech = await on_site()
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v), now=T0 + 90 * M)
    v = await visit_of(tid)
    await services.sign(tech, v["id"], sign_form(v, satisfaction=sat, unhappy_reason="speed" if sat == "unhappy" else ""),
                        now=T0 + 95 * M)
    v = await visit_of(tid)
    assert (v["status"], v["score"], v["satisfaction"]) == ("signed", score, sat)
    assert v["signature_file"].endswith(".png") and (services.signature_dir() / v["signature_file"]).exists()
    assert (await _ticket(tid))["status"] == "signed"


# ---------------------------------------------------------------- SLA R-TKT-05

@pytest.mark.parametrize("offset,breached", [(-S, False), (dt.timedelta(0), False), (S, True)])
async def test_r_tkt_05_onsite_breach_just_inside_on_and_just_outside(offset, breached):
    """On site due 2 h after the call (city): no breach 1 s before or at the deadline, one at +1 s."""
    tid = await new_ticket()
    due = T0 + 2 * H
    from app.core.db import write_transaction

    async with write_transaction():
        await services.record_breaches(tid, due + offset)
    rows = await fetch("SELECT clock FROM ticket_breach WHERE ticket_id = {} AND clock = 'onsite'", tid)
    assert bool(rows) is breached


async def test_r_tkt_05_breach_recorded_once_at_the_deadline_even_when_noticed_later():
    """A sweep hours later stamps the breach with the deadline itself; a second sweep adds nothing."""
    tid, _d, tech = await dispatched()
    await services.sweep_breaches(T0 + 5 * H)
    await services.sweep_breaches(T0 + 6 * H)
    rows = await fetch("SELECT * FROM ticket_breach WHERE ticket_id = {} ORDER BY clock", tid)
    by_clock = {r["clock"]: r for r in rows}
    assert set(by_clock) == {"depart", "onsite"}  # responded at +5 min: in time
    assert _utc(by_clock["onsite"]["breached_at"]) == T0 + 2 * H
    assert _utc(by_clock["depart"]["breached_at"]) == T0 + 15 * M
    assert by_clock["onsite"]["technician_id"] == tech.user_id


async def test_r_tkt_05_pause_needs_a_reason_and_stops_the_clock():
    """A pause without reason is a field error; paused 3 h → the on-site deadline moves by 3 h and no breach meanwhile."""
    _o, errors = parse(PauseForm, {"version": "1", "reason": ""})
    assert "reason" in errors
    d = await desk()
    tid = await new_ticket(d)
    await services.pause(d, tid, parse_or_raise(PauseForm, {"version": str(await version(tid)), "reason": "customer",
                                                            "note": "客户不在"}), now=T0 + 30 * M)
    await services.sweep_breaches(T0 + 3 * H)
    assert not await fetch("SELECT 1 AS x FROM ticket_breach WHERE ticket_id = {}", tid)
    await services.resume(d, tid, await version(tid), now=T0 + 3 * H + 30 * M)
    t = await _ticket(tid)
    assert _utc(t["onsite_due"]) == T0 + 5 * H and t["paused_seconds"] == 3 * 3600 and t["paused_at"] is None
    pauses = await fetch("SELECT * FROM ticket_pause WHERE ticket_id = {}", tid)
    assert len(pauses) == 1 and pauses[0]["reason"] == "customer" and pauses[0]["started_by"] == d.user_id


@pytest.mark.parametrize("minutes,fires", [(119, False), (120, False), (121, True)])
async def test_r_loan_02_not_fixed_2h_after_arrival_offers_a_loaner(minutes, fires):
    """Fixed 2 h after arrival is in time; a minute later the free loaner rule fires (R-TKT-05, R-LOAN-02)."""
    tid, _d, tech = await on_site()
    arrived = T0 + 60 * M
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v), now=arrived + minutes * M)
    hits = await services.loaner_hits(await _ticket(tid), arrived + 200 * M)
    assert ("not_fixed_on_site" in [h.rule for h in hits]) is fires


async def test_r_loan_02_cannot_be_solved_offers_a_same_model_loaner_within_72h():
    """Result "needs return repair" sets the cannot-solve time and a loaner due 72 h later, recorded with loaners."""
    tid, _d, tech = await on_site()
    v = await visit_of(tid)
    at = T0 + 90 * M
    await services.finish(tech, v["id"], finish_form(v, result="return_repair"), now=at)
    t = await _ticket(tid)
    assert t["status"] == "not_done" and _utc(t["loaner_due"]) == at + 72 * H
    rules = await fetch("SELECT rule FROM loan_trigger WHERE case_type = 'ticket' AND case_id = {}", tid)
    assert "cannot_solve" in {r["rule"] for r in rules}


# ---------------------------------------------------------------- child slips, close R-TKT-07

async def test_r_tkt_07_another_visit_is_a_child_slip_and_close_waits_for_signatures():
    """Not done → a second visit under the same ticket; close is refused while a visit is unsigned."""
    tid, d, tech = await on_site()
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v, result="recontact"), now=T0 + 90 * M)
    with pytest.raises(DomainError) as exc:
        await services.close(d, tid, await version(tid), now=T0 + 100 * M)
    assert exc.value.status == 409
    v = await visit_of(tid)
    await services.sign(tech, v["id"], sign_form(v), now=T0 + 95 * M)
    await services.revisit(d, tid, await version(tid), tech.user_id, now=T0 + 100 * M)
    v2 = await visit_of(tid)
    assert v2["seq"] == 2 and v2["status"] == "planned" and (await _ticket(tid))["status"] == "assigned"


async def test_close_a_signed_ticket_tells_the_listeners():
    """A signed ticket closes; the audit records it."""
    tid, d, tech = await on_site()
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v), now=T0 + 90 * M)
    v = await visit_of(tid)
    await services.sign(tech, v["id"], sign_form(v), now=T0 + 95 * M)
    await services.close(d, tid, await version(tid), now=T0 + 100 * M)
    assert (await _ticket(tid))["status"] == "closed"
    tech_close = await field()
    with pytest.raises(DomainError) as exc:
        await services.close(tech_close, tid, await version(tid))
    assert exc.value.status == 403

"""Issue #11 "rules proven at their edges": every R-LOAN-02 time rule (2 h on site, 72 h cannot solve, 12 h
maintenance) and the loan overdue rule (R-LOAN-03) just inside, on and just outside its boundary, with a frozen
clock — through the pure rules and through the services that read the clock and the settings."""

from __future__ import annotations

import datetime as dt

import pytest

from app.loaners import services as loans
from app.loaners.services import _reads, _requests
from app.loaners.triggers import CaseFacts, evaluate
from tests.loaners.factories import checkout, keeper, make_customer, make_loaner

T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
H = dt.timedelta(hours=1)
S = dt.timedelta(seconds=1)
EDGES = [("just inside", -S, False), ("on", dt.timedelta(0), False), ("just outside", S, True)]


def fired(facts: CaseFacts) -> list[str]:
    return [h.rule for h in evaluate(facts)]


@pytest.mark.parametrize("where,delta,fires", EDGES, ids=[e[0] for e in EDGES])
def test_r_loan_02_not_fixed_within_2h_on_site_at_its_edge(where, delta, fires):
    """Still unfixed at arrival + 2 h ± 1 s (frozen `now`); fixed at that moment counts the same way."""
    assert (fired(CaseFacts(now=T0 + 2 * H + delta, arrived_at=T0)) == ["not_fixed_on_site"]) is fires
    fixed = CaseFacts(now=T0 + 10 * H, arrived_at=T0, fixed_at=T0 + 2 * H + delta)
    assert (fired(fixed) == ["not_fixed_on_site"]) is fires


@pytest.mark.parametrize("where,delta,fires", EDGES, ids=[e[0] for e in EDGES])
def test_r_loan_02_maintenance_over_12h_at_its_edge(where, delta, fires):
    assert (fired(CaseFacts(now=T0 + 12 * H + delta, maintenance_started_at=T0)) == ["long_maintenance"]) is fires
    ended = CaseFacts(now=T0 + 40 * H, maintenance_started_at=T0, maintenance_ended_at=T0 + 12 * H + delta)
    assert (fired(ended) == ["long_maintenance"]) is fires


@pytest.mark.parametrize("delta,fires", [(-S, False), (dt.timedelta(0), True), (S, True)], ids=["before", "on", "after"])
def test_r_loan_02_cannot_solve_fires_from_the_finding(delta, fires):
    """The entitlement starts at the finding itself (not a second before)."""
    assert (fired(CaseFacts(now=T0 + delta, cannot_solve_at=T0)) == ["cannot_solve"]) is fires


@pytest.mark.parametrize("hours_later", [72 - 1 / 3600, 72, 72 + 1 / 3600])
def test_r_loan_02_same_model_due_exactly_72h_after_the_finding(hours_later):
    """Just inside, on and just outside the 72 h: the due time stays the finding + 72 h, not `now` + anything."""
    hit = evaluate(CaseFacts(now=T0 + dt.timedelta(hours=hours_later), cannot_solve_at=T0))[0]
    assert hit.due_at == T0 + 72 * H and hit.same_model
    assert (hit.due_at < T0 + dt.timedelta(hours=hours_later)) is (hours_later > 72)


# --------------------------------------------------------------------------- through the services (frozen clock, settings)

def freeze(monkeypatch, now: dt.datetime) -> None:
    monkeypatch.setattr(_requests, "utcnow", lambda: now)


@pytest.mark.parametrize("where,delta,fires", EDGES, ids=[e[0] for e in EDGES])
async def test_triggers_for_case_reads_the_frozen_clock_at_each_edge(monkeypatch, where, delta, fires):
    """triggers_for_case() evaluates at the service clock with the stored thresholds (2 h and 12 h)."""
    facts = {"arrived_at": T0.isoformat(), "received_at": T0.isoformat()}
    freeze(monkeypatch, T0 + 2 * H + delta)
    assert ("not_fixed_on_site" in [h.rule for h in await loans.triggers_for_case("ticket", None, facts)]) is fires
    freeze(monkeypatch, T0 + 12 * H + delta)
    assert ("long_maintenance" in [h.rule for h in await loans.triggers_for_case("ticket", None, facts)]) is fires


async def test_an_edited_threshold_moves_the_edge(monkeypatch):
    """fix_hours 3 instead of 2 (stored setting): 2 h 1 s is now inside, 3 h 1 s outside — the setting is the rule."""
    from app.core.actor import SYSTEM
    from app.core.settings import get_setting, set_setting

    facts = {"arrived_at": T0.isoformat()}
    before = await get_setting("loaners.fix_hours")
    await set_setting(SYSTEM, "loaners.fix_hours", 3)
    try:
        freeze(monkeypatch, T0 + 2 * H + S)
        assert await loans.triggers_for_case("ticket", None, facts) == []
        freeze(monkeypatch, T0 + 3 * H)
        assert await loans.triggers_for_case("ticket", None, facts) == []
        freeze(monkeypatch, T0 + 3 * H + S)
        assert [h.rule for h in await loans.triggers_for_case("ticket", None, facts)] == ["not_fixed_on_site"]
    finally:
        await set_setting(SYSTEM, "loaners.fix_hours", before if before is not None else 2)


@pytest.mark.parametrize("days_after,overdue", [(-1, False), (0, False), (1, True)], ids=["day before", "due day", "day after"])
async def test_r_loan_03_overdue_from_the_day_after_the_expected_return(monkeypatch, days_after, overdue):
    """A loan due back on day D: not overdue on D-1 nor on D, overdue (1 day) on D+1 — on the list, the count,
    the loan page's flag and the row's day count, with `today` frozen."""
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(await keeper(), serial, await make_customer(), days=3)
    due = loans.as_date((await loans.get_loan(loan_id))["expected_return"])
    frozen = due + dt.timedelta(days=days_after)
    monkeypatch.setattr(_reads, "today", lambda: frozen)
    rows, _cursor = await loans.overdue(limit=100000)
    assert (loan_id in [r["id"] for r in rows]) is overdue
    assert (await loans.get_loan(loan_id))["overdue"] is overdue
    listed, _c = await loans.list_loans(q=serial)
    assert listed[0]["days_overdue"] == (1 if overdue else 0)
    assert await loans.overdue_count() == len(rows)  # the home panel's count agrees with the list on that day

"""R-LOAN-02: the rules that entitle a free loaner, as pure functions (thresholds are data)."""

from __future__ import annotations

import datetime as dt
import json

from app.core.db import fetch, write_transaction
from app.loaners import services as loans
from app.loaners.triggers import CaseFacts, Thresholds, evaluate, facts_from_record, rule_label

T0 = dt.datetime(2026, 11, 20, 8, 0, tzinfo=dt.timezone.utc)
H = dt.timedelta(hours=1)


def rules(facts: CaseFacts, th: Thresholds | None = None) -> list[str]:
    return [h.rule for h in evaluate(facts, th)]


def test_r_loan_02_not_fixed_within_2h_of_arrival_fires():
    """Not fixed 2 h after arrival → fires at arrival + 2 h; fixed in time → nothing."""
    assert rules(CaseFacts(now=T0 + 2 * H, arrived_at=T0)) == []
    hits = evaluate(CaseFacts(now=T0 + 2 * H + dt.timedelta(minutes=1), arrived_at=T0))
    assert [h.rule for h in hits] == ["not_fixed_on_site"] and hits[0].fired_at == T0 + 2 * H
    assert rules(CaseFacts(now=T0 + 9 * H, arrived_at=T0, fixed_at=T0 + 90 * dt.timedelta(minutes=1))) == []
    assert rules(CaseFacts(now=T0 + 9 * H, arrived_at=T0, fixed_at=T0 + 3 * H)) == ["not_fixed_on_site"]


def test_r_loan_02_cannot_solve_same_model_within_72h():
    """Cannot be solved → a same-model loaner is due within 72 h of that finding."""
    hit = evaluate(CaseFacts(now=T0 + H, cannot_solve_at=T0))[0]
    assert hit.rule == "cannot_solve" and hit.same_model and hit.due_at == T0 + 72 * H
    assert rules(CaseFacts(now=T0, cannot_solve_at=T0 + H)) == []  # not yet


def test_r_loan_02_maintenance_over_12h():
    """Maintenance longer than 12 h fires; exactly 12 h does not."""
    assert rules(CaseFacts(now=T0 + 12 * H, maintenance_started_at=T0)) == []
    assert rules(CaseFacts(now=T0 + 13 * H, maintenance_started_at=T0)) == ["long_maintenance"]
    assert rules(CaseFacts(now=T0 + 40 * H, maintenance_started_at=T0, maintenance_ended_at=T0 + 11 * H)) == []


def test_r_loan_02_thresholds_are_data_and_several_rules_fire_in_order():
    """Other thresholds change the answer; several rules list earliest first; labels name the hours."""
    facts = CaseFacts(now=T0 + 5 * H, arrived_at=T0, maintenance_started_at=T0, cannot_solve_at=T0 + 4 * H)
    assert rules(facts) == ["not_fixed_on_site", "cannot_solve"]
    assert rules(facts, Thresholds(fix_hours=6, same_model_hours=72, maintenance_hours=4)) == ["cannot_solve", "long_maintenance"]
    assert "3" in rule_label("not_fixed_on_site", 3.0) and "12" in rule_label("long_maintenance", 12)
    assert "R-LOAN" not in rule_label("long_maintenance", 12)  # labels, never rule IDs


def test_facts_from_a_case_record():
    """A case record (RMA dict) maps to facts: received_at starts the maintenance clock."""
    facts = facts_from_record({"received_at": (T0).isoformat(), "shipped_at": None}, T0 + 20 * H)
    assert facts.maintenance_started_at == T0 and facts.maintenance_ended_at is None
    assert rules(facts) == ["long_maintenance"]


async def test_thresholds_read_from_app_setting():
    """R-LOAN-02 thresholds come from app_setting (defaults 2 / 72 / 12)."""
    assert await loans.thresholds() == Thresholds(2, 72, 12)
    async with write_transaction():
        await fetch("UPDATE app_setting SET value = {} WHERE key = 'loaners.fix_hours'", json.dumps(3))
    try:
        assert (await loans.thresholds()).fix_hours == 3
    finally:
        async with write_transaction():
            await fetch("UPDATE app_setting SET value = {} WHERE key = 'loaners.fix_hours'", json.dumps(2))


async def test_record_triggers_once_per_rule_with_audit():
    """Recording the rules that fired stores each (case, rule) once and audits it."""
    from app.core.audit.services import Actor
    from seed.factories import unique

    actor = Actor(user_id=None, username="desk-t", roles=frozenset({"desk"}))
    ref = unique("FW-T")
    hits = evaluate(CaseFacts(now=T0 + 20 * H, arrived_at=T0, maintenance_started_at=T0))
    assert await loans.record_triggers(actor, "ticket", None, ref, hits) == 2
    assert await loans.record_triggers(actor, "ticket", None, ref, hits) == 0
    assert [r["rule"] for r in await loans.recorded_triggers("ticket", ref)] == ["not_fixed_on_site", "long_maintenance"]
    audit = await fetch("SELECT action FROM audit_event WHERE action = 'loan_trigger.recorded' AND entity_id = {}", ref)
    assert len(audit) == 1

"""R-LOAN-02: the rules that entitle a customer to a free loaner — pure functions.

    hits = evaluate(CaseFacts(now=..., arrived_at=..., fixed_at=None), Thresholds())
    [h.rule for h in hits]   # e.g. ["not_fixed_on_site"]

* not_fixed_on_site — not fixed within `fix_hours` (default 2 h) of the technician's arrival
  on site (001 §6.5.1): fires at arrival + 2 h while unfixed (or when fixed later than that).
* cannot_solve — the fault cannot be solved: a same-model loaner is due within
  `same_model_hours` (default 72 h) of that finding (001 §3.1.6).
* long_maintenance — maintenance (the device out of service) longer than `maintenance_hours`
  (default 12 h) (003 #5).

Thresholds are data (app_setting `loaners.*`, defaults from SPEC); `services.thresholds()` reads them.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.core.i18n import _

RULES = ("not_fixed_on_site", "cannot_solve", "long_maintenance")


@dataclass(frozen=True)
class Thresholds:
    fix_hours: float = 2.0
    same_model_hours: float = 72.0
    maintenance_hours: float = 12.0


@dataclass(frozen=True)
class CaseFacts:
    """What a ticket or repair knows about the case; every time is tz-aware UTC (or None)."""

    now: dt.datetime
    arrived_at: dt.datetime | None = None  # technician arrived on site
    fixed_at: dt.datetime | None = None  # fixed on site
    cannot_solve_at: dt.datetime | None = None  # found it cannot be solved (return repair / replacement)
    maintenance_started_at: dt.datetime | None = None  # device out of service for maintenance or repair
    maintenance_ended_at: dt.datetime | None = None


@dataclass(frozen=True)
class TriggerHit:
    rule: str
    fired_at: dt.datetime  # when the entitlement began
    limit_hours: float
    elapsed_hours: float
    due_at: dt.datetime | None = None  # cannot_solve: the same-model loaner is due by then
    same_model: bool = False

    def label(self) -> str:
        return rule_label(self.rule, self.limit_hours)


def rule_label(rule: str, hours: float | None = None) -> str:
    h = _hours_text(hours) if hours is not None else ""
    if rule == "not_fixed_on_site":
        return _("Not fixed within %(h)s h after arrival on site", h=h or "2")
    if rule == "cannot_solve":
        return _("Cannot be solved: same-model loaner within %(h)s h", h=h or "72")
    if rule == "long_maintenance":
        return _("Maintenance longer than %(h)s h", h=h or "12")
    return rule


def _hours_text(hours: float) -> str:
    return str(int(hours)) if float(hours).is_integer() else f"{hours:g}"


def _hours(delta: dt.timedelta) -> float:
    return round(delta.total_seconds() / 3600, 2)


def not_fixed_on_site(facts: CaseFacts, th: Thresholds) -> TriggerHit | None:
    if facts.arrived_at is None:
        return None
    deadline = facts.arrived_at + dt.timedelta(hours=th.fix_hours)
    end = facts.fixed_at or facts.now
    if end <= deadline:
        return None
    return TriggerHit("not_fixed_on_site", deadline, th.fix_hours, _hours(end - facts.arrived_at))


def cannot_solve(facts: CaseFacts, th: Thresholds) -> TriggerHit | None:
    if facts.cannot_solve_at is None or facts.cannot_solve_at > facts.now:
        return None
    due = facts.cannot_solve_at + dt.timedelta(hours=th.same_model_hours)
    return TriggerHit("cannot_solve", facts.cannot_solve_at, th.same_model_hours,
                      _hours(facts.now - facts.cannot_solve_at), due_at=due, same_model=True)


def long_maintenance(facts: CaseFacts, th: Thresholds) -> TriggerHit | None:
    if facts.maintenance_started_at is None:
        return None
    limit = facts.maintenance_started_at + dt.timedelta(hours=th.maintenance_hours)
    end = facts.maintenance_ended_at or facts.now
    if end <= limit:
        return None
    return TriggerHit("long_maintenance", limit, th.maintenance_hours, _hours(end - facts.maintenance_started_at))


def evaluate(facts: CaseFacts, th: Thresholds | None = None) -> list[TriggerHit]:
    """Every rule that fired, earliest first (an empty list: no free loaner yet)."""
    th = th or Thresholds()
    hits = [hit for hit in (not_fixed_on_site(facts, th), cannot_solve(facts, th), long_maintenance(facts, th)) if hit]
    return sorted(hits, key=lambda h: h.fired_at)


def _time(value: Any) -> dt.datetime | None:
    if value is None or value == "":
        return None
    if isinstance(value, dt.datetime):
        return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)
    if isinstance(value, dt.date):
        return dt.datetime(value.year, value.month, value.day, tzinfo=dt.timezone.utc)
    try:
        parsed = dt.datetime.fromisoformat(str(value).strip().replace("Z", "+00:00"))
    except ValueError:
        return None
    return parsed if parsed.tzinfo else parsed.replace(tzinfo=dt.timezone.utc)


# Keys another domain's case record may carry (the RMA of issue #5, tickets later); the first present wins.
_KEYS = {
    "arrived_at": ("arrived_at", "onsite_at", "on_site_at"),
    "fixed_at": ("fixed_at", "solved_at", "completed_at"),
    "cannot_solve_at": ("cannot_solve_at", "unsolvable_at", "return_repair_at"),
    "maintenance_started_at": ("maintenance_started_at", "received_at", "out_of_service_at", "created_at"),
    "maintenance_ended_at": ("maintenance_ended_at", "reinstalled_at", "delivered_at", "shipped_at", "closed_at"),
}


def facts_from_record(record: dict, now: dt.datetime) -> CaseFacts:
    """Case facts from a dict with any of the known keys (missing keys → the rule cannot fire)."""
    values: dict[str, dt.datetime | None] = {}
    for name, keys in _KEYS.items():
        values[name] = next((t for t in (_time(record.get(k)) for k in keys) if t is not None), None)
    return CaseFacts(now=now, **values)

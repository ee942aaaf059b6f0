"""The warranty engine (R-CUS-04, R-CUS-05, R-CUS-06) as pure functions — no database.

* Warranty starts at acceptance (003 #5); the hardware term comes from the device, else
  its contract, else the setting `customers.default_warranty_months` (36, 001 §2.2.3).
* end = acceptance + term months + N × 60 days, N = unresolvable failures that stopped the
  customer's work (003 #7). A failure counts only while the device is still covered at
  that moment (the end as extended by the earlier failures): a failure after expiry does
  not revive the warranty.
* Months are calendar months, clamped to the month's last day (2024-02-29 + 12 months =
  2025-02-28; 2024-01-31 + 1 month = 2024-02-29). The device is covered on every day up
  to and including `end`.
* Software upgrades are for life (001 §2.2.3): never expire.
* Same device, same fault, repaired twice and failing again → replacement with a new unit
  of the same brand and model is proposed (003 #8).
"""

from __future__ import annotations

import calendar
import datetime as dt
from dataclasses import dataclass, field
from typing import Iterable, Sequence

from app.core.i18n import _

DEFAULT_TERM_MONTHS = 36
DEFAULT_EXTENSION_DAYS = 60
REPAIRS_BEFORE_REPLACEMENT = 2

NOT_STARTED = "not_started"
IN_WARRANTY = "in"
EXPIRED = "expired"


def add_months(day: dt.date, months: int) -> dt.date:
    """Calendar months, clamped to the last day of the target month (leap days, 31sts)."""
    if months < 0:
        raise ValueError("months must be >= 0")
    index = day.month - 1 + months
    year, month = day.year + index // 12, index % 12 + 1
    last = calendar.monthrange(year, month)[1]
    return dt.date(year, month, min(day.day, last))


@dataclass(frozen=True)
class Warranty:
    """The result of compute_warranty(); `reasons()` explains it in words."""

    start: dt.date | None
    term_months: int
    base_end: dt.date | None
    extension_days: int
    counted: tuple[dt.date, ...] = ()
    ignored: tuple[dt.date, ...] = ()
    end: dt.date | None = None
    software_for_life: bool = True

    def state(self, on: dt.date) -> str:
        if self.start is None or self.end is None:
            return NOT_STARTED
        if on < self.start:
            return NOT_STARTED
        return IN_WARRANTY if on <= self.end else EXPIRED

    def covered(self, on: dt.date) -> bool:
        return self.state(on) == IN_WARRANTY

    def days_left(self, on: dt.date) -> int | None:
        return None if self.end is None else (self.end - on).days

    def summary(self) -> str:
        """"36 months from 2024-03-02 + 2 × 60 days" (what the issue asks to show)."""
        if self.start is None:
            return _("Warranty starts at acceptance; no acceptance date recorded yet.")
        text = _("%(months)s months from %(start)s", months=self.term_months, start=self.start.isoformat())
        if self.counted:
            text += " + " + _("%(n)s × %(days)s days", n=len(self.counted), days=self.extension_days)
        return text

    def reasons(self) -> list[str]:
        """Every step that produced `end`, in words."""
        if self.start is None:
            return [self.summary(), _("Software upgrades: for life.")]
        lines = [_("Hardware warranty: %(months)s months from acceptance on %(start)s → %(end)s.",
                   months=self.term_months, start=self.start.isoformat(), end=self.base_end.isoformat())]
        for day in self.counted:
            lines.append(_("+ %(days)s days: unresolvable failure on %(day)s.",
                           days=self.extension_days, day=day.isoformat()))
        for day in self.ignored:
            lines.append(_("No extension for the failure on %(day)s: the warranty had already ended.", day=day.isoformat()))
        lines.append(_("Covered up to and including %(end)s.", end=self.end.isoformat()))
        lines.append(_("Software upgrades: for life."))
        return lines


def compute_warranty(
    acceptance: dt.date | None,
    term_months: int = DEFAULT_TERM_MONTHS,
    unresolvable_failures: Iterable[dt.date] = (),
    extension_days: int = DEFAULT_EXTENSION_DAYS,
) -> Warranty:
    """R-CUS-05: end = acceptance + term + extension_days × (failures while covered)."""
    if term_months < 0 or extension_days < 0:
        raise ValueError("term and extension must be >= 0")
    if acceptance is None:
        return Warranty(start=None, term_months=term_months, base_end=None, extension_days=extension_days)
    base_end = add_months(acceptance, term_months)
    end = base_end
    counted: list[dt.date] = []
    ignored: list[dt.date] = []
    for day in sorted(unresolvable_failures):
        if acceptance <= day <= end:
            end = end + dt.timedelta(days=extension_days)
            counted.append(day)
        else:
            ignored.append(day)
    return Warranty(start=acceptance, term_months=term_months, base_end=base_end, extension_days=extension_days,
                    counted=tuple(counted), ignored=tuple(ignored), end=end)


@dataclass(frozen=True)
class Event:
    """A failure or repair in a device's history, oldest first."""

    event_type: str  # failure / repair / replacement / note
    fault_code: str = ""
    day: dt.date | None = None
    unresolvable: bool = False


@dataclass
class ReplacementCheck:
    due: bool = False
    fault_codes: list[str] = field(default_factory=list)


def replacement_check(events: Sequence[Event], repairs: int = REPAIRS_BEFORE_REPLACEMENT) -> ReplacementCheck:
    """R-CUS-06: a fault that has failed again after `repairs` repairs proposes a new unit.

    Every earlier failure of the same fault counts as repaired when the device failed
    again (the fault was cleared, or it could not have failed anew); explicit repair
    events count too. A replacement event resets the count (new unit).
    """
    repaired: dict[str, int] = {}
    open_failure: dict[str, bool] = {}
    due: list[str] = []
    for event in events:
        code = (event.fault_code or "").strip().upper()
        if event.event_type == "replacement":
            repaired.clear()
            open_failure.clear()
            due.clear()
            continue
        if not code:
            continue
        if event.event_type == "repair":
            repaired[code] = repaired.get(code, 0) + 1
            open_failure[code] = False
        elif event.event_type == "failure":
            if open_failure.get(code):
                repaired[code] = repaired.get(code, 0) + 1  # failed again: the earlier one was dealt with
            if repaired.get(code, 0) >= repairs and code not in due:
                due.append(code)
            open_failure[code] = True
    return ReplacementCheck(due=bool(due), fault_codes=due)

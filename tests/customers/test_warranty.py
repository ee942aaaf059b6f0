"""Warranty engine rules (pure functions): R-CUS-04, R-CUS-05, R-CUS-06."""

import datetime as dt

import pytest

from app.customers.warranty import (EXPIRED, IN_WARRANTY, NOT_STARTED, Event, add_months, compute_warranty,
                                    replacement_check)
from app.core.i18n import reset_locale, set_locale

D = dt.date


@pytest.fixture
def english():
    token = set_locale("en")
    yield
    reset_locale(token)


def test_r_cus_04_default_term_36_months_from_acceptance():
    """36 months from acceptance; covered up to and including the end day."""
    w = compute_warranty(D(2024, 3, 2), 36)
    assert w.end == D(2027, 3, 2)
    assert w.state(D(2027, 3, 2)) == IN_WARRANTY
    assert w.state(D(2027, 3, 3)) == EXPIRED


def test_r_cus_04_twelve_month_contract_term():
    """A contract may give 12 months (003 §11)."""
    assert compute_warranty(D(2025, 6, 15), 12).end == D(2026, 6, 15)


def test_r_cus_04_no_acceptance_not_started():
    """Warranty starts at acceptance: without it the device is not covered yet."""
    w = compute_warranty(None, 36)
    assert w.end is None and w.state(D(2026, 1, 1)) == NOT_STARTED


def test_r_cus_04_before_acceptance_not_started():
    """A date before acceptance is not under warranty."""
    assert compute_warranty(D(2026, 5, 1), 36).state(D(2026, 4, 30)) == NOT_STARTED


def test_leap_day_acceptance_clamps_to_feb_28():
    """2024-02-29 + 12 months = 2025-02-28; + 48 months = 2028-02-29."""
    assert add_months(D(2024, 2, 29), 12) == D(2025, 2, 28)
    assert add_months(D(2024, 2, 29), 48) == D(2028, 2, 29)


def test_end_of_month_clamps():
    """Jan 31 + 1 month = Feb 29 in a leap year, Feb 28 otherwise."""
    assert add_months(D(2024, 1, 31), 1) == D(2024, 2, 29)
    assert add_months(D(2023, 1, 31), 1) == D(2023, 2, 28)
    assert add_months(D(2023, 8, 31), 13) == D(2024, 9, 30)


def test_r_cus_05_each_unresolvable_failure_adds_60_days(english):
    """end = acceptance + term + 60 days × events, with the reasons in words."""
    w = compute_warranty(D(2024, 3, 2), 36, [D(2024, 5, 1), D(2025, 1, 3)])
    assert w.end == D(2027, 3, 2) + dt.timedelta(days=120)
    assert w.summary() == "36 months from 2024-03-02 + 2 × 60 days"
    reasons = " ".join(w.reasons())
    assert "2024-05-01" in reasons and "2025-01-03" in reasons and "for life" in reasons


def test_r_cus_05_extension_after_expiry_does_not_revive(english):
    """A failure after the warranty ended extends nothing and is explained."""
    w = compute_warranty(D(2020, 1, 1), 12, [D(2022, 6, 1)])
    assert w.end == D(2021, 1, 1)
    assert w.ignored == (D(2022, 6, 1),)
    assert any("already ended" in line for line in w.reasons())


def test_r_cus_05_failure_inside_extension_counts():
    """A failure within the already-extended period extends again (chained)."""
    base_end = D(2021, 1, 1)
    w = compute_warranty(D(2020, 1, 1), 12, [D(2020, 12, 31), base_end + dt.timedelta(days=30)])
    assert w.end == base_end + dt.timedelta(days=120)
    assert len(w.counted) == 2


def test_r_cus_05_extension_days_is_data():
    """The 60 days is an operator setting, not a constant."""
    assert compute_warranty(D(2024, 1, 1), 12, [D(2024, 6, 1)], extension_days=30).end == D(2025, 1, 31)


def test_software_upgrades_for_life(english):
    """Software never expires, even when hardware has."""
    w = compute_warranty(D(2000, 1, 1), 36)
    assert w.software_for_life and w.state(D(2030, 1, 1)) == EXPIRED
    assert "Software upgrades: for life." in w.reasons()


def test_negative_term_refused():
    """Negative months are a programming error."""
    with pytest.raises(ValueError):
        compute_warranty(D(2024, 1, 1), -1)


def test_r_cus_06_third_failure_of_same_fault_proposes_replacement():
    """Failing again after two repairs of the same fault → replacement proposed."""
    events = [Event("failure", "NO-VIDEO"), Event("failure", "NO-VIDEO")]
    assert not replacement_check(events).due
    check = replacement_check(events + [Event("failure", "no-video")])
    assert check.due and check.fault_codes == ["NO-VIDEO"]


def test_r_cus_06_explicit_repairs_count():
    """failure, repair, failure, repair, failure → due."""
    events = [Event("failure", "PWR"), Event("repair", "PWR"), Event("failure", "PWR"), Event("repair", "PWR"),
              Event("failure", "PWR")]
    assert replacement_check(events).due


def test_r_cus_06_different_faults_do_not_add_up():
    """Three different faults are not 'the same fault'."""
    events = [Event("failure", "A"), Event("failure", "B"), Event("failure", "C"), Event("failure", "A")]
    assert not replacement_check(events).due


def test_r_cus_06_replacement_resets():
    """After a replacement the new unit starts with a clean count."""
    events = [Event("failure", "A")] * 3 + [Event("replacement", "A"), Event("failure", "A")]
    assert not replacement_check(events).due

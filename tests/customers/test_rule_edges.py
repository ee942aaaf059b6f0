"""Issue #11 "rules proven at their edges" for customers: every time rule just inside, on and just outside its
boundary with a frozen clock, and every SPEC number read from its setting (R-CUS-04/05/06/07)."""

import datetime as dt

import pytest

from app.core.errors import DomainError

from app.core.audit.services import SYSTEM, Actor
from app.core.settings import REGISTRY, set_setting, setting
from app.customers import renewals
from app.customers import services as svc
from app.customers.services import _devices
from app.customers.warranty import add_months
from tests.customers.factories import make_contract, make_customer, make_device

DESK = Actor(user_id=None, username="desk-test", roles=frozenset({"desk"}))
FROZEN = dt.date(2026, 3, 10)  # "today" for every test here
D = dt.timedelta


@pytest.fixture
def frozen(monkeypatch):
    """Freeze the business date in every customers module that reads it."""
    monkeypatch.setattr(renewals, "today", lambda: FROZEN)
    monkeypatch.setattr(_devices, "today", lambda: FROZEN)
    return FROZEN


@pytest.fixture
async def default_settings():
    """The customers settings at their manifest defaults for the test, restored after."""
    keys = ("customers.renewal_days", "customers.default_warranty_months", "customers.warranty_extension_days",
            "customers.repeat_repair_count")
    before = {k: await setting(k) for k in keys}
    for key in keys:
        await set_setting(SYSTEM, key, REGISTRY[key].default)
    yield
    for key, value in before.items():
        await set_setting(SYSTEM, key, value)


def test_spec_numbers_are_registered_settings_with_the_spec_defaults():
    """SPEC: 10 days (R-CUS-07), 36 months (R-CUS-04), 60 days (R-CUS-05), repaired twice (R-CUS-06) — all editable data."""
    assert REGISTRY["customers.renewal_days"].default == 10
    assert REGISTRY["customers.default_warranty_months"].default == 36
    assert REGISTRY["customers.warranty_extension_days"].default == 60
    spec = REGISTRY["customers.repeat_repair_count"]
    assert spec.default == 2 and spec.minimum == 1 and spec.kind == "int"


# ---------------------------------------------------------------- R-CUS-07: ten days before the end

@pytest.mark.parametrize("days_left,listed", [(-1, False), (0, True), (9, True), (10, True), (11, False)])
async def test_r_cus_07_contract_renewal_window_edges(frozen, default_settings, days_left, listed):
    """A contract ending in 9 or 10 days (and today) is on the renewals list; in 11 days or yesterday it is not.
    A 9-day window (or an exclusive end) fails the "10" case."""
    cid = await make_customer()
    end = FROZEN + D(days=days_left)
    kid = await make_contract(cid, "annual", start=end - D(days=364), end=end)
    due = await renewals.due_renewals(customer_id=cid)
    assert any(d.contract_id == kid for d in due) is listed


@pytest.mark.parametrize("days_left,listed", [(9, True), (10, True), (11, False)])
async def test_r_cus_07_device_warranty_window_edges(frozen, default_settings, days_left, listed):
    """A device warranty ending in 10 days is listed; in 11 days it is not (12-month term, frozen today)."""
    cid = await make_customer()
    end = FROZEN + D(days=days_left)
    await make_device(cid, acceptance=end.replace(year=end.year - 1), warranty_months=12)
    due = [d for d in await renewals.due_renewals(customer_id=cid) if d.kind == "devices"]
    assert bool(due) is listed
    if listed:
        assert due[0].end_date == end


async def test_r_cus_07_window_follows_the_setting(frozen, default_settings):
    """With the window set to 11 days the 11-day contract is listed; the page reads the same setting."""
    cid = await make_customer()
    end = FROZEN + D(days=11)
    kid = await make_contract(cid, "annual", start=end - D(days=364), end=end)
    assert not [d for d in await renewals.due_renewals(customer_id=cid) if d.contract_id == kid]
    await set_setting(SYSTEM, "customers.renewal_days", 11)
    assert [d for d in await renewals.due_renewals(customer_id=cid) if d.contract_id == kid]


# ---------------------------------------------------------------- R-CUS-04: warranty from acceptance, 36 months

async def test_r_cus_04_coverage_edges_default_36_months(frozen, default_settings):
    """Accepted 2023-03-10, default 36 months → covered 2023-03-10 … 2026-03-10 inclusive; not the day before
    acceptance, not the day after the end."""
    acceptance = dt.date(2023, 3, 10)
    did = await make_device(await make_customer(), acceptance=acceptance, warranty_months=None)
    end = add_months(acceptance, 36)
    assert end == FROZEN
    status = await svc.warranty_status(did)  # on the frozen today = the last covered day
    assert status.in_warranty and status.end == end
    assert (await svc.warranty_status(did, on=end + D(days=1))).state == "expired"
    assert (await svc.warranty_status(did, on=acceptance)).in_warranty
    assert (await svc.warranty_status(did, on=acceptance - D(days=1))).state == "not_started"


async def test_r_cus_04_default_term_is_the_setting(frozen, default_settings):
    """A device without its own term takes customers.default_warranty_months (35 → ends a month earlier)."""
    acceptance = dt.date(2023, 3, 10)
    await set_setting(SYSTEM, "customers.default_warranty_months", 35)
    did = await make_device(await make_customer(), acceptance=acceptance, warranty_months=None)
    assert (await svc.warranty_status(did)).end == add_months(acceptance, 35)
    assert not (await svc.warranty_status(did)).in_warranty


# ---------------------------------------------------------------- R-CUS-05: +60 days per unresolvable failure

@pytest.mark.parametrize("offset,extends", [(-1, True), (0, True), (1, False)])
async def test_r_cus_05_failure_on_the_last_covered_day_extends_the_day_after_does_not(frozen, default_settings,
                                                                                        offset, extends):
    """An unresolvable failure the day before / on the warranty's last day adds exactly 60 days; the day after,
    nothing (the warranty is not revived)."""
    acceptance = FROZEN - D(days=400)
    did = await make_device(await make_customer(), acceptance=acceptance, warranty_months=12)
    base_end = add_months(acceptance, 12)
    result = await svc.record_failure(DESK, did, "NO-VIDEO", True, occurred_on=base_end + D(days=offset))
    assert result.extended is extends
    assert result.warranty.end == (base_end + D(days=60) if extends else base_end)
    status = await svc.warranty_status(did, on=result.warranty.end)
    assert status.in_warranty
    assert (await svc.warranty_status(did, on=result.warranty.end + D(days=1))).state == "expired"


async def test_r_cus_05_failure_on_the_acceptance_day_counts_the_day_before_does_not(frozen, default_settings):
    """Coverage starts on the acceptance day: a failure that day extends, one the day before does not."""
    acceptance = FROZEN - D(days=30)
    did = await make_device(await make_customer(), acceptance=acceptance, warranty_months=12)
    base_end = add_months(acceptance, 12)
    before = await svc.record_failure(DESK, did, "PWR", True, occurred_on=acceptance - D(days=1))
    assert not before.extended and before.warranty.end == base_end
    on_day = await svc.record_failure(DESK, did, "PWR", True, occurred_on=acceptance)
    assert on_day.extended and on_day.warranty.end == base_end + D(days=60)


async def test_r_cus_05_two_failures_add_120_days_and_the_days_are_the_setting(frozen, default_settings):
    """Two unresolvable failures → +2 × 60 days; with the setting at 45 the same history gives +2 × 45."""
    acceptance = FROZEN - D(days=100)
    did = await make_device(await make_customer(), acceptance=acceptance, warranty_months=12)
    base_end = add_months(acceptance, 12)
    await svc.record_failure(DESK, did, "A", True, occurred_on=FROZEN - D(days=10))
    result = await svc.record_failure(DESK, did, "B", True, occurred_on=FROZEN)
    assert result.warranty.end == base_end + D(days=120)
    await set_setting(SYSTEM, "customers.warranty_extension_days", 45)
    assert (await svc.warranty_status(did)).end == base_end + D(days=90)


async def test_r_cus_05_failure_tomorrow_refused_today_accepted(frozen, default_settings):
    """The frozen today is accepted as a failure date; tomorrow is a field error."""
    did = await make_device(await make_customer(), acceptance=FROZEN - D(days=5), warranty_months=12)
    assert (await svc.record_failure(DESK, did, "X", True, occurred_on=FROZEN)).extended
    with pytest.raises(DomainError) as exc:
        await svc.record_failure(DESK, did, "X", True, occurred_on=FROZEN + D(days=1))
    assert exc.value.status == 400


# ---------------------------------------------------------------- R-CUS-06: repaired N times → replacement

async def _history(repairs: int) -> int:
    """A device whose fault PTZ failed, was repaired `repairs` times, and has failed again."""
    did = await make_device(await make_customer(), acceptance=FROZEN - D(days=100))
    for i in range(repairs):
        await svc.record_failure(DESK, did, "PTZ", False, occurred_on=FROZEN - D(days=50 - i * 2))
        await svc.record_repair(DESK, did, "PTZ", "rma", i + 1, occurred_on=FROZEN - D(days=49 - i * 2))
    return did


@pytest.mark.parametrize("repairs,proposed", [(1, False), (2, True), (3, True)])
async def test_r_cus_06_default_two_repairs_edges(frozen, default_settings, repairs, proposed):
    """Default 2: failing again after one repair proposes nothing; after two (or more) a new unit is proposed."""
    did = await _history(repairs)
    result = await svc.record_failure(DESK, did, "ptz", False, occurred_on=FROZEN)
    assert result.replacement_proposed is proposed
    status = await svc.warranty_status(did)
    assert status.replacement_proposed is proposed and status.repairs_before_replacement == 2


@pytest.mark.parametrize("setting_value,repairs,proposed", [(3, 2, False), (3, 3, True), (1, 1, True), (1, 0, False)])
async def test_r_cus_06_repeat_repair_count_is_a_setting(frozen, default_settings, setting_value, repairs, proposed):
    """customers.repeat_repair_count decides: at 3, two repairs are not enough and three are; at 1, one is."""
    await set_setting(SYSTEM, "customers.repeat_repair_count", setting_value)
    did = await _history(repairs)
    result = await svc.record_failure(DESK, did, "PTZ", False, occurred_on=FROZEN)
    assert result.replacement_proposed is proposed
    assert (await svc.warranty_status(did)).replacement_proposed is proposed


async def test_r_cus_06_setting_shown_on_the_device_page(frozen, default_settings, login_as):
    """The device page's proposal names the configured number of repairs, in Chinese without the rule ID."""
    await set_setting(SYSTEM, "customers.repeat_repair_count", 3)
    did = await _history(3)
    await svc.record_failure(DESK, did, "PTZ", False, occurred_on=FROZEN)
    page = await (await login_as("desk")).get(f"/devices/{did}")
    assert page.status_code == 200
    assert "修复 3 次" in page.text and "R-CUS-06" not in page.text

"""Rules proven at their edges (issue #11): every bench time rule just inside, exactly on and just outside its
boundary with a frozen clock, and the monthly report (R-RMA-08) against a data set built here.

A deliberate one-line break of a rule (a 2-day repair window, a ship-back list off by one day, 23 h of burn-in,
unrepaired units counted as repaired) must fail one of these tests."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError
from app.rma import services as svc
from seed.factories import unique
from tests.rma.factories import BENCH, make_rma

_CLOCKED = ("app.rma.services", "app.rma.services._board", "app.rma.services._moves", "app.rma.services._side",
            "app.rma.services._intake", "app.core.status")


@pytest.fixture
def frozen(monkeypatch):
    """The bench services' clock stopped at one instant (whole seconds, so 'exactly on the boundary' is exact
    on both engines). Returns that instant."""
    import importlib

    now = utcnow().replace(microsecond=0)
    for name in _CLOCKED:
        monkeypatch.setattr(importlib.import_module(name), "utcnow", lambda: now)
    return now


async def _set(rma_id: int, **values) -> None:
    """Test data: put a stage's timestamp where the case needs it."""
    async with write_transaction():
        for column, value in values.items():
            await fetch(f"UPDATE rma SET {column} = {{}} WHERE id = {{}}", value, rma_id)


INSIDE, ON, OUTSIDE = "inside", "on", "outside"


# --- R-RMA-03: repair within 3 days of QC ---------------------------------------------------------------------

@pytest.mark.parametrize("since_qc, breached", [
    (dt.timedelta(days=2, hours=23), False),  # just inside: a 2-day window would already call it late
    (dt.timedelta(days=3), False),  # exactly 3 days: still inside
    (dt.timedelta(days=3, seconds=1), True),  # one second past
], ids=[INSIDE, ON, OUTSIDE])
async def test_r_rma_03_repair_window_edges(frozen, since_qc, breached):
    """R-RMA-03: the overdue list, the card's clock and the replacement sweep agree on the 3-day edge."""
    rma_id = await make_rma("repairing")
    await _set(rma_id, qc_at=frozen - since_qc)
    overdue = [r["id"] for r in await svc.overdue_repairs(limit=100000, now=frozen)]
    assert (rma_id in overdue) is breached
    card = await svc.card(rma_id, now=frozen)
    assert card.clock_left_h == pytest.approx(72 - since_qc.total_seconds() / 3600)
    assert card.late is breached
    raised = await svc.sweep_three_day(frozen)
    assert (rma_id in raised) is breached
    assert bool(await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", rma_id)) is breached


async def test_r_rma_03_window_is_the_setting(frozen):
    """R-RMA-03: the window is the editable `rma.repair_days`, not a constant."""
    from app.core.settings import set_setting

    rma_id = await make_rma("waiting")
    await _set(rma_id, qc_at=frozen - dt.timedelta(days=4, seconds=1))
    await set_setting(BENCH_KEEPER, "rma.repair_days", 5)
    try:
        assert rma_id not in [r["id"] for r in await svc.overdue_repairs(limit=100000, now=frozen)]
    finally:
        await set_setting(BENCH_KEEPER, "rma.repair_days", 3)
    assert rma_id in [r["id"] for r in await svc.overdue_repairs(limit=100000, now=frozen)]


# --- R-RMA-06: completed units leave the building within 2 days -------------------------------------------------

@pytest.mark.parametrize("since_done, overdue", [
    (dt.timedelta(days=1, hours=23), False),  # just inside: a 1-day list would show it
    (dt.timedelta(days=2), False),  # exactly 2 days: still on time
    (dt.timedelta(days=2, seconds=1), True),  # one second past: a 3-day list would miss it
], ids=[INSIDE, ON, OUTSIDE])
async def test_r_rma_06_ship_within_two_days_edges(frozen, since_done, overdue):
    """R-RMA-06: the ship-back overdue list and the card's flag agree on the 2-day edge."""
    rma_id = await make_rma("ready_to_ship")
    await _set(rma_id, completed_at=frozen - since_done)
    listed = [r["id"] for r in await svc.overdue_shipments(limit=100000, now=frozen)]
    assert (rma_id in listed) is overdue
    card = await svc.card(rma_id, now=frozen)
    assert card.ship_overdue is overdue and card.late is overdue


# --- R-RMA-06: burn-in for the required hours before the final test ------------------------------------------------

@pytest.mark.parametrize("after_start, passes", [
    (dt.timedelta(hours=23, minutes=59, seconds=59), False),  # one second short of 24 h
    (dt.timedelta(hours=24), True),  # exactly the required hours
    (dt.timedelta(hours=24, seconds=1), True),
], ids=[INSIDE, ON, OUTSIDE])
async def test_r_rma_06_burn_in_default_hours_edges(frozen, after_start, passes):
    """R-RMA-06: a passing final test is refused until the default 24 h of burn-in have elapsed, not a second less."""
    rma_id = await make_rma("burn_in")  # burn-in started at the frozen instant
    rma = await svc.get_rma(rma_id)
    assert svc.as_dt(rma["burn_in_started_at"]) == frozen and rma["burn_in_hours"] == 24
    card = await svc.card(rma_id, now=frozen + after_start)
    assert card.burn_in_left_h == pytest.approx(24 - after_start.total_seconds() / 3600)
    if passes:
        await svc.final_test(BENCH, rma_id, rma["version"], result="pass", now=frozen + after_start)
        assert (await svc.get_rma(rma_id))["status"] == "ready_to_ship"
    else:
        with pytest.raises(DomainError) as exc:
            await svc.final_test(BENCH, rma_id, rma["version"], result="pass", now=frozen + after_start)
        assert exc.value.status == 409 and "result" in exc.value.errors
        after = await svc.get_rma(rma_id)
        assert after["status"] == "burn_in" and after["version"] == rma["version"]


@pytest.mark.parametrize("after_start, passes", [
    (dt.timedelta(hours=35, minutes=59, seconds=59), False),
    (dt.timedelta(hours=36), True),
], ids=[INSIDE, ON])
async def test_r_rma_06_burn_in_per_model_hours_edges(frozen, after_start, passes):
    """R-RMA-06: a model listed on /bench/burn-in with 36 h needs all 36 h (the default 24 h is not enough)."""
    from tests.rma.factories import MANAGER

    model = unique("BURN36")
    await svc.set_burn_in_hours(MANAGER, model, 36)
    rma_id = await make_rma("burn_in", model=model)
    rma = await svc.get_rma(rma_id)
    assert rma["burn_in_hours"] == 36
    if passes:
        await svc.final_test(BENCH, rma_id, rma["version"], result="pass", now=frozen + after_start)
        assert (await svc.get_rma(rma_id))["status"] == "ready_to_ship"
    else:
        with pytest.raises(DomainError) as exc:
            await svc.final_test(BENCH, rma_id, rma["version"], result="pass", now=frozen + after_start)
        assert exc.value.status == 409
        assert (await svc.get_rma(rma_id))["status"] == "burn_in"


# --- R-RMA-08: the monthly report's numbers against a known data set -----------------------------------------------

_MONTH = "2011-05"  # no other test writes a return in this month


def _local(day: str, hm: str = "10:00") -> dt.datetime:
    """A moment in the business time zone (the report's months are calendar months there)."""
    return dt.datetime.fromisoformat(f"{day} {hm}").replace(tzinfo=svc.tz()).astimezone(dt.timezone.utc)


async def test_r_rma_08_monthly_report_numbers():
    """R-RMA-08: received by region (with the month's edges in business time), repaired vs not per region,
    outcomes, turnaround median and p90, rework rate and the suppliers' quality, all exact."""
    from app.parts import services as parts

    # (region, received, completed, outcome, rework, in warranty, status)
    data = {
        "a1": ("华东", _local("2011-05-02"), _local("2011-05-04"), "repaired", 0, True, "closed"),  # 2 days
        "a2": ("华东", _local("2011-05-03"), _local("2011-05-08"), "repaired", 1, True, "shipped"),  # 5 days, rework
        "a3": ("华东", _local("2011-05-10"), _local("2011-05-11"), "unrepaired", 0, False, "shipped"),  # 1 day
        "b1": ("华南", _local("2011-05-05"), _local("2011-05-15"), "replaced", 0, True, "delivered"),  # 10 days
        "b2": ("华南", _local("2011-05-20"), None, "", 0, True, "repairing"),  # received, not done
        "c1": ("华北", _local("2011-04-28"), _local("2011-05-06"), "repaired", 0, True, "closed"),  # April in, May out: 8 d
        "e1": ("华北", _local("2011-05-01", "00:00"), None, "", 0, False, "waiting"),  # first instant of May (Beijing)
        "x1": ("华北", _local("2011-04-30", "23:59:59"), None, "", 0, True, "waiting"),  # last second of April
        "x2": ("华东", _local("2011-06-01", "00:00"), _local("2011-06-01", "00:00"), "repaired", 3, True, "closed"),  # June
    }
    ids = {}
    for key, (region, received, completed, outcome, rework, warranty, status) in data.items():
        rma_id = await make_rma("received")
        ids[key] = rma_id
        await _set(rma_id, region=region, received_at=received, completed_at=completed, outcome=outcome,
                   rework_count=rework, in_warranty=warranty, status=status)

    good = await parts.create_part(BENCH_KEEPER, _part_input(unique("甲供应商")))
    weak = await parts.create_part(BENCH_KEEPER, _part_input(unique("乙供应商")))
    uses = [(ids["a1"], good, 2, _local("2011-05-03")), (ids["a2"], good, 1, _local("2011-05-04")),
            (ids["b1"], weak, 1, _local("2011-05-06")), (ids["a1"], weak, 5, _local("2011-06-02"))]  # the last: June
    async with write_transaction():
        for rma_id, part_id, qty, at in uses:
            await fetch("INSERT INTO rma_part_use (rma_id, part_id, qty, serial, username, created_at) "
                        "VALUES ({}, {}, {}, '', 'test', {})", rma_id, part_id, qty, at)

    report = await svc.monthly_report(_MONTH)

    regions = {r["region"]: {k: r[k] for k in ("received", "in_warranty", "repaired", "unrepaired")}
               for r in report["regions"]}
    assert regions == {
        "华东": {"received": 3, "in_warranty": 2, "repaired": 2, "unrepaired": 1},
        "华南": {"received": 2, "in_warranty": 2, "repaired": 1, "unrepaired": 0},
        "华北": {"received": 1, "in_warranty": 0, "repaired": 1, "unrepaired": 0},
    }
    assert [r["region"] for r in report["regions"]] == ["华东", "华南", "华北"]  # most received first
    assert report["received"] == 6 and report["completed"] == 5
    assert report["outcomes"] == {"repaired": 3, "replaced": 1, "unrepaired": 1}
    assert report["median_days"] == pytest.approx(5.0)  # turnarounds 1, 2, 5, 8, 10
    assert report["p90_days"] == pytest.approx(10.0)  # nearest rank: the 5th of 5
    assert report["reworked"] == 1 and report["rework_rate"] == pytest.approx(0.2)
    suppliers = {r["supplier"]: (int(r["repairs"]), int(r["parts"]), int(r["reworked"]), r["rework_rate"])
                 for r in report["suppliers"]}
    good_name = (await parts.get_part(good))["supplier"]
    weak_name = (await parts.get_part(weak))["supplier"]
    assert suppliers == {good_name: (2, 3, 1, 0.5), weak_name: (1, 1, 0, 0.0)}
    assert [r["supplier"] for r in report["suppliers"]] == [good_name, weak_name]  # most reworked first


async def test_r_rma_08_percentile_nearest_rank():
    """R-RMA-08: p90 is the nearest-rank percentile (no interpolation), median of an even set is the mean of two."""
    assert svc.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10], 90) == 9
    assert svc.percentile([1, 2, 3, 4, 5, 6, 7, 8, 9, 10, 11], 90) == 10
    assert svc.percentile([4], 90) == 4 and svc.percentile([], 90) is None


async def test_r_rma_08_empty_month_is_zeros():
    """R-RMA-08: a month without returns reports zeros, no median, not an error."""
    report = await svc.monthly_report("2010-02")
    assert (report["received"], report["completed"], report["regions"], report["suppliers"]) == (0, 0, [], [])
    assert report["median_days"] is None and report["p90_days"] is None and report["rework_rate"] == 0.0


from seed.parts import KEEPER as BENCH_KEEPER  # noqa: E402


def _part_input(supplier: str):
    from app.parts import services as parts

    return parts.PartInput(part_no=unique("P-"), name=unique("测试配件"), model=unique("M"), category="part", unit="个",
                           cost="10.00", supplier=supplier, serialised=False, discontinued=False, substitutes="")

"""#12.3: the 3-day replacement application made by hand on the RMA page (R-RMA-03), with the conditions in words."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest

from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError
from app.rma import services as svc
from tests.rma.factories import BENCH, DESK, MANAGER, make_rma


async def _qc_ago(rma_id: int, ago: dt.timedelta) -> None:
    async with write_transaction():
        await fetch("UPDATE rma SET qc_at = {} WHERE id = {}", utcnow().replace(microsecond=0) - ago, rma_id)


async def _applications(rma_id: int) -> list[dict]:
    return await fetch("SELECT * FROM rma_replacement WHERE rma_id = {}", rma_id)


async def _audits(rma_id: int) -> int:
    rows = await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE action = 'rma.replacement_applied' "
                       "AND entity_id = {}", str(rma_id))
    return int(rows[0]["n"])


@pytest.mark.parametrize("ago, allowed", [
    (dt.timedelta(days=2, hours=23), False),
    (dt.timedelta(days=3), False),
    (dt.timedelta(days=3, seconds=1), True),
], ids=["inside", "on", "outside"])
async def test_r_rma_03_manual_application_at_the_window_edge(ago, allowed):
    """R-RMA-03: the bench may apply by hand only once the window after QC is over (frozen instant)."""
    rma_id = await make_rma("repairing")
    now = utcnow().replace(microsecond=0)
    async with write_transaction():
        await fetch("UPDATE rma SET qc_at = {} WHERE id = {}", now - ago, rma_id)
    if allowed:
        await svc.apply_replacement(BENCH, rma_id, note="主板无货", now=now)
        rows = await _applications(rma_id)
        assert len(rows) == 1 and rows[0]["status"] == "pending" and "主板无货" in rows[0]["reason"]
        assert await _audits(rma_id) == 1
    else:
        with pytest.raises(DomainError) as exc:
            await svc.apply_replacement(BENCH, rma_id, now=now)
        window = svc.replacement_conditions(await svc.get_rma(rma_id), now, 3)[1]
        assert exc.value.status == 409 and not window[0] and window[1] in exc.value.message
        assert not await _applications(rma_id) and await _audits(rma_id) == 0


@pytest.mark.parametrize("case", ["damaged", "out_of_warranty", "repaired", "received"])
async def test_r_rma_03_manual_application_refused_with_the_condition_in_words(case):
    """Each unmet condition is named in the refusal; nothing is written."""
    kwargs = {"damaged": {"appearance": "damaged"}, "out_of_warranty": {"in_warranty": False}}.get(case, {})
    status = {"repaired": "repaired", "received": "registered"}.get(case, "waiting")
    rma_id = await make_rma(status, **kwargs)
    if case != "received":
        await _qc_ago(rma_id, dt.timedelta(days=5))
    now = utcnow()
    with pytest.raises(DomainError) as exc:
        await svc.apply_replacement(BENCH, rma_id, now=now)
    conditions = svc.replacement_conditions(await svc.get_rma(rma_id), now, 3)
    unmet = {"damaged": [2], "out_of_warranty": [3], "repaired": [0], "received": [0, 1]}[case]
    assert [i for i, (ok, _t) in enumerate(conditions) if not ok] == unmet  # exactly the condition this case breaks
    assert exc.value.status == 409 and all(conditions[i][1] in exc.value.message for i in unmet)
    assert not await _applications(rma_id)


async def test_r_rma_03_second_application_refused_with_link():
    """One application per unit: a second (by hand or by the sweep) is refused and links to the list."""
    rma_id = await make_rma("repairing")
    await _qc_ago(rma_id, dt.timedelta(days=4))
    await svc.sweep_three_day()
    with pytest.raises(DomainError) as exc:
        await svc.apply_replacement(BENCH, rma_id)
    assert exc.value.status == 409 and exc.value.link == "/bench/replacements"
    assert len(await _applications(rma_id)) == 1


async def test_r_rma_03_two_benches_applying_at_once_one_wins():
    """The race: two clicks at once → exactly one application, the other 409."""
    rma_id = await make_rma("waiting")
    await _qc_ago(rma_id, dt.timedelta(days=4))
    results = await asyncio.gather(*[svc.apply_replacement(BENCH, rma_id) for _ in range(2)], return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["DomainError", "int"]
    assert len(await _applications(rma_id)) == 1 and await _audits(rma_id) == 1


@pytest.mark.parametrize("who", [DESK, MANAGER])
async def test_r_rma_03_manual_application_refused_role(who):
    """Only the bench applies (the manager decides): 403, nothing written."""
    rma_id = await make_rma("repairing")
    await _qc_ago(rma_id, dt.timedelta(days=4))
    with pytest.raises(DomainError) as exc:
        await svc.apply_replacement(who, rma_id)
    assert exc.value.status == 403 and not await _applications(rma_id)


# --- over HTTP ----------------------------------------------------------------------------------------------------

async def test_manual_application_http(login_as):
    """The RMA page lists the conditions with the button; a POST applies and the manager sees it on the list."""
    rma_id = await make_rma("repairing")
    await _qc_ago(rma_id, dt.timedelta(days=4))
    bench = await login_as("bench")
    page = await bench.get(f"/bench/{rma_id}")
    assert page.status_code == 200 and f'action="/bench/{rma_id}/replacement"' in page.text
    assert "disabled" not in page.text.split('id="replacement-apply"')[1].split("</form>")[0]
    r = await bench.post_form(f"/bench/{rma_id}/replacement", {"replacement_note": "电源模块停产"})
    assert r.status_code == 303
    assert len(await _applications(rma_id)) == 1
    manager = await login_as("manager")
    listing = await manager.get("/bench/replacements")
    assert "电源模块停产" in listing.text
    again = await bench.get(f"/bench/{rma_id}")
    assert 'id="replacement-apply"' not in again.text  # applied: the application card shows instead


async def test_manual_application_http_inside_window_explained(login_as):
    """Inside the window the button is disabled and the page says why; a forced POST is 409 with the words."""
    rma_id = await make_rma("repairing")
    await _qc_ago(rma_id, dt.timedelta(days=1))
    bench = await login_as("bench")
    page = await bench.get(f"/bench/{rma_id}")
    block = page.text.split('id="replacement-apply"')[1].split("</form>")[0]
    unmet = re.findall(r'<span aria-hidden="true">✗</span> <span class="visually-hidden">[^<]*</span> ([^<]+)</li>', block)
    assert "disabled" in block and len(unmet) == 1  # only the window, in words
    r = await bench.post_form(f"/bench/{rma_id}/replacement", {})
    assert r.status_code == 409 and unmet[0].strip()[:12] in r.text
    assert not await _applications(rma_id)


async def test_manual_application_http_refused_role_and_bad_input(login_as):
    """Desk: 403; a control character in the note: 400; nothing written either way."""
    rma_id = await make_rma("repairing")
    await _qc_ago(rma_id, dt.timedelta(days=4))
    desk = await login_as("desk")
    assert (await desk.post_form(f"/bench/{rma_id}/replacement", {})).status_code == 403
    assert f'/bench/{rma_id}/replacement' not in (await desk.get(f"/bench/{rma_id}")).text
    bench = await login_as("bench")
    r = await bench.post_form(f"/bench/{rma_id}/replacement", {"replacement_note": "坏\x00了"})
    assert r.status_code == 400
    r = await bench.post_form(f"/bench/{rma_id}/replacement", {"replacement_note": "长" * 301})
    assert r.status_code == 400
    assert not await _applications(rma_id) and await _audits(rma_id) == 0
    assert (await bench.post_form("/bench/999999999/replacement", {})).status_code == 404

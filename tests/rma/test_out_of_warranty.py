"""#12.9: the out-of-warranty path (R-RMA-04): a printable quote, quote/answer/payment on the timeline with people's
names, and the repair clock (R-RMA-03) paused while the customer decides and pays."""

from __future__ import annotations

import datetime as dt
import re

from app.core.dates import today as business_today
from app.core.db import fetch, utcnow, write_transaction
from app.rma import services as svc
from tests.rma.factories import BENCH, DESK, make_rma

T0 = dt.datetime(2026, 3, 2, 1, 0, tzinfo=dt.timezone.utc)


def _row(**kw) -> dict:
    return {"qc_at": T0, "in_warranty": False, "quote_quoted_at": None, "quote_paid_at": None, **kw}


def test_r_rma_04_clock_runs_until_the_quote_is_sent():
    """Costing time counts: without a sent quote the window is QC + 3 days."""
    assert svc.repair_deadline(_row(), 3) == (T0 + dt.timedelta(days=3), None)


def test_r_rma_04_clock_paused_while_the_customer_decides():
    """From the quote being sent the clock stops, whatever the time now."""
    quoted = T0 + dt.timedelta(days=1)
    assert svc.repair_deadline(_row(quote_quoted_at=quoted), 3) == (T0 + dt.timedelta(days=3), quoted)


def test_r_rma_04_clock_extended_by_the_pause_once_paid():
    """Paid 2 days after the quote: the window ends 2 days later (QC + 5 days), not a second earlier or later."""
    row = _row(quote_quoted_at=T0 + dt.timedelta(days=1), quote_paid_at=T0 + dt.timedelta(days=3))
    assert svc.repair_deadline(row, 3) == (T0 + dt.timedelta(days=5), None)


def test_in_warranty_clock_never_paused():
    row = _row(in_warranty=True, quote_quoted_at=T0 + dt.timedelta(days=1))
    assert svc.repair_deadline(row, 3) == (T0 + dt.timedelta(days=3), None)


async def _quoted_unit(qc_days_ago: float = 0) -> int:
    rma_id = await make_rma("waiting", in_warranty=False)
    await svc.cost_quote(BENCH, rma_id, fault="主板烧毁", amount="350.00")
    await svc.send_quote(DESK, rma_id)
    if qc_days_ago:
        async with write_transaction():
            await fetch("UPDATE rma SET qc_at = {} WHERE id = {}", utcnow() - dt.timedelta(days=qc_days_ago), rma_id)
            await fetch("UPDATE rma_quote SET quoted_at = {} WHERE rma_id = {}",
                        utcnow() - dt.timedelta(days=qc_days_ago - 1), rma_id)
    return rma_id


async def test_r_rma_03_unit_waiting_for_the_customer_is_not_overdue():
    """QC 10 days ago, quoted the next day, no answer yet: paused, so not on the overdue list; the card says since when."""
    rma_id = await _quoted_unit(qc_days_ago=10)
    assert rma_id not in [r["id"] for r in await svc.overdue_repairs(limit=100000)]
    card = await svc.card(rma_id)
    assert card.clock_left_h is None and card.waiting_customer_since is not None and not card.late
    quote = await svc.get_quote(rma_id)
    assert card.waiting_customer_since == svc.as_dt(quote["quoted_at"])


async def test_card_says_waiting_for_the_customer(login_as):
    rma_id = await _quoted_unit()
    client = await login_as("bench")
    assert 'data-clock="paused"' in (await client.get(f"/bench/{rma_id}/card")).text
    assert 'data-clock="paused"' in (await client.get(f"/bench/{rma_id}")).text


async def test_timeline_and_print_quote_over_http(login_as):
    """Cost, quote, acceptance and payment done by people over HTTP appear on the timeline in order with their names
    (never usernames); the A4 quote prints the amount for the customer."""
    rma_id = await make_rma("waiting", in_warranty=False)
    bench = await login_as("bench", full_name="王维修")
    desk = await login_as("desk", full_name="李客服")
    finance = await login_as("finance", full_name="赵会计")
    assert (await bench.post_form(f"/bench/{rma_id}/cost", {"fault": "主板烧毁", "amount": "350.00"})).status_code == 303
    printed = await desk.get(f"/bench/{rma_id}/print/quote")
    assert printed.status_code == 200 and "350.00" in printed.text and "主板烧毁" in printed.text
    rma = await svc.get_rma(rma_id)
    assert rma["customer_name"] in printed.text and rma["serial"] in printed.text
    assert (await desk.post_form(f"/bench/{rma_id}/quote", {})).status_code == 303
    assert (await desk.post_form(f"/bench/{rma_id}/decision", {"decision": "accept", "decision_note": "同意维修"})).status_code == 303
    page = (await finance.get(f"/bench/{rma_id}")).text
    token = re.search(r'name="token" value="([^"]+)"', page).group(1)
    r = await finance.post_form(f"/bench/{rma_id}/payment", {"token": token, "amount": "350.00", "method": "cash",
                                                            "received_on": business_today().isoformat()})
    assert r.status_code == 303
    page = (await bench.get(f"/bench/{rma_id}")).text
    timeline = page.split('<ul class="rma-timeline')[1].split("</ul>")[0]
    kinds = re.findall(r'class="rma-event-(\w+)"', timeline)
    assert [k for k in kinds if k != "move"] == ["costed", "quoted", "decided", "paid"]
    for name in ("王维修", "李客服", "赵会计"):
        assert name in timeline
    for client in (bench, desk, finance):
        assert client.username not in timeline
    assert "同意维修" in timeline


async def test_print_quote_404_without_quote_and_refused_role(login_as):
    """No quote → 404; a role that may not see the bench → 403."""
    rma_id = await make_rma("waiting")
    desk = await login_as("desk")
    assert (await desk.get(f"/bench/{rma_id}/print/quote")).status_code == 404
    assert (await desk.get("/bench/999999999/print/quote")).status_code == 404
    oow = await _quoted_unit()
    admin = await login_as("admin")
    assert (await admin.get(f"/bench/{oow}/print/quote")).status_code == 403

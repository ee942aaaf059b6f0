"""#12.12: an action the rule would refuse is not offered as a live button: it is shown disabled with the reason
(burn-in time left, the out-of-warranty payment, a loaner still out), on the board card and on the RMA page."""

from __future__ import annotations

import datetime as dt
import re

from app.core import hooks
from app.core.dates import today as business_today
from app.core.db import fetch, utcnow, write_transaction
from app.rma import services as svc
from tests.rma.factories import BENCH, DESK, FINANCE, end_burn_in, make_rma
from seed.factories import unique


async def _card(client, rma_id: int) -> str:
    """The card as the board renders it (the board's own fragment: a column shows only its first 60)."""
    r = await client.get(f"/bench/{rma_id}/card")
    assert r.status_code == 200
    return r.text


async def _started(rma_id: int, ago: dt.timedelta) -> None:
    async with write_transaction():
        await fetch("UPDATE rma SET burn_in_started_at = {} WHERE id = {}", utcnow() - ago, rma_id)


async def test_card_burn_in_left_shows_final_test_disabled_with_time(login_as):
    """R-RMA-06: during burn-in the card's 终检 is a disabled button with the time left, no hx-post to press."""
    rma_id = await make_rma("burn_in")
    await _started(rma_id, dt.timedelta(hours=20, minutes=30))  # 24 h model default: 3 h 30 min left
    client = await login_as("bench")
    card = await _card(client, rma_id)
    assert f'hx-get="/bench/{rma_id}/form/final-test' not in card and "disabled" in card
    assert re.search(r"\b3\b.*\b(29|30)\b", card.split(f'id="why-{rma_id}"')[1].split("</div>")[0])


async def test_card_burn_in_over_offers_final_test(login_as):
    """…and once the hours are over, the live button comes back."""
    rma_id = await make_rma("burn_in")
    await end_burn_in(rma_id)
    client = await login_as("bench")
    card = await _card(client, rma_id)
    assert f'hx-get="/bench/{rma_id}/form/final-test' in card and f'id="why-{rma_id}"' not in card


async def test_card_blocked_reason_edges():
    """The card's reason appears exactly while the service would refuse (1 s before the end: blocked; at the end: not)."""
    rma_id = await make_rma("burn_in")
    rma = await svc.get_rma(rma_id)
    ends = svc.burn_in_ends(rma)
    assert (await svc.card(rma_id, now=ends - dt.timedelta(seconds=1))).blocked
    assert (await svc.card(rma_id, now=ends)).blocked == ""


async def test_detail_burn_in_left_disables_pass_keeps_fail(login_as):
    """On the RMA page the 'passed' choice is disabled with the time left; a failed test can still be recorded."""
    rma_id = await make_rma("burn_in")
    client = await login_as("qc")
    page = (await client.get(f"/bench/{rma_id}")).text
    assert re.search(r'value="pass" disabled', page) and 'id="d-blocked"' in page
    assert not re.search(r'value="fail" disabled', page)
    version = str((await svc.get_rma(rma_id))["version"])
    r = await client.post_form(f"/bench/{rma_id}/final-test", {"version": version, "result": "fail", "note": "老化中死机"})
    assert r.status_code == 303 and (await svc.get_rma(rma_id))["status"] == "repairing"


async def test_out_of_warranty_unpaid_start_shown_disabled(login_as):
    """R-RMA-04: accepted but unpaid → 'Start repair' disabled with the reason on card and page; paid → live."""
    rma_id = await make_rma("waiting", in_warranty=False)
    await svc.cost_quote(BENCH, rma_id,
                         fault="主板烧毁", amount="350.00")
    await svc.send_quote(DESK, rma_id)
    await svc.customer_decision(DESK, rma_id, accept=True)
    client = await login_as("bench")
    card = await _card(client, rma_id)
    assert f'hx-post="/bench/{rma_id}/start"' not in card and f'id="why-{rma_id}"' in card
    page = (await client.get(f"/bench/{rma_id}")).text
    form = page.split(f'action="/bench/{rma_id}/start"')[1].split("</form>")[0]
    assert 'disabled aria-disabled="true"' in form
    await svc.record_payment(FINANCE, rma_id, token=unique("tok"), amount="350.00",
                             received_on=business_today().isoformat(), method="cash")
    card = await _card(client, rma_id)
    assert f'hx-post="/bench/{rma_id}/start"' in card and f'id="why-{rma_id}"' not in card
    form = (await client.get(f"/bench/{rma_id}")).text.split(f'action="/bench/{rma_id}/start"')[1].split("</form>")[0]
    assert "disabled" not in form


async def test_close_blocked_by_loaner_shown_disabled(login_as):
    """A loaner still out holds the case open: 'Close' is disabled with the blocker's words and link."""
    rma_id = await make_rma("called_back")

    async def guard(case_id: int) -> list[hooks.Blocker]:
        return [hooks.Blocker(message="备品未归还", url="/loaners/1", kind="loaner")] if case_id == rma_id else []

    hooks.register_close_guard("rma", guard)
    try:
        client = await login_as("desk")
        page = (await client.get(f"/bench/{rma_id}")).text
        form = page.split(f'action="/bench/{rma_id}/close"')[1].split("</form>")[0]
        assert "备品未归还" in form and 'href="/loaners/1"' in form and 'disabled aria-disabled="true"' in form
    finally:
        hooks._CLOSE_GUARDS["rma"].remove(guard)
    form = (await client.get(f"/bench/{rma_id}")).text.split(f'action="/bench/{rma_id}/close"')[1].split("</form>")[0]
    assert "disabled" not in form

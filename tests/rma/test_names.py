"""X-04 (#12, Chinese all the way): the bench pages show people's names, never usernames or rule IDs."""

from __future__ import annotations

import re

from app.rma import services as svc
from tests.rma.factories import make_rma


async def test_board_card_and_detail_show_names_not_usernames(login_as):
    """The technician who started the repair, a hand-over, the desk's consultation: names only."""
    rma_id = await make_rma("waiting")
    tech = await login_as("bench", full_name="钱师傅")
    lead = await login_as("bench", full_name="孙组长")
    desk = await login_as("desk", full_name="周客服")
    version = str((await svc.get_rma(rma_id))["version"])
    assert (await tech.post_form(f"/bench/{rma_id}/start", {"version": version})).status_code == 303
    lead_id = (await svc.fetch("SELECT id FROM app_user WHERE username = {}", lead.username))[0]["id"]
    r = await tech.post_form(f"/bench/{rma_id}/handover", {"to_user_id": str(lead_id), "handover_note": "电源芯片难找"})
    assert r.status_code == 303
    assert (await desk.post_form(f"/bench/{rma_id}/consult", {"answer": "continue", "consult_note": "继续"})).status_code == 303
    card = (await tech.get(f"/bench/{rma_id}/card")).text
    page = (await tech.get(f"/bench/{rma_id}")).text
    assert "孙组长" in card  # the current technician after the hand-over
    for name in ("钱师傅", "孙组长", "周客服"):
        assert name in page
    for client in (tech, lead, desk):
        assert client.username not in page and client.username not in card
    assert "(" + lead.username + ")" not in page  # the hand-over picker lists names only


async def test_no_rule_ids_on_the_replacement_proposal(login_as):
    """The R-CUS-06 badge and its title say it in words."""
    rma_id = await make_rma("waiting")
    from app.core.db import fetch, write_transaction

    async with write_transaction():
        await fetch("UPDATE rma SET replacement_proposed = true WHERE id = {}", rma_id)
    client = await login_as("bench")
    for url in (f"/bench/{rma_id}", f"/bench/{rma_id}/card"):
        text = (await client.get(url)).text
        assert not re.search(r"\bR-[A-Z]{2,5}-\d{2}\b", text), url

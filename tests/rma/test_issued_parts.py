"""Issue #12 item 2: a part the keeper issues to a repair reaches it — moved (not consumed) to the RMA's own bench
location, shown on the RMA as issued-not-used, then recorded as used (consumed against the RMA) or returned."""

from __future__ import annotations

import asyncio

import pytest

from app.core.audit.services import Actor
from app.core.db import fetch
from app.core.errors import DomainError
from app.parts import services as parts
from app.rma import services as svc
from seed.parts import KEEPER, make_part, stock, stock_unit
from tests.rma.factories import BENCH, make_rma

BENCH2 = Actor(user_id=None, username="bench-test-2", roles=frozenset({"bench"}))


def _issue(part_id: int, number: str, qty: str = "1", serial: str = "", from_location: str = "CENTRAL"):
    return parts.book_form(KEEPER, part_id, parts.MoveInput(kind="issue", qty=qty, serial=serial,
                                                            from_location=from_location, document_type="rma",
                                                            document_id=number))


async def test_issue_to_rma_moves_the_part_to_the_repair_and_use_consumes_it():
    part_id = await make_part(cost="12.50")
    await stock(part_id, "CENTRAL", 5)
    rma_id = await make_rma("repairing")
    rma = await svc.get_rma(rma_id)
    move = await _issue(part_id, rma["number"].lower(), qty="2")  # typed in lower case: still found
    assert move.kind == "issue" and move.to_location_id is not None  # moved, not consumed
    assert await parts.on_hand(part_id, "CENTRAL") == 3
    issued = await parts.issued_to_document("rma", rma_id)
    assert [(r["part_id"], r["on_hand"]) for r in issued] == [(part_id, 2)]
    part = await parts.get_part(part_id)
    await svc.use_part(BENCH, rma_id, part_no=part["part_no"], qty=1)
    assert (await parts.issued_to_document("rma", rma_id))[0]["on_hand"] == 1
    extras = await svc.detail_extras(rma_id)
    assert [p["qty"] for p in extras["parts"]] == [1] and str(extras["parts_cost"]) == "12.50"
    # the rest goes back to the store it came from
    await svc.return_part(BENCH, rma_id, part_no=part["part_no"], qty=1)
    assert await parts.issued_to_document("rma", rma_id) == []
    assert await parts.on_hand(part_id, "CENTRAL") == 4
    kinds = [r["kind"] for r in await fetch("SELECT kind FROM stock_move WHERE part_id = {} ORDER BY id", part_id)]
    assert kinds == ["adjust", "issue", "issue", "return"]
    events = {r["action"] for r in await fetch("SELECT action FROM audit_event WHERE entity_type = 'rma' AND entity_id = {}",
                                              str(rma_id))}
    assert {"rma.part_used", "rma.part_returned"} <= events


async def test_issue_refuses_an_unknown_or_closed_rma_and_writes_nothing():
    part_id = await make_part()
    await stock(part_id, "CENTRAL", 2)
    done = await svc.get_rma(await make_rma("ready_to_ship"))
    for number in ("RMA-2026-999999", done["number"], ""):
        with pytest.raises(DomainError) as exc:
            await _issue(part_id, number)
        assert exc.value.status == 400 and "document_id" in exc.value.errors
    assert await parts.on_hand(part_id, "CENTRAL") == 2
    assert len(await fetch("SELECT id FROM stock_move WHERE part_id = {}", part_id)) == 1


async def test_serialised_part_issued_used_by_serial():
    part_id = await make_part(serialised=True)
    await stock_unit(part_id, "CENTRAL", serial="ISS-SN-1")
    rma = await svc.get_rma(await make_rma("repairing"))
    await _issue(part_id, rma["number"], serial="ISS-SN-1")
    assert (await parts.issued_to_document("rma", rma["id"]))[0]["serials"] == ["ISS-SN-1"]
    part = await parts.get_part(part_id)
    await svc.use_part(BENCH, rma["id"], part_no=part["part_no"], serial="ISS-SN-1")
    unit = (await parts.find_units("ISS-SN-1"))[0]
    assert unit["location_id"] is None and unit["status"] == "issued"


@pytest.mark.parametrize("attempt", range(2))
async def test_two_bench_users_consuming_the_last_issued_unit_one_wins(attempt):
    part_id = await make_part()
    await stock(part_id, "CENTRAL", 1)
    rma = await svc.get_rma(await make_rma("repairing"))
    await _issue(part_id, rma["number"])
    part = await parts.get_part(part_id)
    results = await asyncio.gather(svc.use_part(BENCH, rma["id"], part_no=part["part_no"], qty=1),
                                   svc.use_part(BENCH2, rma["id"], part_no=part["part_no"], qty=1),
                                   return_exceptions=True)
    assert sorted(type(r).__name__ for r in results) == ["DomainError", "int"], results
    refused = next(r for r in results if isinstance(r, DomainError))
    assert refused.status == 409
    assert len(await fetch("SELECT id FROM rma_part_use WHERE rma_id = {}", rma["id"])) == 1
    assert await parts.issued_to_document("rma", rma["id"]) == []


# ---------------------------------------------------------------- HTTP


async def test_http_keeper_issues_bench_uses_refused_role_and_bad_input(login_as):
    part_id = await make_part()
    await stock(part_id, "CENTRAL", 3)
    central = await parts.location_id("CENTRAL")
    rma = await svc.get_rma(await make_rma("repairing"))
    keeper = await login_as("warehouse")
    page = await keeper.get(f"/parts/{part_id}")
    assert rma["number"] in page.text and 'list="open-rmas"' in page.text  # the picker of open RMAs
    form = {"kind": "issue", "qty": "1", "from_location": str(central), "document_type": "rma",
            "document_id": "RMA-2026-999999", "token": parts.new_token()}
    bad = await keeper.post_form(f"/parts/{part_id}/move", form)
    assert bad.status_code == 400 and 'id="f-docid-error"' in bad.text and "RMA-2026-999999" in bad.text
    assert await parts.on_hand(part_id, "CENTRAL") == 3
    ok = await keeper.post_form(f"/parts/{part_id}/move", {**form, "document_id": rma["number"], "token": parts.new_token()})
    assert ok.status_code == 303
    part = await parts.get_part(part_id)

    desk = await login_as("desk")
    assert (await desk.post_form(f"/bench/{rma['id']}/parts", {"part_no": part["part_no"], "qty": "1"})).status_code == 403
    assert (await desk.post_form(f"/bench/{rma['id']}/parts/return", {"part_no": part["part_no"], "qty": "1"})).status_code == 403
    bench = await login_as("bench")
    page = await bench.get(f"/bench/{rma['id']}")
    assert "已发料，未使用" in page.text and "记为已用" in page.text
    bad = await bench.post_form(f"/bench/{rma['id']}/parts/return", {"part_no": part["part_no"], "qty": "5"})
    assert bad.status_code == 409
    assert (await parts.issued_to_document("rma", rma["id"]))[0]["on_hand"] == 1
    used = await bench.post_form(f"/bench/{rma['id']}/parts", {"part_no": part["part_no"], "qty": "1", "part_serial": ""})
    assert used.status_code == 303
    page = await bench.get(f"/bench/{rma['id']}")
    assert "已发料，未使用" not in page.text and "配件成本" in page.text


async def test_close_refused_while_issued_parts_are_neither_used_nor_returned():
    from tests.rma.factories import DESK, advance

    part_id = await make_part()
    await stock(part_id, "CENTRAL", 1)
    rma_id = await make_rma("repairing")
    await _issue(part_id, (await svc.get_rma(rma_id))["number"])
    for target in ("repaired", "burn_in", "ready_to_ship", "shipped", "delivered", "called_back"):
        await advance(await svc.get_rma(rma_id), target)
    rma = await svc.get_rma(rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.close(DESK, rma_id, rma["version"])
    assert exc.value.status == 409 and (await svc.get_rma(rma_id))["status"] == "called_back"
    part = await parts.get_part(part_id)
    await svc.return_part(BENCH, rma_id, part_no=part["part_no"], qty=1)
    await svc.close(DESK, rma_id, rma["version"])
    assert (await svc.get_rma(rma_id))["status"] == "closed"

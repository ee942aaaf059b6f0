"""Over HTTP: the dispatch form picks parts with what each store can spare and reserves them (R-TKT-04);
bad picks are a message next to the field with nothing written; the ticket → bench link both ways (#13 §6)."""

from __future__ import annotations

import datetime as dt
import re

from app.core.db import fetch
from app.parts import api as parts
from app.tickets import services
from seed.factories import unique
from seed.parts import make_part, stock
from tests.tickets.factories import finish_form, make_customer, make_device, new_ticket, visit_of
from tests.tickets.test_links import on_site


async def _uid(client) -> int:
    return (await fetch("SELECT id FROM app_user WHERE username = {}", client.username))[0]["id"]


def _version(html: str, action: str) -> str:
    match = re.search(r'action="' + re.escape(action) + r'"[^>]*>.*?name="version" value="(\d+)"', html, re.S)
    assert match, action
    return match.group(1)


async def test_dispatch_form_shows_stock_and_reserves_the_picked_parts(login_as):
    client = await login_as("desk")
    tech = await login_as("field", full_name="钱师傅")
    # the picker lists the first 80 parts of a store by number; a number that sorts first keeps this test
    # independent of how many parts other tests stocked
    part_id = await make_part(name="硬盘 4TB", part_no=unique("0-HDD-"))
    central = (await parts.get_location("CENTRAL"))["id"]
    await stock(part_id, central, 2)
    tid = await new_ticket()
    page = await client.get(f"/tickets/{tid}")
    assert f'value="{central}:{part_id}"' in page.text and "可用 2" in page.text
    response = await client.post_form(f"/tickets/{tid}/dispatch", {
        "version": _version(page.text, f"/tickets/{tid}/dispatch"), "technician_id": str(await _uid(tech)),
        "res_item": [f"{central}:{part_id}", "-", "-"], "res_qty": ["2", "1", "1"]})
    assert response.status_code == 303, response.text[:500]
    page = await client.get(f"/tickets/{tid}")
    assert 'id="reservations"' in page.text and "硬盘 4TB" in page.text and "已预留" in page.text
    slip = await client.get(f"/tickets/{tid}/print/dispatch")
    assert "硬盘 4TB" in slip.text
    assert await parts.available(part_id, central) == 0


async def test_dispatch_with_a_bad_pick_or_too_many_writes_nothing(login_as):
    client = await login_as("desk")
    tech = await login_as("field")
    part_id = await make_part()
    central = (await parts.get_location("CENTRAL"))["id"]
    await stock(part_id, central, 1)
    tid = await new_ticket()
    page = await client.get(f"/tickets/{tid}")
    version = _version(page.text, f"/tickets/{tid}/dispatch")
    for item, qty in (("abc", "1"), (f"{central}:{part_id}", "5"), (f"{central}:{part_id}", "0")):
        bad = await client.post_form(f"/tickets/{tid}/dispatch", {"version": version, "technician_id": str(await _uid(tech)),
                                                                 "res_item": item, "res_qty": qty})
        assert bad.status_code == 400, (item, qty, bad.status_code)
        assert 'id="e-res_item"' in bad.text or 'id="e-res_qty"' in bad.text
    t = (await fetch("SELECT status, assignee_id FROM ticket WHERE id = {}", tid))[0]
    assert (t["status"], t["assignee_id"]) == ("new", None)
    assert await parts.available(part_id, central) == 1


async def test_field_cannot_dispatch_with_parts(login_as):
    tech = await login_as("field")
    tid = await new_ticket()
    response = await tech.post_form(f"/tickets/{tid}/dispatch", {"version": "1", "technician_id": str(await _uid(tech)),
                                                                  "res_item": "1:1", "res_qty": "1"})
    assert response.status_code == 403


async def test_needs_return_repair_to_a_bench_intake_linked_both_ways(login_as):
    cid = await make_customer()
    dev = await make_device(cid)
    tid, _d, tech = await on_site(customer_id=cid, device_id=dev, fault_code="DVR-PSU")
    v = await visit_of(tid)
    await services.finish(tech, v["id"], finish_form(v, result="return_repair"), now=dt.datetime.now(dt.timezone.utc))
    ticket = (await fetch("SELECT number, device_serial FROM ticket WHERE id = {}", tid))[0]
    desk = await login_as("desk")
    page = await desk.get(f"/tickets/{tid}")
    link = re.search(r'id="bench-intake" href="([^"]+)"', page.text).group(1).replace("&amp;", "&")
    form = await desk.get(link)
    assert form.status_code == 200 and f'name="ticket_number" value="{ticket["number"]}"' in form.text
    assert "来自服务工单" in form.text
    response = await desk.post_form("/bench/receive", {"serial": ticket["device_serial"], "fault_reported": "电源坏",
                                                        "ticket_number": ticket["number"]})
    assert response.status_code == 303, response.text[:400]
    rma_id = int(response.headers["location"].rsplit("/", 1)[1])
    rma = (await fetch("SELECT number, ticket_number FROM rma WHERE id = {}", rma_id))[0]
    assert rma["ticket_number"] == ticket["number"]
    rma_page = await desk.get(f"/bench/{rma_id}")
    assert f'/tickets/number/{ticket["number"]}' in rma_page.text
    hop = await desk.get(f"/tickets/number/{ticket['number']}")
    assert hop.status_code in (302, 303) and hop.headers["location"].endswith(f"/tickets/{tid}")
    page = await desk.get(f"/tickets/{tid}")
    assert rma["number"] in page.text and 'id="bench-intake"' not in page.text  # linked; no second intake offered
    assert (await desk.get("/tickets/number/FW-NOPE-1")).status_code == 404
    bad = await desk.post_form("/bench/receive", {"serial": "SN-X-1", "customer_name": "某公司", "fault_reported": "坏",
                                                   "ticket_number": "<b>"})
    assert bad.status_code == 400


async def test_a_technician_cannot_follow_a_number_link_to_another_technicians_ticket(login_as):
    tid = await new_ticket()
    number = (await fetch("SELECT number FROM ticket WHERE id = {}", tid))[0]["number"]
    tech = await login_as("field")
    assert (await tech.get(f"/tickets/number/{number}")).status_code == 403

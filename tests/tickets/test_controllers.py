"""Ticket pages through the test client: each page and action, the refused roles, bad input with a
message next to the field and nothing written (X-05)."""

from __future__ import annotations

import datetime as dt
import re

from app.core.db import fetch
from tests.tickets.factories import dispatched, make_customer, make_device, new_ticket, png, visit_of


async def _uid(client) -> int:
    return (await fetch("SELECT id FROM app_user WHERE username = {}", client.username))[0]["id"]


async def _count(sql: str, *args) -> int:
    return (await fetch(sql, *args))[0]["n"]


def _version(html: str, action: str) -> str:
    match = re.search(r'action="' + re.escape(action) + r'"[^>]*>.*?name="version" value="(\d+)"', html, re.S)
    assert match, action
    return match.group(1)


async def test_desk_pages_render_in_chinese(login_as):
    """List, intake, entitlement panel, board, ticket page and dispatch slip answer 200 with Chinese labels."""
    client = await login_as("desk")
    cid = await make_customer(contacts=[("王先生", "13900000000")])
    tid, _d, _tech = await dispatched(customer_id=cid)
    for url in ("/tickets", "/tickets?view=unassigned", "/tickets?view=breaching", "/tickets?view=paused",
                "/tickets?view=signoff", f"/tickets?view=all&status=assigned&channel=phone&customer={cid}",
                "/tickets/new", f"/tickets/new?customer_id={cid}", f"/tickets/entitlement?customer_id={cid}",
                "/tickets/board", f"/tickets/{tid}", f"/tickets/{tid}/print/dispatch"):
        response = await client.get(url)
        assert response.status_code == 200, (url, response.text[:300])
    page = await client.get(f"/tickets/{tid}")
    assert "已派工" in page.text and "assigned" not in re.sub(r"<[^>]+>", "", page.text).split()
    slip = await client.get(f"/tickets/{tid}/print/dispatch")
    assert "故障处理派工单" in slip.text and "电源适配器" in slip.text
    intake = await client.get(f"/tickets/new?customer_id={cid}")
    assert "王先生" in intake.text and 'id="ent-billing"' in intake.text


async def test_intake_over_http_records_and_redirects(login_as):
    """A complete intake answers 303 to the new ticket; the list shows it."""
    client = await login_as("desk")
    cid = await make_customer()
    dev = await make_device(cid)
    form = {"customer_id": str(cid), "device_id": str(dev), "channel": "phone", "contact_name": "李女士",
            "contact_phone": "13700000000", "requested_service": "录像机无法回放", "nature": "hardware",
            "category": "cctv", "impact": "stopped", "service_mode": "mobile", "token": "tok-" + str(cid)}
    response = await client.post_form("/tickets", form)
    assert response.status_code == 303
    tid = int(response.headers["location"].rsplit("/", 1)[1])
    assert (await fetch("SELECT device_id FROM ticket WHERE id = {}", tid))[0]["device_id"] == dev
    again = await client.post_form("/tickets", form)  # the same form sent twice: one ticket
    assert again.status_code == 409
    assert await _count("SELECT COUNT(*) AS n FROM ticket WHERE customer_id = {}", cid) == 1


async def test_intake_bad_input_shows_the_field_message_and_writes_nothing(login_as):
    """Missing service and contact: 400, the message next to the field, no ticket."""
    client = await login_as("desk")
    cid = await make_customer()
    response = await client.post_form("/tickets", {"customer_id": str(cid), "channel": "phone", "nature": "hardware",
                                                   "category": "cctv", "impact": "partial"})
    assert response.status_code == 400
    assert 'id="e-requested_service"' in response.text and 'id="e-contact_phone"' in response.text
    assert await _count("SELECT COUNT(*) AS n FROM ticket WHERE customer_id = {}", cid) == 0


async def test_refused_roles(login_as):
    """Field cannot take calls or dispatch; finance and bench cannot open tickets; a technician cannot open another's ticket."""
    tech = await login_as("field")
    assert (await tech.get("/tickets/new")).status_code == 403
    tid, _d, _t = await dispatched()
    assert (await tech.post_form(f"/tickets/{tid}/dispatch", {"version": "2", "to_queue": "1"})).status_code == 403
    assert (await tech.get(f"/tickets/{tid}")).status_code == 403
    for role in ("finance", "bench", "warehouse", "qc"):
        other = await login_as(role)
        assert (await other.get("/tickets")).status_code == 403
        assert (await other.get(f"/tickets/{tid}")).status_code == 403
    manager = await login_as("manager")
    assert (await manager.get(f"/tickets/{tid}")).status_code == 200
    assert (await manager.post_form(f"/tickets/{tid}/close", {"version": "2"})).status_code == 403


async def test_dispatch_over_http_and_stale_second_click(login_as):
    """The desk dispatches from the ticket page; a second post with the old version is a 409 naming the technician."""
    client = await login_as("desk")
    tech = await login_as("field", full_name="赵师傅")
    tech_id = await _uid(tech)
    tid = await new_ticket()
    page = await client.get(f"/tickets/{tid}")
    version = _version(page.text, f"/tickets/{tid}/dispatch")
    response = await client.post_form(f"/tickets/{tid}/dispatch", {"version": version, "technician_id": str(tech_id),
                                                                   "spares": "硬盘"})
    assert response.status_code == 303
    again = await client.post_form(f"/tickets/{tid}/dispatch", {"version": version, "technician_id": str(tech_id)})
    assert again.status_code == 409 and "赵师傅" in again.text
    bad = await client.post_form(f"/tickets/{tid}/pause", {"version": str(int(version) + 1), "reason": ""})
    assert bad.status_code == 400 and 'id="e-reason"' in bad.text


async def test_technician_day_on_a_phone_through_sign_off(login_as):
    """My day lists the visit with a tel: link; ETA, depart, arrive, finish, sign with a drawn PNG; the slip prints."""
    tech = await login_as("field")
    tech_id = await _uid(tech)
    class _T:
        user_id = tech_id
    tid, _d, _t = await dispatched(tech=_T())  # type: ignore[arg-type]
    day = await tech.get("/tickets/my")
    assert day.status_code == 200 and 'href="tel:13800000000"' in day.text
    v = await visit_of(tid)
    url = f"/tickets/visits/{v['id']}"
    from app.core.i18n import tz

    eta = (dt.datetime.now(tz()) + dt.timedelta(hours=1)).strftime("%Y-%m-%dT%H:%M")
    assert (await tech.post_form(url + "/call", {"version": str(v["version"]), "eta": eta})).status_code == 303
    # finish before arrival: a clear message, nothing written
    v = await visit_of(tid)
    early = await tech.post_form(url + "/finish", {"version": str(v["version"]), "work_done": "x", "result": "done"})
    assert early.status_code == 400 and "请先登记到达" in early.text
    assert (await visit_of(tid))["status"] == "planned"
    for action in ("depart", "arrive"):
        v = await visit_of(tid)
        assert (await tech.post_form(f"{url}/{action}", {"version": str(v["version"])})).status_code == 303
    v = await visit_of(tid)
    response = await tech.post_form(url + "/finish", {"version": str(v["version"]), "work_done": "更换硬盘",
                                                      "result": "done"})
    assert response.status_code == 303, response.text[:500]
    v = await visit_of(tid)
    unsigned = await tech.post_form(url + "/sign", {"version": str(v["version"]), "signer": "王先生",
                                                    "accessories": "none", "signature": png()})
    assert unsigned.status_code == 400 and 'id="e-satisfaction"' in unsigned.text
    signed = await tech.post_form(url + "/sign", {"version": str(v["version"]), "signer": "王先生", "satisfaction": "very",
                                                  "accessories": "none", "signature": png()})
    assert signed.status_code == 303
    assert (await visit_of(tid))["score"] == 5
    image = await tech.get(url + "/signature")
    assert image.status_code == 200 and image.content.startswith(b"\x89PNG")
    slip = await tech.get(url + "/print")
    assert slip.status_code == 200 and "客户服务联络单" in slip.text and "很满意" in slip.text
    other = await login_as("field")
    assert (await other.get(url)).status_code == 403
    assert (await other.post_form(url + "/sign", {"version": "9"})).status_code == 403


async def test_customer_page_shows_its_tickets(login_as):
    """The customer page gains a tickets section."""
    client = await login_as("desk")
    cid = await make_customer()
    tid = await new_ticket(customer_id=cid)
    number = (await fetch("SELECT number FROM ticket WHERE id = {}", tid))[0]["number"]
    page = await client.get(f"/customers/{cid}")
    assert page.status_code == 200 and number in page.text and "新建" in page.text


async def test_desk_takes_a_call_and_dispatches_in_one_form(login_as):
    """Intake with "dispatch at once": one post records the ticket and assigns it (R-TKT-01/03)."""
    client = await login_as("desk")
    tech = await login_as("field")
    tech_id = await _uid(tech)
    cid = await make_customer()
    page = await client.get(f"/tickets/new?customer_id={cid}")
    assert f'value="{tech_id}"' in page.text
    response = await client.post_form("/tickets", {"customer_id": str(cid), "channel": "phone", "contact_name": "李女士",
                                                   "contact_phone": "137", "requested_service": "报警主机误报",
                                                   "nature": "hardware", "category": "intrusion", "impact": "partial",
                                                   "technician_id": str(tech_id), "token": f"call-{cid}"})
    assert response.status_code == 303
    row = (await fetch("SELECT status, assignee_id FROM ticket WHERE customer_id = {}", cid))[0]
    assert (row["status"], row["assignee_id"]) == ("assigned", tech_id)


async def test_device_page_shows_its_tickets_and_english_pages_have_no_chinese_codes(login_as):
    """The device page gains a tickets section; the ticket page in English shows English labels."""
    client = await login_as("desk")
    cid = await make_customer()
    dev = await make_device(cid)
    tid = await new_ticket(customer_id=cid, device_id=dev, fault_code="NO-VIDEO")
    number = (await fetch("SELECT number FROM ticket WHERE id = {}", tid))[0]["number"]
    page = await client.get(f"/devices/{dev}")
    assert page.status_code == 200 and number in page.text
    english = await client.get(f"/tickets/{tid}", params={"lang": "en"})
    assert english.status_code == 200 and "Service requested" in english.text and "New" in english.text
    listing = await client.get("/tickets", params={"lang": "en", "view": "unassigned"})
    assert "Breaching within 30 min" in listing.text

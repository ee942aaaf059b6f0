"""HTTP tests for the bench pages and every transition (issue #5)."""

from __future__ import annotations

import asyncio
import datetime as dt

from app.core.dates import today as business_today
from app.core.db import fetch
from app.rma import services as svc
from seed.factories import unique
from tests.rma.factories import age_qc, end_burn_in, make_device_for_rma, make_rma

HX = {"hx-request": "true"}
TODAY = business_today().isoformat()

# what each transition posts (from the detail page form)
INPUTS = {
    "unbox": {"appearance": "ok", "accessories": "电源"},
    "confirm": {"note": "王先生 138"},
    "qc": {"fault_code": "NO-POWER", "fault_confirmed": "电源坏"},
    "start": {},
    "repaired": {"fault_found": "换电源"},
    "burn-in": {"hours": ""},
    "final-test": {"result": "pass"},
    "ship": {"carrier": "顺丰", "tracking_no": "SF123", "customer_told_on": TODAY},
    "deliver": {"delivered_on": TODAY},
    "callback": {"note": "满意"},
    "close": {},
}


async def _v(rma_id: int) -> str:
    return str((await svc.get_rma(rma_id))["version"])


async def test_board_renders_cards_fifo(login_as):
    """/bench shows columns with counts and the new card (the newest is past the first N cards once the column
    holds more: filtered to its technician here; the slices are tested in test_board_slices)."""
    rma_id = await make_rma("inspected")
    client = await login_as("bench")
    from app.core.db import write_transaction

    uid = (await fetch("SELECT id FROM app_user WHERE username = {}", client.username))[0]["id"]
    async with write_transaction():
        await fetch("UPDATE rma SET technician_id = {} WHERE id = {}", uid, rma_id)
    r = await client.get(f"/bench?tech={uid}")
    assert r.status_code == 200
    assert f'id="rma-{rma_id}"' in r.text and 'id="count-inspected"' in r.text
    assert 'id="count-inspected"' in (await client.get("/bench")).text


async def test_board_query_count_independent_of_cards(monkeypatch):
    """Quality bar: a constant number of queries per board render, whatever the number of cards."""
    calls = []
    real = svc.fetch

    async def counting(sql, *args):
        calls.append(sql)
        return await real(sql, *args)

    from app.rma.services import _board

    monkeypatch.setattr(_board, "fetch", counting)
    await svc.board()
    first = len(calls)
    for _ in range(5):
        await make_rma("registered")
    calls.clear()
    await svc.board()
    assert len(calls) == first <= 4


async def test_board_filter_by_technician(login_as):
    """?tech= shows only that technician's cards."""
    rma_id = await make_rma("repairing")
    other = await make_rma("repairing")
    client = await login_as("bench")
    from app.core.db import write_transaction

    uid = (await fetch("SELECT id FROM app_user WHERE username = {}", client.username))[0]["id"]
    async with write_transaction():
        await fetch("UPDATE rma SET technician_id = {} WHERE id = {}", uid, rma_id)
    r = await client.get(f"/bench?tech={uid}")
    assert f'id="rma-{rma_id}"' in r.text and f'id="rma-{other}"' not in r.text


async def test_scan_opens_card_or_offers_intake(login_as):
    """Scanning a serial opens its card; an unknown serial goes to the intake form."""
    rma_id = await make_rma("waiting")
    rma = await svc.get_rma(rma_id)
    client = await login_as("bench")
    r = await client.get("/bench/scan", params={"q": rma["serial"]})
    assert r.status_code == 303 and r.headers["location"] == f"/bench?open={rma_id}#rma-{rma_id}"
    page = await client.get(f"/bench?open={rma_id}")
    assert "is-open" in page.text
    r = await client.get("/bench/scan", params={"q": "UNKNOWN-XYZ"})
    assert r.headers["location"].startswith("/bench/receive?serial=UNKNOWN-XYZ")


async def test_receive_prefill_and_create(login_as):
    """/bench/receive: scan → device, customer and warranty shown; POST creates a numbered RMA."""
    _device, serial = await make_device_for_rma()
    client = await login_as("desk")
    page = await client.get("/bench/receive", params={"serial": serial})
    assert page.status_code == 200 and serial in page.text
    r = await client.post_form("/bench/receive", {"serial": serial, "fault_reported": "不开机", "appearance": "ok"})
    assert r.status_code == 303
    rows = await fetch("SELECT id, status FROM rma WHERE serial = {}", serial)
    assert rows and rows[0]["status"] == "inspected" and r.headers["location"] == f"/bench/{rows[0]['id']}"


async def test_receive_bad_input_400_nothing_written(login_as):
    """Bad input → 400 with the message next to the field; nothing written."""
    client = await login_as("bench")
    serial = unique("BAD").upper()
    r = await client.post_form("/bench/receive", {"serial": serial, "appearance": "damaged"})
    assert r.status_code == 400 and "invalid-feedback" in r.text
    assert not await fetch("SELECT id FROM rma WHERE serial = {}", serial)


async def test_receive_refused_for_finance(login_as):
    """Finance does not receive units: 403, nothing written."""
    client = await login_as("finance")
    serial = unique("FIN").upper()
    r = await client.post_form("/bench/receive", {"serial": serial, "customer_name": "x", "fault_reported": "x"})
    assert r.status_code == 403
    assert not await fetch("SELECT id FROM rma WHERE serial = {}", serial)


async def test_every_transition_over_http(login_as):
    """Each transition is one POST; the detail page shows the timeline."""
    rma_id = await make_rma("received")
    bench = await login_as("bench", "qc")
    desk = await login_as("desk")
    for action in ["unbox", "confirm", "qc", "start", "repaired", "burn-in", "final-test", "ship", "deliver", "callback",
                   "close"]:
        if action == "final-test":
            await end_burn_in(rma_id)
        client = desk if action in ("callback", "close") else bench
        r = await client.post_form(f"/bench/{rma_id}/{action}", {"version": await _v(rma_id), **INPUTS[action]})
        assert r.status_code == 303, (action, r.status_code, r.text[:300])
    assert (await svc.get_rma(rma_id))["status"] == "closed"
    page = await bench.get(f"/bench/{rma_id}")
    assert page.status_code == 200 and "rma-timeline" in page.text


async def test_board_advance_returns_oob_swaps(login_as):
    """HTMX advance from the board: the card leaves, destination column and counts swap out of band."""
    rma_id = await make_rma("inspected")
    client = await login_as("bench")
    r = await client.post_form(f"/bench/{rma_id}/confirm", {"version": await _v(rma_id), "from_board": "1"}, headers=HX)
    assert r.status_code == 200
    assert 'id="count-inspected" hx-swap-oob="true"' in r.text and 'id="col-registered" hx-swap-oob="innerHTML"' in r.text
    assert f'id="rma-{rma_id}"' in r.text  # now in the registered column


async def test_card_form_fragment_and_inline_errors(login_as):
    """The inputs a transition needs are asked inline; bad input re-renders the form with 400."""
    rma_id = await make_rma("registered")
    client = await login_as("qc")
    r = await client.get(f"/bench/{rma_id}/form/qc", headers=HX)
    assert r.status_code == 200 and 'name="fault_code"' in r.text
    r = await client.post_form(f"/bench/{rma_id}/qc", {"version": await _v(rma_id), "from_board": "1", "fault_code": ""},
                               headers=HX)
    assert r.status_code == 400 and "invalid-feedback" in r.text
    assert f'id="rma-{rma_id}"' in r.text  # the whole card comes back, with the form inside it
    assert (await svc.get_rma(rma_id))["status"] == "registered"


async def test_stale_click_409_already_moved(login_as):
    """A second click with the old version → 409 naming who moved it (their name, X-04); one transition row."""
    rma_id = await make_rma("inspected")
    client = await login_as("bench", full_name="李工程")
    version = await _v(rma_id)
    first = await client.post_form(f"/bench/{rma_id}/confirm", {"version": version, "from_board": "1"}, headers=HX)
    second = await client.post_form(f"/bench/{rma_id}/confirm", {"version": version, "from_board": "1"}, headers=HX)
    assert first.status_code == 200 and second.status_code == 409
    assert "李工程" in second.text
    rows = await fetch("SELECT id FROM rma_transition WHERE rma_id = {} AND to_status = 'registered'", rma_id)
    assert len(rows) == 1


async def test_twenty_concurrent_http_clicks(login_as):
    """Quality bar over HTTP: 20 concurrent advances → 1 moved, 19 × 409, 1 transition row."""
    rma_id = await make_rma("waiting")
    client = await login_as("bench")
    version = await _v(rma_id)
    responses = await asyncio.gather(*[
        client.post_form(f"/bench/{rma_id}/start", {"version": version, "from_board": "1"}, headers=HX) for _ in range(20)])
    codes = sorted(r.status_code for r in responses)
    assert codes.count(200) == 1 and codes.count(409) == 19, codes
    rows = await fetch("SELECT id FROM rma_transition WHERE rma_id = {} AND to_status = 'repairing'", rma_id)
    assert len(rows) == 1


async def test_refused_roles_on_transitions(login_as):
    """Only bench/qc move bench stages: desk → 403 on QC, finance → 403 on anything; nothing written."""
    rma_id = await make_rma("registered")
    version = await _v(rma_id)
    desk = await login_as("desk")
    r = await desk.post_form(f"/bench/{rma_id}/qc", {"version": version, **INPUTS["qc"]})
    assert r.status_code == 403
    finance = await login_as("finance")
    r = await finance.post_form(f"/bench/{rma_id}/qc", {"version": version, **INPUTS["qc"]})
    assert r.status_code == 403
    assert await _v(rma_id) == version


async def test_illegal_transition_409(login_as):
    """Ship on a unit still waiting → 409 with the reason; nothing changes."""
    rma_id = await make_rma("waiting")
    client = await login_as("bench")
    version = await _v(rma_id)
    r = await client.post_form(f"/bench/{rma_id}/ship", {"version": version, **INPUTS["ship"]})
    assert r.status_code == 409 and await _v(rma_id) == version


async def test_final_test_before_burn_in_refused_http(login_as):
    """Burn-in not elapsed → final test pass refused (409)."""
    rma_id = await make_rma("burn_in")
    client = await login_as("qc")
    r = await client.post_form(f"/bench/{rma_id}/final-test", {"version": await _v(rma_id), "result": "pass"})
    assert r.status_code == 409 and (await svc.get_rma(rma_id))["status"] == "burn_in"


async def test_out_of_warranty_flow_over_http(login_as):
    """Bench costs, desk quotes and records the answer, finance records payment; then repair starts."""
    rma_id = await make_rma("waiting", in_warranty=False)
    bench, desk, finance = await login_as("bench"), await login_as("desk"), await login_as("finance")
    r = await bench.post_form(f"/bench/{rma_id}/start", {"version": await _v(rma_id)})
    assert r.status_code == 409
    r = await bench.post_form(f"/bench/{rma_id}/cost", {"fault": "主板", "amount": "abc"})
    assert r.status_code == 400
    assert (await bench.post_form(f"/bench/{rma_id}/cost", {"fault": "主板", "amount": "320"})).status_code == 303
    assert (await bench.post_form(f"/bench/{rma_id}/quote", {})).status_code == 403  # desk quotes
    assert (await desk.post_form(f"/bench/{rma_id}/quote", {})).status_code == 303
    assert (await desk.post_form(f"/bench/{rma_id}/decision", {"decision": "accept"})).status_code == 303
    page = await finance.get(f"/bench/{rma_id}")
    assert 'action="/bench/%s/payment"' % rma_id in page.text
    r = await bench.post_form(f"/bench/{rma_id}/payment", {"token": unique("t"), "amount": "320", "received_on": TODAY,
                                                           "method": "cash"})
    assert r.status_code == 403  # finance records payments
    r = await finance.post_form(f"/bench/{rma_id}/payment", {"token": unique("t"), "amount": "320", "received_on": TODAY,
                                                             "method": "cash"})
    assert r.status_code == 303
    r = await bench.post_form(f"/bench/{rma_id}/start", {"version": await _v(rma_id)})
    assert r.status_code == 303 and (await svc.get_rma(rma_id))["status"] == "repairing"


async def test_declined_then_ship_unrepaired_http(login_as):
    """Declined quote → 'return unrepaired' moves the unit to ready-to-ship."""
    rma_id = await make_rma("waiting", in_warranty=False)
    bench, desk = await login_as("bench"), await login_as("desk")
    await bench.post_form(f"/bench/{rma_id}/cost", {"fault": "主板", "amount": "320"})
    await desk.post_form(f"/bench/{rma_id}/quote", {})
    await desk.post_form(f"/bench/{rma_id}/decision", {"decision": "decline", "decision_note": "贵"})
    r = await bench.post_form(f"/bench/{rma_id}/ship-unrepaired", {"version": await _v(rma_id)})
    assert r.status_code == 303 and (await svc.get_rma(rma_id))["outcome"] == "unrepaired"


async def test_replacement_approval_http(login_as):
    """Manager approves a 3-day application with a new serial from stock; bench cannot."""
    from seed.parts import make_part, stock_unit

    rma_id = await make_rma("repairing")
    await age_qc(rma_id, 5)
    manager = await login_as("manager")
    page = await manager.get("/bench/replacements")
    assert page.status_code == 200
    app_id = (await fetch("SELECT id FROM rma_replacement WHERE rma_id = {}", rma_id))[0]["id"]
    bench = await login_as("bench")
    assert (await bench.post_form(f"/bench/replacements/{app_id}", {"decision": "approve", "new_serial": "x"})).status_code == 403
    r = await manager.post_form(f"/bench/replacements/{app_id}", {"decision": "approve", "new_serial": ""})
    assert r.status_code == 400
    serial = unique("NEWU")
    await stock_unit(await make_part(serialised=True, category="device"), "CENTRAL", serial)
    r = await manager.post_form(f"/bench/replacements/{app_id}", {"decision": "approve", "new_serial": serial})
    assert r.status_code == 303 and (await svc.get_rma(rma_id))["outcome"] == "replaced"


async def test_handover_consult_parts_http(login_as):
    """Hand-over (bench), consultation (desk), parts booking (bench); bad input 400."""
    from app.parts import services as parts
    from seed.parts import make_part, stock

    rma_id = await make_rma("repairing")
    bench, desk = await login_as("bench"), await login_as("desk")
    lead = (await fetch("SELECT id FROM app_user WHERE username = {}", bench.username))[0]["id"]
    assert (await bench.post_form(f"/bench/{rma_id}/handover", {"to_user_id": lead, "handover_note": ""})).status_code == 400
    assert (await bench.post_form(f"/bench/{rma_id}/handover", {"to_user_id": lead, "handover_note": "交组长"})).status_code == 303
    assert (await bench.post_form(f"/bench/{rma_id}/consult", {"answer": "continue"})).status_code == 403
    assert (await desk.post_form(f"/bench/{rma_id}/consult", {"answer": "x"})).status_code == 400
    assert (await desk.post_form(f"/bench/{rma_id}/consult", {"answer": "continue"})).status_code == 303
    part_id = await make_part()
    await stock(part_id, "BENCH", 2)
    part = await parts.get_part(part_id)
    r = await bench.post_form(f"/bench/{rma_id}/parts", {"part_no": part["part_no"], "qty": "5"})
    assert r.status_code == 409
    r = await bench.post_form(f"/bench/{rma_id}/parts", {"part_no": part["part_no"], "qty": "1"})
    assert r.status_code == 303 and await parts.on_hand(part_id, "BENCH") == 1


async def test_print_views(login_as):
    """A4 exception slip and return slip ('burn-in N days, no fault, may return')."""
    rma_id = await make_rma("ready_to_ship")
    client = await login_as("qc")
    r = await client.get(f"/bench/{rma_id}/print/exception")
    assert r.status_code == 200 and (await svc.get_rma(rma_id))["exception_number"] in r.text
    r = await client.get(f"/bench/{rma_id}/print/slip")
    assert r.status_code == 200 and "sheet" in r.text


async def test_report_and_xlsx(login_as):
    """R-RMA-08: monthly report page with the SVG chart, and the XLSX export."""
    await make_rma("ready_to_ship")
    client = await login_as("manager")
    r = await client.get("/bench/report")
    assert r.status_code == 200 and "<svg" in r.text
    r = await client.get("/bench/report.xlsx?month=2026-11")
    assert r.status_code == 200 and r.content[:2] == b"PK"
    desk = await login_as("desk")
    assert (await desk.get("/bench/report")).status_code == 403


async def test_overdue_and_burn_in_pages(login_as):
    """Overdue lists; burn-in hours per model (manager edits, bad input 400, bench may not)."""
    client = await login_as("manager")
    assert (await client.get("/bench/overdue")).status_code == 200
    assert (await client.get("/bench/burn-in")).status_code == 200
    assert (await client.post_form("/bench/burn-in", {"model": "M1", "hours": "zz"})).status_code == 400
    model = unique("MB")
    assert (await client.post_form("/bench/burn-in", {"model": model, "hours": "36"})).status_code == 303
    assert await svc.burn_in_hours_for(model) == 36
    bench = await login_as("bench")
    assert (await bench.post_form("/bench/burn-in", {"model": model, "hours": "1"})).status_code == 403


async def test_home_panels(login_as):
    """Home shows the bench, qc, manager and desk panels."""
    for role, key in (("bench", "rma-bench"), ("qc", "rma-qc"), ("manager", "rma-manager"), ("desk", "rma-desk")):
        client = await login_as(role)
        r = await client.get("/")
        assert r.status_code == 200 and f'id="panel-{key}"' in r.text, role


async def test_detail_404_and_anonymous(login_as, anon):
    """Unknown RMA → 404; anonymous → login."""
    client = await login_as("bench")
    assert (await client.get("/bench/999999999")).status_code == 404
    assert (await anon.get("/bench")).status_code in (302, 303)
    rma_id = await make_rma("received")
    r = await client.get(f"/rma/{rma_id}")
    assert r.status_code == 303 and r.headers["location"] == f"/bench/{rma_id}"


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_unboxing_photos_upload_and_serve(login_as):
    """R-RMA-01 photos: a PNG is stored and served with its type; a disguised HTML file is refused (400)."""
    rma_id = await make_rma("received")
    client = await login_as("qc")
    headers = {"x-csrftoken": await client.csrf()}
    r = await client.post(f"/bench/{rma_id}/photos", files={"photo": ("box.png", PNG, "image/png")}, headers=headers)
    assert r.status_code == 303, r.text[:300]
    rows = await fetch("SELECT id, content_type FROM rma_photo WHERE rma_id = {}", rma_id)
    assert len(rows) == 1 and rows[0]["content_type"] == "image/png"
    got = await client.get(f"/bench/photos/{rows[0]['id']}")
    assert got.status_code == 200 and got.content == PNG and got.headers["x-content-type-options"] == "nosniff"
    r = await client.post(f"/bench/{rma_id}/photos", files={"photo": ("x.png", b"<html>hi</html>", "image/png")},
                          headers=headers)
    assert r.status_code == 400
    assert len(await fetch("SELECT id FROM rma_photo WHERE rma_id = {}", rma_id)) == 1
    finance = await login_as("finance")
    r = await finance.post(f"/bench/{rma_id}/photos", files={"photo": ("box.png", PNG, "image/png")},
                           headers={"x-csrftoken": await finance.csrf()})
    assert r.status_code == 403

"""Parts pages and actions over HTTP (issue #4): pages, refused roles, bad input, races."""

from __future__ import annotations

import asyncio
import re

from app.core.db import fetch
from app.parts import emergency, purchasing, services
from seed.factories import make_user, unique
from seed.parts import make_part, stock, stock_unit


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "form has a one-time token"
    return match.group(1)


async def moves_of(part_id: int) -> int:
    return int((await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE part_id = {}", part_id))[0]["n"])


async def test_parts_list_and_search(login_as):
    """/parts lists parts; the HTMX search returns only the rows fragment."""
    part = await make_part(name=unique("硬盘录像机"))
    row = await services.get_part(part)
    client = await login_as("warehouse")
    page = await client.get("/parts", params={"q": row["part_no"]})
    assert page.status_code == 200 and row["part_no"] in page.text and "<html" in page.text
    frag = await client.get("/parts", params={"q": row["name"]}, headers={"HX-Request": "true"})
    assert frag.status_code == 200 and row["part_no"] in frag.text and "<html" not in frag.text


async def test_search_enter_jumps_to_part_or_scanned_unit(login_as):
    """Keeper speed: Enter on an exact part number or scanned serial goes straight to it."""
    part = await make_part(serialised=True)
    unit = await stock_unit(part, "CENTRAL")
    serial = (await services.get_unit(unit))["serial"]
    client = await login_as("warehouse")
    go = await client.get("/parts/go", params={"q": (await services.get_part(part))["part_no"]})
    assert go.status_code == 303 and go.headers["location"] == f"/parts/{part}"
    go = await client.get("/parts/go", params={"q": serial})
    assert go.status_code == 303 and go.headers["location"] == f"/parts/units/{unit}"
    page = await client.get(f"/parts/units/{unit}")
    assert page.status_code == 200 and serial in page.text
    go = await client.get("/parts/go", params={"q": "zz-nothing-zz"})
    assert go.headers["location"].startswith("/parts?q=")


async def test_part_page_shows_stock_by_location_and_movements(login_as):
    """The part page: stock per location, last movements, a movement form with a token, barcode and QR."""
    part = await make_part()
    await stock(part, "BENCH", 4)
    client = await login_as("warehouse")
    page = await client.get(f"/parts/{part}")
    assert page.status_code == 200
    assert 'id="stock-by-location"' in page.text and "维修部" in page.text and "test stock" in page.text
    assert token_of(page.text)
    svg = await client.get(f"/parts/{part}/barcode.svg")
    assert svg.status_code == 200 and svg.headers["content-type"].startswith("image/svg+xml") and "<svg" in svg.text
    qr = await client.get(f"/parts/{part}/qr.svg")
    assert qr.status_code == 200 and "<svg" in qr.text
    label = await client.get(f"/parts/{part}/label")
    assert label.status_code == 200 and "<svg" in label.text


async def test_issue_form_books_once_and_redirects(login_as):
    """A movement posted from the part page books one ledger row and redirects with a flash."""
    part = await make_part()
    await stock(part, "CENTRAL", 5)
    client = await login_as("warehouse")
    token = token_of((await client.get(f"/parts/{part}")).text)
    central = await services.location_id("CENTRAL")
    data = {"kind": "issue", "qty": "2", "from_location": str(central), "document_type": "ticket", "document_id": "FW-1",
            "reason": "现场更换", "token": token}
    response = await client.post_form(f"/parts/{part}/move", data)
    assert response.status_code == 303 and response.headers["location"] == f"/parts/{part}"
    assert await services.on_hand(part, "CENTRAL") == 3


async def test_same_form_token_posted_ten_times_books_one_movement(login_as):
    """Quality bar: the same form token posted 10 times (at once) → one movement."""
    part = await make_part()
    await stock(part, "CENTRAL", 20)
    client = await login_as("warehouse")
    token = token_of((await client.get(f"/parts/{part}")).text)
    central, bench = await services.location_id("CENTRAL"), await services.location_id("BENCH")
    data = {"kind": "transfer", "qty": "1", "from_location": str(central), "to_location": str(bench), "token": token}
    before = await moves_of(part)
    responses = await asyncio.gather(*[client.post_form(f"/parts/{part}/move", data) for _ in range(10)])
    assert all(r.status_code == 303 for r in responses)
    assert await moves_of(part) == before + 1
    assert await services.on_hand(part, "BENCH") == 1


async def test_fifty_concurrent_http_issues_of_last_unit(login_as):
    """Quality bar over HTTP: 50 concurrent issues of the last unit → 1 redirect, 49 clear 409 'not enough stock'."""
    part = await make_part()
    await stock(part, "CENTRAL", 1)
    client = await login_as("warehouse")
    central = await services.location_id("CENTRAL")

    async def post(n: int):
        return await client.post_form(f"/parts/{part}/move", {
            "kind": "issue", "qty": "1", "from_location": str(central), "document_type": "ticket", "document_id": str(n),
            "token": services.new_token()})

    responses = await asyncio.gather(*[post(n) for n in range(50)])
    codes = sorted(r.status_code for r in responses)
    assert codes.count(303) == 1 and codes.count(409) == 49, codes
    refused = next(r for r in responses if r.status_code == 409)
    assert "库存不足" in refused.text
    assert await services.on_hand(part, "CENTRAL") == 0
    assert (await services.reconcile(part))["mismatches"] == []


async def test_bad_input_shows_message_next_to_field_and_writes_nothing(login_as):
    """Bad input: zero quantity, same location, missing ticket → 400 with the message next to the field."""
    part = await make_part()
    await stock(part, "CENTRAL", 3)
    client = await login_as("warehouse")
    central = await services.location_id("CENTRAL")
    before = await moves_of(part)
    for data, field_id in [
        ({"kind": "transfer", "qty": "0", "from_location": str(central), "to_location": str(central)}, "f-qty"),
        ({"kind": "transfer", "qty": "1", "from_location": str(central), "to_location": str(central)}, "f-to"),
        ({"kind": "issue", "qty": "1", "from_location": str(central), "document_id": ""}, "f-docid"),
        ({"kind": "quarantine", "qty": "1", "from_location": str(central), "reason": ""}, "f-reason"),
    ]:
        response = await client.post_form(f"/parts/{part}/move", {**data, "token": services.new_token()})
        assert response.status_code == 400, (data, response.status_code)
        assert re.search(rf'id="{field_id}"[^>]*>\s*<div class="invalid-feedback">|class="form-\w+ is-invalid" id="{field_id}"',
                         response.text), field_id
    assert await moves_of(part) == before


async def test_unknown_part_is_404(login_as):
    client = await login_as("warehouse")
    assert (await client.get("/parts/99999999")).status_code == 404
    response = await client.post_form("/parts/99999999/move", {"kind": "issue", "qty": "1", "token": services.new_token()})
    assert response.status_code in (400, 404)


async def test_other_roles_cannot_move_stock(login_as):
    """Roles: desk can look up parts but gets 403 on a movement, and nothing is written."""
    part = await make_part()
    await stock(part, "CENTRAL", 3)
    client = await login_as("desk")
    assert (await client.get(f"/parts/{part}")).status_code == 200
    central = await services.location_id("CENTRAL")
    before = await moves_of(part)
    response = await client.post_form(f"/parts/{part}/move", {"kind": "issue", "qty": "1", "from_location": str(central),
                                                              "document_id": "1", "token": services.new_token()})
    assert response.status_code == 403 and await moves_of(part) == before
    assert (await client.get("/parts/reorder")).status_code == 403
    finance = await login_as("finance")
    assert (await finance.get("/parts")).status_code == 403


async def test_create_and_edit_part(login_as):
    """Catalogue (R-INV-01): create with validation messages, edit with the version check."""
    client = await login_as("warehouse")
    bad = await client.post_form("/parts/new", {"part_no": "", "name": "", "cost": "abc"})
    assert bad.status_code == 400 and "is-invalid" in bad.text
    no = unique("PN-")
    ok = await client.post_form("/parts/new", {"part_no": no, "name": "电源适配器 12V2A", "category": "part", "unit": "个",
                                               "cost": "35.50", "supplier": "海康威视"})
    assert ok.status_code == 303
    part = await services.part_by_no(no)
    assert part["cost_fen"] == 3550
    edit = await client.get(f"/parts/{part['id']}/edit")
    assert edit.status_code == 200 and no in edit.text
    saved = await client.post_form(f"/parts/{part['id']}/edit", {"part_no": no, "name": "电源适配器 12V5A", "category": "part",
                                                                 "unit": "个", "cost": "40", "version": str(part["version"])})
    assert saved.status_code == 303
    stale = await client.post_form(f"/parts/{part['id']}/edit", {"part_no": no, "name": "x", "category": "part",
                                                                 "unit": "个", "cost": "40", "version": str(part["version"])})
    assert stale.status_code == 409
    # a form without its version is refused (400), never saved without the check (issue #10)
    unversioned = await client.post_form(f"/parts/{part['id']}/edit", {"part_no": no, "name": "y", "category": "part",
                                                                       "unit": "个", "cost": "40"})
    assert unversioned.status_code == 400 and (await services.get_part(part["id"]))["name"] == "电源适配器 12V5A"
    desk = await login_as("desk")
    assert (await desk.post_form("/parts/new", {"part_no": unique("PN-"), "name": "x"})).status_code == 403


async def test_unit_move_page_and_race(login_as):
    """A unit moved by two keepers at once over HTTP: one 303, one 409; the unit page shows its history."""
    part = await make_part(serialised=True)
    unit = await stock_unit(part, "CENTRAL")
    a, b = await login_as("warehouse"), await login_as("warehouse")
    bench, loaner = await services.location_id("BENCH"), await services.location_id("LOANER")
    responses = await asyncio.gather(
        a.post_form(f"/parts/units/{unit}/move", {"kind": "transfer", "to_location": str(bench), "token": services.new_token()}),
        b.post_form(f"/parts/units/{unit}/move", {"kind": "transfer", "to_location": str(loaner), "token": services.new_token()}))
    assert sorted(r.status_code for r in responses) == [303, 409]
    page = await a.get(f"/parts/units/{unit}")
    assert page.status_code == 200 and page.text.count("调拨") >= 1


async def test_locations_reorder_reconcile_pages(login_as):
    """Locations list and create, location page, reorder list, reconciliation page answer."""
    client = await login_as("warehouse", "manager")
    assert (await client.get("/parts/locations")).status_code == 200
    code = unique("OFF").upper()
    created = await client.post_form("/parts/locations", {"code": code, "name": "测试办事处库", "kind": "office"})
    assert created.status_code == 303
    loc_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert (await client.get(f"/parts/locations/{loc_id}")).status_code == 200
    assert (await client.get(f"/parts/locations/{loc_id}/sheet")).status_code == 200
    bad = await client.post_form("/parts/locations", {"code": "", "name": "", "kind": "technician", "keeper": ""})
    assert bad.status_code == 400
    part = await make_part()
    assert (await client.post_form(f"/parts/{part}/minimum", {"location": str(loc_id), "min_qty": "3"})).status_code == 303
    reorder = await client.get("/parts/reorder", params={"location": loc_id})
    assert reorder.status_code == 200 and (await services.get_part(part))["part_no"] in reorder.text
    pr = await client.post_form("/parts/purchases/from-reorder", {"location": str(loc_id), "token": services.new_token()})
    assert pr.status_code == 303 and pr.headers["location"].startswith("/parts/purchases/")
    recompute = await client.post_form("/parts/reorder/recompute", {})
    assert recompute.status_code == 303
    desk = await login_as("desk")
    assert (await desk.post_form("/parts/reorder/recompute", {})).status_code == 403
    rec = await client.get("/parts/reconcile")
    assert rec.status_code == 200 and 'id="reconcile-result"' in rec.text


async def test_purchase_request_flow_over_http(login_as):
    """R-INV-04: keeper requests, manager approves (keeper cannot), keeper receives into stock."""
    part = await make_part()
    no = (await services.get_part(part))["part_no"]
    keeper, manager = await login_as("warehouse"), await login_as("manager")
    form = await keeper.get("/parts/purchases/new")
    central = await services.location_id("CENTRAL")
    bad = await keeper.post_form("/parts/purchases/new", {"location": str(central), "line_part": ["NOPE-1"], "line_qty": ["1"],
                                                          "token": token_of(form.text)})
    assert bad.status_code == 400 and "is-invalid" in bad.text
    created = await keeper.post_form("/parts/purchases/new", {"location": str(central), "line_part": [no, ""],
                                                              "line_qty": ["4", ""], "token": services.new_token()})
    assert created.status_code == 303
    pr_id = int(created.headers["location"].rsplit("/", 1)[1])
    assert (await keeper.post_form(f"/parts/purchases/{pr_id}/approve", {})).status_code == 403
    assert (await manager.post_form(f"/parts/purchases/{pr_id}/approve", {"decision": "approve"})).status_code == 303
    line = (await purchasing.get_request(pr_id))["lines"][0]
    page = await keeper.get(f"/parts/purchases/{pr_id}")
    assert page.status_code == 200 and f'name="qty{line["id"]}"' in page.text
    got = await keeper.post_form(f"/parts/purchases/{pr_id}/receive", {f"qty{line['id']}": "4", "token": token_of(page.text)})
    assert got.status_code == 303
    assert await services.on_hand(part, "CENTRAL") == 4
    assert (await keeper.get("/parts/purchases")).status_code == 200


async def test_emergency_flow_over_http(login_as):
    """R-INV-05: desk requests, only the GM approves, the keeper issues with the engineer named; GM home shows it."""
    part = await make_part()
    no = (await services.get_part(part))["part_no"]
    await stock(part, "EMERGENCY", 2)
    desk, gm, keeper, manager = await login_as("desk"), await login_as("gm"), await login_as("warehouse"), await login_as("manager")
    form = await desk.get("/emergency/new")
    assert form.status_code == 200
    bad = await desk.post_form("/emergency/new", {"customer_name": "", "reason": "", "line_part": [no], "line_qty": ["0"],
                                                  "token": token_of(form.text)})
    assert bad.status_code == 400
    created = await desk.post_form("/emergency/new", {"customer_name": "市第一医院", "reason": "NVR 故障，监控全断",
                                                      "line_part": [no], "line_qty": ["1"], "token": services.new_token()})
    assert created.status_code == 303
    req_id = int(created.headers["location"].rsplit("/", 1)[1])
    home = await gm.get("/")
    assert home.status_code == 200 and "市第一医院" in home.text
    assert (await manager.post_form(f"/emergency/{req_id}/decide", {"decision": "approve"})).status_code == 403
    eng = unique("eng")
    await make_user("field", username=eng)
    early = await keeper.post_form(f"/emergency/{req_id}/issue", {"engineer": eng, "token": services.new_token()})
    assert early.status_code == 409 and await services.on_hand(part, "EMERGENCY") == 2
    assert (await gm.post_form(f"/emergency/{req_id}/decide", {"decision": "approve"})).status_code == 303
    no_eng = await keeper.post_form(f"/emergency/{req_id}/issue", {"engineer": "", "token": services.new_token()})
    assert no_eng.status_code == 400
    done = await keeper.post_form(f"/emergency/{req_id}/issue", {"engineer": eng, "token": services.new_token()})
    assert done.status_code == 303
    assert (await emergency.get_request(req_id))["status"] == "issued"
    assert await services.on_hand(part, "EMERGENCY") == 1
    slip = await keeper.get(f"/emergency/{req_id}/print")
    assert slip.status_code == 200 and "市第一医院" in slip.text
    assert (await keeper.get("/emergency")).status_code == 200
    assert (await keeper.get("/")).status_code == 200


async def test_stocktake_flow_over_http(login_as):
    """R-INV-06: start a count, print the sheet, enter counts, submit, manager approves; differences posted."""
    user_id = await make_user("field")
    loc = await services.technician_location(user_id)
    part = await make_part()
    await stock(part, loc, 6)
    keeper, manager = await login_as("warehouse"), await login_as("manager")
    started = await keeper.post_form("/parts/stocktakes/", {"location": str(loc), "token": services.new_token()})
    assert started.status_code == 303
    st_id = int(started.headers["location"].rsplit("/", 1)[1])
    sheet = await keeper.get(f"/parts/stocktakes/{st_id}/sheet")
    assert sheet.status_code == 200 and (await services.get_part(part))["part_no"] in sheet.text
    page = await keeper.get(f"/parts/stocktakes/{st_id}")
    line_id = re.search(r'name="count(\d+)"', page.text).group(1)
    bad = await keeper.post_form(f"/parts/stocktakes/{st_id}/counts", {f"count{line_id}": "-1"})
    assert bad.status_code == 400
    ok = await keeper.post_form(f"/parts/stocktakes/{st_id}/counts", {f"count{line_id}": "5", "submit": "1"})
    assert ok.status_code == 303
    assert (await keeper.post_form(f"/parts/stocktakes/{st_id}/decide", {"decision": "approve"})).status_code == 403
    assert (await manager.post_form(f"/parts/stocktakes/{st_id}/decide", {"decision": "approve"})).status_code == 303
    assert await services.on_hand(part, loc) == 5
    assert (await keeper.get("/parts/stocktakes")).status_code == 200


async def test_issue_note_and_warehouse_home_panel(login_as):
    """Printable issue note for a movement; the keeper's home panel shows the counters."""
    part = await make_part()
    await stock(part, "CENTRAL", 2)
    move = await services.issue_to(services_actor(), part, 1, "CENTRAL", "ticket", "FW-77")
    client = await login_as("warehouse")
    note = await client.get(f"/parts/moves/{move.id}/note")
    assert note.status_code == 200 and "FW-77" in note.text
    home = await client.get("/")
    assert 'id="panel-parts-warehouse"' in home.text


def services_actor():
    from seed.parts import KEEPER

    return KEEPER


async def test_receive_on_part_page_against_approved_purchase_request(login_as):
    """R-INV-04: the part page's Receive books against an approved purchase request; unknown/unapproved refused."""
    from seed.parts import KEEPER

    part = await make_part(serialised=True)
    no = (await services.get_part(part))["part_no"]
    pr = await purchasing.create_request(KEEPER, location="CENTRAL", lines=[(no, "2")])
    number = (await purchasing.get_request(pr))["number"]
    client = await login_as("warehouse")
    bad = await client.post_form(f"/parts/{part}/move", {"kind": "receive", "qty": "2", "pr_number": "CG-NOPE",
                                                         "serial": "A B", "token": services.new_token()})
    assert bad.status_code == 400 and 'id="f-pr"' in bad.text
    early = await client.post_form(f"/parts/{part}/move", {"kind": "receive", "qty": "2", "pr_number": number,
                                                           "serial": "A B", "token": services.new_token()})
    assert early.status_code == 409
    await purchasing.approve(Actor_manager(), pr)
    a, b = unique("SN"), unique("SN")
    ok = await client.post_form(f"/parts/{part}/move", {"kind": "receive", "qty": "2", "pr_number": number,
                                                        "serial": f"{a} {b}", "token": services.new_token()})
    assert ok.status_code == 303
    assert await services.on_hand(part, "CENTRAL") == 2
    assert (await purchasing.get_request(pr))["status"] == "received"
    assert {u["serial"] for u in await services.units_at("CENTRAL", part_id=part)} == {a, b}


async def test_loaner_pool_availability_by_model():
    """Loaners' helper: units per model in the loaner pool."""
    part = await make_part(serialised=True, model=unique("DS-7808N-"))
    await stock_unit(part, "LOANER")
    await stock_unit(part, "LOANER")
    model = (await services.get_part(part))["model"]
    rows = {r["model"]: r["available"] for r in await services.availability_by_model("LOANER")}
    assert rows[model] == 2


async def test_name_the_emergency_store_keeper(login_as):
    """R-INV-02: the emergency store has one named keeper, set on its location page."""
    keeper = unique("keeper")
    await make_user("warehouse", username=keeper, full_name="王保管")
    client = await login_as("manager")
    emergency_id = await services.location_id("EMERGENCY")
    response = await client.post_form(f"/parts/locations/{emergency_id}/keeper", {"keeper": keeper})
    assert response.status_code == 303
    page = await client.get(f"/parts/locations/{emergency_id}")
    assert "王保管" in page.text
    desk = await login_as("desk")
    assert (await desk.post_form(f"/parts/locations/{emergency_id}/keeper", {"keeper": keeper})).status_code == 403


def Actor_manager():
    from app.core.audit.services import Actor

    return Actor(user_id=None, username="mgr", roles=frozenset({"manager"}))


async def test_min_stock_percent_is_an_admin_setting(login_as):
    """parts.min_stock_percent (seeded by the parts migration) is listed on /admin/settings (issue #10)."""
    from app.core.settings import REGISTRY

    admin = await login_as("admin")
    page = await admin.get("/admin/settings")
    assert page.status_code == 200 and "parts.min_stock_percent" in REGISTRY and 'name="parts.min_stock_percent"' in page.text
    assert await services.min_stock_percent() == 3.0


async def test_r_inv_05_adjustment_form_on_the_emergency_store_is_refused_for_warehouse(login_as):
    """#11: the part page's adjustment out of the emergency store by the keeper → 403 with the message, nothing written."""
    part = await make_part()
    await stock(part, "EMERGENCY", 5)
    before = (await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE part_id = {}", part))[0]["n"]
    client = await login_as("warehouse")
    emergency_id = await services.location_id("EMERGENCY")
    r = await client.post_form(f"/parts/{part}/move", {"kind": "adjust", "qty": "-5", "from_location": str(emergency_id),
                                                       "reason": "盘亏", "token": services.new_token()})
    assert r.status_code == 403 and "总经理" in r.text
    assert await services.on_hand(part, "EMERGENCY") == 5
    assert (await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE part_id = {}", part))[0]["n"] == before


async def test_r_inv_05_emergency_stocktake_difference_page_asks_for_the_gm(login_as):
    """#11: the manager sees why the emergency count waits for the GM and no approve button (a forced POST is 403);
    the general manager approves it."""
    from app.core.audit.services import Actor
    from app.parts import stocktake

    mgr_actor = Actor(user_id=None, username="mgr", roles=frozenset({"manager"}))
    code = unique("EM").upper()[:30]
    loc = await services.create_location(mgr_actor, code=code, name=code, kind="emergency")
    part = await make_part()
    await stock(part, loc, 3)
    st = await stocktake.start(mgr_actor, loc)
    line = (await stocktake.get(st))["lines"][0]
    await stocktake.enter_counts(mgr_actor, st, {line["id"]: "1"})
    await stocktake.submit(mgr_actor, st)
    manager = await login_as("manager")
    page = await manager.get(f"/parts/stocktakes/{st}")
    assert "需总经理审批" in page.text and 'value="approve"' not in page.text
    assert (await manager.post_form(f"/parts/stocktakes/{st}/decide", {"decision": "approve"})).status_code == 403
    assert await services.on_hand(part, loc) == 3
    gm = await login_as("gm")
    assert f'href="/parts/stocktakes/{st}"' in (await gm.get("/")).text  # waiting on the GM's home panel
    assert 'value="approve"' in (await gm.get(f"/parts/stocktakes/{st}")).text
    assert (await gm.post_form(f"/parts/stocktakes/{st}/decide", {"decision": "approve"})).status_code == 303
    assert await services.on_hand(part, loc) == 1


async def test_count_adjustment_of_three_billion_is_a_400_and_writes_nothing(login_as):
    """#11.5: the movement form with qty 3,000,000,000 → 400 with the limit in the message, no ledger row."""
    part = await make_part()
    before = (await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE part_id = {}", part))[0]["n"]
    client = await login_as("warehouse")
    central = await services.location_id("CENTRAL")
    r = await client.post_form(f"/parts/{part}/move", {"kind": "adjust", "qty": "3000000000", "to_location": str(central),
                                                       "reason": "盘盈", "token": services.new_token()})
    assert r.status_code == 400 and "100,000" in r.text
    assert (await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE part_id = {}", part))[0]["n"] == before
    assert await services.on_hand(part, "CENTRAL") == 0


async def test_scan_page_counts_by_scanning_blind_then_posts_unit_differences(login_as):
    """#12.1 over HTTP: a blind count hides the book quantities; scans count (the result is announced); 'done' counts
    the rest as 0; the manager sees the missing and extra serials and approves them; the desk may not scan."""
    from app.parts import stocktake

    user_id = await make_user("field")
    loc = await services.technician_location(user_id)
    bulk, cam = await make_part(), await make_part(serialised=True)
    await stock(bulk, loc, 7)
    missing = await services.get_unit(await stock_unit(cam, loc))
    extra = await services.get_unit(await stock_unit(cam, "CENTRAL"))
    keeper = await login_as("warehouse")
    r = await keeper.post_form("/parts/stocktakes/", {"location": str(loc), "blind": "1", "token": services.new_token()})
    assert r.status_code == 303
    st_id = int(r.headers["location"].rstrip("/").split("/")[-1])
    page = await keeper.get(f"/parts/stocktakes/{st_id}")
    assert page.status_code == 200 and ">7<" not in page.text and "盲盘" in page.text
    bulk_no = (await services.get_part(bulk))["part_no"]
    scanned = await keeper.post_form(f"/parts/stocktakes/{st_id}/scan", {"code": bulk_no})
    assert scanned.status_code == 200 and 'aria-live="polite"' in scanned.text and "已清点 1" in scanned.text
    assert (await keeper.post_form(f"/parts/stocktakes/{st_id}/scan", {"code": extra["serial"]})).status_code == 200
    bad = await keeper.post_form(f"/parts/stocktakes/{st_id}/scan", {"code": "NO-SUCH-CODE"})
    assert bad.status_code == 400 and 'aria-invalid="true"' in bad.text
    desk = await login_as("desk")
    assert (await desk.post_form(f"/parts/stocktakes/{st_id}/scan", {"code": bulk_no})).status_code == 403
    assert (await keeper.post_form(f"/parts/stocktakes/{st_id}/finish", {"category": "nonsense"})).status_code == 400
    assert (await keeper.post_form(f"/parts/stocktakes/{st_id}/finish", {"category": ""})).status_code == 303
    assert (await keeper.post_form(f"/parts/stocktakes/{st_id}/counts", {"submit": "1"})).status_code == 303
    manager = await login_as("manager")
    review = await manager.get(f"/parts/stocktakes/{st_id}")
    assert missing["serial"] in review.text and extra["serial"] in review.text and "中心仓库" in review.text
    assert (await manager.post_form(f"/parts/stocktakes/{st_id}/decide", {"decision": "approve"})).status_code == 303
    assert (await stocktake.get(st_id))["status"] == "approved"
    assert await services.on_hand(bulk, loc) == 1 and await services.on_hand(cam, loc) == 1
    assert (await services.get_unit(missing["id"]))["status"] == "lost"


async def test_emergency_form_pickers_customer_engineer_and_part_with_stock(login_as):
    """#12.8: the request form finds the customer (picker → ?customer_id=), names engineers (never usernames) and offers
    the emergency store's parts with their stock; a picked customer that does not exist is refused and nothing written;
    a picked one is stored by id with the name on record."""
    from seed.customers import make_customer

    customer = await make_customer(unique("应急客户"))
    cname = (await fetch("SELECT name FROM customer WHERE id = {}", customer))[0]["name"]
    eng_user = unique("eng")
    await make_user("field", username=eng_user, full_name="王应急")
    part = await make_part()
    await stock(part, "EMERGENCY", 4)
    no = (await services.get_part(part))["part_no"]
    desk = await login_as("desk")
    form = await desk.get(f"/emergency/new?customer_id={customer}")
    assert form.status_code == 200 and cname in form.text and f'name="customer_id" value="{customer}"' in form.text
    assert ">王应急<" in form.text and f">{eng_user}<" not in form.text and f"({eng_user})" not in form.text  # names shown
    assert f'<option value="{no}">' in form.text and "应急库" in form.text
    assert 'hx-get="/customers/pick"' in (await desk.get("/emergency/new")).text
    assert (await desk.get("/emergency/new?customer_id=99999999999999999999")).status_code == 200
    before = (await fetch("SELECT COUNT(*) AS n FROM emergency_request"))[0]["n"]
    bad = await desk.post_form("/emergency/new", {"customer_id": "987654321", "customer_name": "x", "reason": "故障",
                                                  "line_part": [no], "line_qty": ["1"], "token": services.new_token()})
    assert bad.status_code == 400 and (await fetch("SELECT COUNT(*) AS n FROM emergency_request"))[0]["n"] == before
    ok = await desk.post_form("/emergency/new", {"customer_id": str(customer), "customer_name": "typed over", "reason": "故障",
                                                 "engineer": eng_user, "line_part": [no], "line_qty": ["1"],
                                                 "token": services.new_token()})
    assert ok.status_code == 303
    row = (await fetch("SELECT customer_id, customer_name, engineer_name FROM emergency_request ORDER BY id DESC LIMIT 1"))[0]
    assert (row["customer_id"], row["customer_name"], row["engineer_name"]) == (customer, cname, "王应急")


async def test_emergency_issue_step_lists_the_serials_in_the_emergency_store(login_as):
    """#12.8: the keeper ticks one of the units the emergency store holds (listed by serial) and issues it."""
    from app.core.audit.services import Actor

    cam = await make_part(serialised=True)
    serials = [unique("SN-EM") for _ in range(2)]
    for serial in serials:
        await stock_unit(cam, "EMERGENCY", serial=serial)
    no = (await services.get_part(cam))["part_no"]
    eng_user = unique("eng")
    await make_user("field", username=eng_user, full_name="李工")
    req = await emergency.create_request(Actor(user_id=None, username="d", roles=frozenset({"desk"})), emergency.RequestInput(
        customer_name="某银行", reason="录像机故障", lines=[(no, "1")]))
    await emergency.approve(Actor(user_id=None, username="g", roles=frozenset({"gm"})), req)
    keeper = await login_as("warehouse")
    page = await keeper.get(f"/emergency/{req}")
    assert all(f'value="{s}"' in page.text for s in serials) and 'type="checkbox"' in page.text
    line_id = (await emergency.get_request(req))["lines"][0]["id"]
    done = await keeper.post_form(f"/emergency/{req}/issue", {"engineer": eng_user, f"serials{line_id}": [serials[1]],
                                                             "token": services.new_token()})
    assert done.status_code == 303
    unit = (await services.find_units(serials[1]))[0]
    assert unit["location_code"] != "EMERGENCY" and (await services.find_units(serials[0]))[0]["location_code"] == "EMERGENCY"


async def test_opposite_transfers_over_http_never_answer_500(login_as):
    """#11.3 over HTTP (PostgreSQL answered 31/60 with 500): 40 transfer forms of one part, half CENTRAL→BENCH and half
    BENCH→CENTRAL, posted at once by two keepers → every one a 303; on-hand equals the ledger."""
    part = await make_part()
    await stock(part, "CENTRAL", 50)
    await stock(part, "BENCH", 50)
    central, bench = await services.location_id("CENTRAL"), await services.location_id("BENCH")
    keepers = [await login_as("warehouse"), await login_as("warehouse")]

    async def post(n: int):
        frm, to = (central, bench) if n % 2 else (bench, central)
        return await keepers[n % 2].post_form(f"/parts/{part}/move", {
            "kind": "transfer", "qty": "1", "from_location": str(frm), "to_location": str(to), "token": services.new_token()})

    codes = sorted(r.status_code for r in await asyncio.gather(*[post(n) for n in range(40)]))
    assert codes == [303] * 40
    assert await services.on_hand(part, "CENTRAL") == 50 and await services.on_hand(part, "BENCH") == 50
    assert (await services.reconcile(part))["mismatches"] == []

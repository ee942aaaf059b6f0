"""Issue #12 item 5: "Raise scrap" links, prefilled like the RMA page's (R-SCR-01) — from a loaner's failed check-in and
from a stocktake's missing unit — shown only to roles that may raise scrap; the prefilled form raises the record."""

from __future__ import annotations

import html
import re

from app.core.db import fetch
from app.loaners import services as loans
from app.parts import services as parts
from app.parts import stocktake
from seed.parts import KEEPER, make_part, stock_unit
from tests.customers.factories import make_customer
from tests.loaners.factories import checkout, keeper, make_loaner


def _link(page: str, marker: str) -> str:
    found = re.search(r'<a[^>]*' + marker + r'[^>]*href="([^"]+)"|<a[^>]*href="([^"]+)"[^>]*' + marker, page)
    assert found, marker
    return html.unescape(found.group(1) or found.group(2))


async def test_failed_loaner_checkin_offers_a_prefilled_scrap_link(login_as):
    _p, unit_id, serial = await make_loaner()
    loan_id = await checkout(await keeper(), serial, await make_customer())
    wh = await login_as("warehouse")
    v = str((await loans.get_loan(loan_id))["version"])
    r = await wh.post_form(f"/loaners/{loan_id}/checkin", {"condition_in": "外壳碎裂", "test_result": "fail",
                                                           "test_note": "进水不开机", "destination": "quarantine", "version": v})
    assert r.status_code == 303
    page = (await wh.get(f"/loaners/{loan_id}")).text
    url = _link(page, 'id="raise-scrap"')
    loan = await loans.get_loan(loan_id)
    assert "source_type=loaner" in url and f"serial={serial}" in url and "reason=customer_damage" in url
    form = (await wh.get(url)).text
    assert serial in form and loan["number"] in form
    desk = await login_as("desk")  # sees the loan, may not raise scrap: no link
    assert 'id="raise-scrap"' not in (await desk.get(f"/loaners/{loan_id}")).text
    # the prefilled form as sent raises the record for the quarantined unit
    fields = dict(re.findall(r'[?&]([a-z_]+)=([^&]*)', url))
    from urllib.parse import unquote
    data = {k: unquote(v) for k, v in fields.items()}
    r = await wh.post_form("/scrap/new", data)
    assert r.status_code == 303, r.text[:2000]
    rows = await fetch("SELECT source_type, serial FROM scrap_request WHERE serial = {}", serial)
    assert rows and rows[0]["source_type"] == "loaner"


async def test_stocktake_missing_unit_offers_scrap_and_approval_leaves_it_to_the_record(login_as):
    shelf = await parts.create_location(KEEPER, code=f"RS-{await make_part()}", name="报废测试库位", kind="office")
    part_id = await make_part(serialised=True, cost="80.00")
    part = await parts.get_part(part_id)
    await stock_unit(part_id, shelf, serial="RS-MISS-1")
    st_id = await stocktake.start(KEEPER, shelf)
    await stocktake.finish(KEEPER, st_id)  # nothing scanned: the unit is missing
    await stocktake.submit(KEEPER, st_id)
    st = await stocktake.get(st_id)
    assert [u["serial"] for u in st["missing_units"]] == ["RS-MISS-1"]
    wh = await login_as("warehouse")
    page = (await wh.get(f"/parts/stocktakes/{st_id}")).text
    url = _link(page, 'class="btn btn-sm ms-2 raise-scrap"')
    assert "source_type=stocktake" in url and "serial=RS-MISS-1" in url
    finance = await login_as("finance")
    r = await finance.get(f"/parts/stocktakes/{st_id}")
    assert r.status_code != 200 or "raise-scrap" not in r.text
    from urllib.parse import unquote
    data = {k: unquote(v) for k, v in re.findall(r'[?&]([a-z_]+)=([^&]*)', url)}
    r = await wh.post_form("/scrap/new", data)
    assert r.status_code == 303, r.text[:2000]
    assert (await parts.find_units("RS-MISS-1"))[0]["location_code"] == "QUARANTINE"
    await stocktake.approve(KEEPER, st_id)
    unit = (await parts.find_units("RS-MISS-1"))[0]
    assert unit["location_code"] == "QUARANTINE" and part["part_no"]  # not written off as lost

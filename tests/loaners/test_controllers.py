"""Loaner pages and actions over HTTP (issue #6): pages, refused roles, bad input, races."""

from __future__ import annotations

import asyncio
import datetime as dt
import re

import pytest

from app.core.db import fetch, write_transaction
from app.loaners import services as loans
from app.parts import services as parts
from seed.factories import unique
from tests.loaners.factories import checkout, future, keeper, make_customer, make_loaner


@pytest.fixture(autouse=True)
def _no_rma(monkeypatch):
    """Link RMAs by number only (the RMA domain has its own tests)."""
    monkeypatch.setattr(loans._base, "_rma_services", lambda: None)


def token_of(html: str) -> str:
    match = re.search(r'name="token" value="([^"]+)"', html)
    assert match, "check-out form has a one-time token"
    return match.group(1)


async def loans_of_unit(unit_id: int) -> int:
    return int((await fetch("SELECT COUNT(*) AS n FROM loan WHERE serial_unit_id = {}", unit_id))[0]["n"])


def form(serial: str, customer: int, **extra) -> dict:
    data = {"serial": serial, "customer_id": str(customer), "case_type": "ticket", "case_ref": unique("FW-"),
            "expected_return": future(5), "condition_out": "外观完好"}
    data.update(extra)
    return data


async def test_pool_page_availability_and_fragment(login_as):
    """/loaners shows availability by model and the pool; the availability fragment is embeddable."""
    model = unique("DS-7808N-P")
    part_id, _u, serial = await make_loaner(model=model)
    await make_loaner(part_id)
    client = await login_as("warehouse")
    page = await client.get("/loaners", params={"q": serial})
    assert page.status_code == 200 and serial in page.text and 'id="loaner-scan"' in page.text
    frag = await client.get("/loaners/availability", params={"model": model})
    assert frag.status_code == 200 and "<html" not in frag.text
    assert model in frag.text and 'data-available="2"' in frag.text
    desk = await login_as("desk")
    assert (await desk.get("/loaners/availability", params={"model": model})).status_code == 200
    rows = await client.get("/loaners", params={"q": serial}, headers={"HX-Request": "true"})
    assert rows.status_code == 200 and "<html" not in rows.text and serial in rows.text


async def test_finance_and_admin_cannot_see_loaners(login_as):
    """Roles outside after-sales operations are refused (deny by default)."""
    for role in ("finance", "admin"):
        client = await login_as(role)
        assert (await client.get("/loaners")).status_code == 403


async def test_scan_opens_checkout_for_pool_unit_and_checkin_for_unit_out(login_as):
    """The scan box: a pool unit → the prefilled check-out form; a unit out → the check-in form."""
    _p, _u, serial = await make_loaner()
    client = await login_as("warehouse")
    go = await client.get("/loaners/go", params={"q": serial})
    assert go.status_code == 303 and go.headers["location"] == f"/loaners/checkout?serial={serial}"
    await checkout(await keeper(), serial, await make_customer())
    go = await client.get("/loaners/go", params={"q": serial})
    assert go.headers["location"] == f"/loaners/checkin?serial={serial}"
    go = await client.get("/loaners/go", params={"q": "nothing-" + unique("z")})
    assert go.headers["location"].startswith("/loaners?q=")


async def test_checkout_form_prefilled_then_booked(login_as):
    """GET the form (unit shown, default return date, token) → POST → the loan page and the printable notice."""
    _p, unit_id, serial = await make_loaner()
    customer = await make_customer()
    client = await login_as("warehouse")
    page = await client.get("/loaners/checkout", params={"serial": serial})
    assert page.status_code == 200 and 'id="unit-summary"' in page.text
    assert (await loans.default_return_date()).isoformat() in page.text
    response = await client.post_form("/loaners/checkout", form(serial, customer, token=token_of(page.text)))
    assert response.status_code == 303, response.text[:2000]
    loan_id = int(response.headers["location"].rsplit("/", 1)[1])
    loan = await loans.get_loan(loan_id)
    name = (await fetch("SELECT full_name FROM app_user WHERE username = {}", client.username))[0]["full_name"]
    assert loan["serial"] == serial and loan["out_by_name"] == name != client.username  # the person's name
    detail = await client.get(f"/loaners/{loan_id}")
    assert detail.status_code == 200 and loan["number"] in detail.text and 'id="checkin-form"' in detail.text
    notice = await client.get(f"/loaners/{loan_id}/notice")
    assert notice.status_code == 200 and loan["number"] in notice.text and 'class="sig"' in notice.text
    assert "故障处理备品替换通知" in notice.text or "Fault handling spare-replacement notice" in notice.text
    assert (await parts.get_unit(unit_id))["location_code"] == "CUSTOMER"


async def test_checkout_refused_for_desk_and_field(login_as):
    """Only the keeper checks out: desk and field get 403 on the form and the POST; nothing written."""
    _p, unit_id, serial = await make_loaner()
    customer = await make_customer()
    for role in ("desk", "field"):
        client = await login_as(role)
        assert (await client.get("/loaners/checkout", params={"serial": serial})).status_code == 403
        assert (await client.post_form("/loaners/checkout", form(serial, customer))).status_code == 403
        assert (await client.post_form("/loaners/checkin", {"serial": serial})).status_code == 403
    assert await loans_of_unit(unit_id) == 0


async def test_checkout_bad_input_messages_next_to_fields(login_as):
    """Unit not in the pool, a past return date, no customer → 400, messages by the fields, nothing written."""
    _p, central_unit, central_serial = await make_loaner(location="CENTRAL")
    _p, unit_id, serial = await make_loaner()
    customer = await make_customer()
    client = await login_as("warehouse")
    r = await client.post_form("/loaners/checkout", form(central_serial, customer))
    assert r.status_code == 400 and 'id="e-serial"' in r.text and central_serial in r.text
    past = (loans.today() - dt.timedelta(days=1)).isoformat()
    r = await client.post_form("/loaners/checkout", form(serial, customer, expected_return=past))
    assert r.status_code == 400 and 'id="e-expected_return"' in r.text
    r = await client.post_form("/loaners/checkout", form(serial, customer, customer_id=""))
    assert r.status_code == 400 and 'id="e-customer_id"' in r.text
    assert await loans_of_unit(unit_id) == 0 and await loans_of_unit(central_unit) == 0


async def test_double_submit_books_once_over_http(login_as):
    """The same form posted twice → one loan; the second post lands on it."""
    _p, unit_id, serial = await make_loaner()
    customer = await make_customer()
    client = await login_as("warehouse")
    token = token_of((await client.get("/loaners/checkout", params={"serial": serial})).text)
    data = form(serial, customer, token=token)
    first, second = await client.post_form("/loaners/checkout", data), await client.post_form("/loaners/checkout", data)
    assert first.status_code == 303 and second.status_code == 303
    assert first.headers["location"] == second.headers["location"]
    assert await loans_of_unit(unit_id) == 1


async def test_two_keepers_race_over_http_loser_told_who_has_it(login_as):
    """Two keepers post the same unit at once: one 303, one 409 naming the notice and the keeper who has it."""
    _p, unit_id, serial = await make_loaner()
    c1, c2 = await make_customer(), await make_customer()
    k1, k2 = await login_as("warehouse"), await login_as("warehouse")
    t1 = token_of((await k1.get("/loaners/checkout")).text)
    t2 = token_of((await k2.get("/loaners/checkout")).text)
    results = await asyncio.gather(k1.post_form("/loaners/checkout", form(serial, c1, token=t1)),
                                   k2.post_form("/loaners/checkout", form(serial, c2, token=t2)))
    codes = sorted(r.status_code for r in results)
    assert codes[0] == 303 and codes[1] in (400, 409), codes
    loser = next(r for r in results if r.status_code != 303)
    loan = (await fetch("SELECT number, out_by_name FROM loan WHERE serial_unit_id = {}", unit_id))[0]
    assert loan["number"] in loser.text and loan["out_by_name"] in loser.text
    assert await loans_of_unit(unit_id) == 1


async def test_checkin_page_and_post(login_as):
    """Check-in by scan: the loan is shown, the test recorded, the unit back in the pool."""
    _p, unit_id, serial = await make_loaner()
    loan_id = await checkout(await keeper(), serial, await make_customer())
    client = await login_as("warehouse")
    page = await client.get("/loaners/checkin", params={"serial": serial})
    assert page.status_code == 200 and 'id="loan-summary"' in page.text
    r = await client.post_form("/loaners/checkin", {"serial": serial, "condition_in": "完好", "test_result": "pass",
                                                    "recall_ref": "PG-2026-000101"})
    assert r.status_code == 303 and r.headers["location"] == f"/loaners/{loan_id}"
    assert (await parts.get_unit(unit_id))["location_code"] == "LOANER"
    assert (await loans.get_loan(loan_id))["recall_ref"] == "PG-2026-000101"


async def test_checkin_of_unit_not_out_is_refused(login_as):
    """Check-in of a unit that is not out → 400 with the message at the serial; nothing written."""
    _p, unit_id, serial = await make_loaner()
    client = await login_as("warehouse")
    r = await client.post_form("/loaners/checkin", {"serial": serial, "condition_in": "ok", "test_result": "pass"})
    assert r.status_code == 400 and serial in r.text and "is-invalid" in r.text
    moves = await fetch("SELECT kind FROM stock_move WHERE serial_unit_id = {}", unit_id)
    assert [m["kind"] for m in moves] == ["receive"]


async def test_detail_checkin_failed_test_to_quarantine_and_missing_destination(login_as):
    """On the loan page: a failed test without destination → 400; with quarantine → unit quarantined."""
    _p, unit_id, serial = await make_loaner()
    loan_id = await checkout(await keeper(), serial, await make_customer())
    client = await login_as("warehouse")
    v = str((await loans.get_loan(loan_id))["version"])
    r = await client.post_form(f"/loaners/{loan_id}/checkin", {"condition_in": "外壳裂", "test_result": "fail",
                                                               "test_note": "不开机", "version": v})
    assert r.status_code == 400 and (await loans.get_loan(loan_id))["status"] == "out"
    # the loan page's form always carries its version: missing → 400, never "no check"
    r = await client.post_form(f"/loaners/{loan_id}/checkin", {"condition_in": "外壳裂", "test_result": "fail",
                                                               "test_note": "不开机", "destination": "quarantine"})
    assert r.status_code == 400 and (await loans.get_loan(loan_id))["status"] == "out"
    r = await client.post_form(f"/loaners/{loan_id}/checkin", {"condition_in": "外壳裂", "test_result": "fail",
                                                               "test_note": "不开机", "destination": "quarantine",
                                                               "version": v})
    assert r.status_code == 303
    assert (await parts.get_unit(unit_id))["location_code"] == "QUARANTINE"


async def test_recall_case_finished_and_convert_actions(login_as):
    """Recall by dispatch slip (desk may), case finished (desk may), permanent replacement (keeper only)."""
    _p, unit_id, serial = await make_loaner()
    customer = await make_customer()
    loan_id = await checkout(await keeper(), serial, customer)
    desk = await login_as("desk")

    async def version() -> str:
        return str((await loans.get_loan(loan_id))["version"])

    r = await desk.post_form(f"/loaners/{loan_id}/recall", {"recall_ref": "", "version": await version()})
    assert r.status_code == 400
    r = await desk.post_form(f"/loaners/{loan_id}/recall", {"recall_ref": "PG-9"})  # no version: refused
    assert r.status_code == 400 and (await loans.get_loan(loan_id))["recall_ref"] == ""
    r = await desk.post_form(f"/loaners/{loan_id}/recall", {"recall_ref": "PG-9", "version": str(int(await version()) + 5)})
    assert r.status_code == 409 and (await loans.get_loan(loan_id))["recall_ref"] == ""  # stale version
    r = await desk.post_form(f"/loaners/{loan_id}/recall", {"recall_ref": "PG-9", "version": await version()})
    assert r.status_code == 303 and (await loans.get_loan(loan_id))["recall_ref"] == "PG-9"
    r = await desk.post_form(f"/loaners/{loan_id}/case-finished", {"version": await version()})
    assert r.status_code == 303 and (await loans.get_loan(loan_id))["case_finished_at"] is not None
    assert (await desk.post_form(f"/loaners/{loan_id}/convert", {"approval_ref": "BF-1", "version": await version()})
            ).status_code == 403
    client = await login_as("warehouse")
    r = await client.post_form(f"/loaners/{loan_id}/convert", {"approval_ref": "", "version": await version()})
    assert r.status_code == 400 and (await loans.get_loan(loan_id))["status"] == "out"
    r = await client.post_form(f"/loaners/{loan_id}/convert", {"approval_ref": "BF-2026-000001", "conversion_note": "原机报废",
                                                               "version": await version()})
    assert r.status_code == 303 and (await loans.get_loan(loan_id))["status"] == "converted"
    notice = await client.get(f"/loaners/{loan_id}/notice")
    assert "BF-2026-000001" in notice.text and 'class="permanent"' in notice.text


async def test_desk_requests_keeper_fulfils_from_home(login_as):
    """The desk requests a loaner; it shows on the keeper's home panel; Fulfil prefills the check-out."""
    customer = await make_customer()
    desk = await login_as("desk")
    assert (await desk.get("/loaners/requests/new")).status_code == 200
    r = await desk.post_form("/loaners/requests", {"customer_id": str(customer), "case_type": "ticket",
                                                   "case_ref": "FW-REQ-1", "trigger_rule": "long_maintenance"})
    assert r.status_code == 303
    req = (await fetch("SELECT id FROM loan_request WHERE customer_id = {}", customer))[0]["id"]
    bad = await desk.post_form("/loaners/requests", {"customer_id": "", "case_type": "standalone", "reason": ""})
    assert bad.status_code == 400
    keeper_client = await login_as("warehouse")
    page = await keeper_client.get(f"/loaners/checkout?request_id={req}")
    assert page.status_code == 200 and "FW-REQ-1" in page.text and f'name="customer_id" value="{customer}"' in page.text
    fin = await login_as("finance")
    assert (await fin.post_form("/loaners/requests", {"customer_id": str(customer)})).status_code == 403


async def test_home_panels_for_warehouse_and_desk(login_as):
    """Keeper: the scan box and the overdue count; desk: overdue and finished-case-still-out."""
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(await keeper(), serial, await make_customer())
    async with write_transaction():
        await fetch("UPDATE loan SET expected_return = {} WHERE id = {}", loans.today() - dt.timedelta(days=2), loan_id)
    home = await (await login_as("warehouse")).get("/")
    assert home.status_code == 200 and 'id="panel-loaners-warehouse"' in home.text and 'id="loaner-scan"' in home.text
    desk_home = await (await login_as("desk")).get("/")
    assert 'id="home-desk-overdue"' in desk_home.text and 'id="home-desk-finished"' in desk_home.text
    overdue = await (await login_as("desk")).get("/loaners/overdue")
    assert overdue.status_code == 200 and serial in overdue.text


async def test_customer_page_shows_loan_history(login_as):
    """The customer page has a Loaners section with this customer's loans."""
    _p, _u, serial = await make_loaner()
    customer = await make_customer()
    await checkout(await keeper(), serial, customer)
    page = await (await login_as("desk")).get(f"/customers/{customer}")
    assert page.status_code == 200 and 'id="section-loaners"' in page.text and serial in page.text


async def test_offer_fragment_names_the_rule_and_lists_and_pick(login_as):
    """The offer fragment shows which R-LOAN-02 rule fired; lists and the picker render."""
    client = await login_as("warehouse")
    arrived = (loans.utcnow() - dt.timedelta(hours=3)).isoformat()
    r = await client.get("/loaners/offer", params={"case_type": "ticket", "case_ref": "FW-OFFER", "arrived_at": arrived})
    assert r.status_code == 200 and 'data-rule="not_fixed_on_site"' in r.text and "/loaners/checkout?" in r.text
    r = await client.get("/loaners/offer", params={"case_type": "ticket", "case_ref": "FW-OFFER2"})
    assert r.status_code == 200 and "data-rule" not in r.text
    desk = await login_as("desk")
    r = await desk.get("/loaners/offer", params={"case_type": "ticket", "case_ref": "FW-OFFER", "arrived_at": arrived})
    assert "/loaners/requests/new?" in r.text
    name = unique("拣选客户")
    customer = await make_customer(name)
    r = await client.get("/loaners/pick", params={"q": name})
    assert r.status_code == 200 and f'data-customer-id="{customer}"' in r.text
    for url in ("/loaners/out", "/loaners/out?status=", "/loaners/overdue", "/loaners/requests", "/loaners/checkin"):
        assert (await client.get(url)).status_code == 200, url


async def test_thresholds_are_on_the_admin_settings_page(login_as):
    """R-LOAN-02 thresholds are operator-editable on /admin/settings."""
    page = await (await login_as("admin")).get("/admin/settings")
    assert page.status_code == 200
    for key in ("loaners.fix_hours", "loaners.same_model_hours", "loaners.maintenance_hours", "loaners.default_days"):
        assert f'name="{key}"' in page.text


async def test_lists_render_through_the_shared_table_and_the_rma_card(login_as, monkeypatch):
    """The request list (with its cancel form), the loan lists and the RMA page's loaner card render; empty
    lists show the shared empty row; the card hides for a closed RMA."""
    from app.core.sections import render_sections, sections_for
    from app.loaners.manifest import MANIFEST

    customer = await make_customer()
    desk = await login_as("desk")
    r = await desk.post_form("/loaners/requests", {"customer_id": str(customer), "case_type": "standalone",
                                                   "reason": "客户设备维护"})
    assert r.status_code == 303
    page = await desk.get("/loaners/requests")
    assert page.status_code == 200 and 'id="request-table"' in page.text and "/cancel" in page.text
    assert 'name="_csrf' in page.text or "csrf" in page.text
    empty = await desk.get("/loaners/out", params={"q": unique("nothing-")})
    assert empty.status_code == 200 and 'class="empty-row"' in empty.text
    assert (await desk.get("/loaners/overdue")).status_code == 200
    assert (await desk.get("/loaners", params={"q": unique("nothing-")})).status_code == 200

    card = next(s for s in MANIFEST.sections["rma"] if s.key == "loaner-offer")
    assert card in sections_for("rma")
    rma_factories = pytest.importorskip("tests.rma.factories")
    import app.rma.api as rma_api

    monkeypatch.setattr(loans._base, "_rma_services", lambda: rma_api)  # this test needs the real RMA domain
    open_rma = await rma_factories.make_rma("called_back")
    closed_rma = await rma_factories.make_rma("closed")
    rows = await fetch("SELECT id, status FROM rma WHERE id IN ({}, {})", open_rma, closed_rma)
    assert sorted(row["status"] for row in rows) == ["called_back", "closed"]
    user = type("U", (), {"roles": frozenset({"desk"})})()
    for row in rows:
        shown = await render_sections([card], row["id"], user)
        assert bool(shown) == (row["status"] != "closed")
        if shown:
            assert shown[0][1] == {"case_type": "rma", "case_id": row["id"]}
    finance = type("U", (), {"roles": frozenset({"finance"})})()
    assert not any([await render_sections([card], row["id"], finance) for row in rows])

"""Scrap pages through the HTTP client (issue #14): each page and action, the role refused, bad input with a
clear message and nothing changed, the print view, the write-off list and its XLSX."""

from __future__ import annotations

import re

import pytest

from app.core.actor import SYSTEM
from app.core.db import fetch
from app.core.settings import set_setting
from app.scrap import services
from tests.scrap.factories import appraised, approved, convened, keeper, quarantined_qty, quarantined_unit, raise_unit, version


async def uid_of(client) -> int:
    return int((await fetch("SELECT id FROM app_user WHERE username = {}", client.username))[0]["id"])


@pytest.fixture(autouse=True)
async def quorum_2():
    await set_setting(SYSTEM, "scrap.quorum", 2)


# --------------------------------------------------------------------------- access


@pytest.mark.parametrize("role,expected", [("warehouse", 200), ("bench", 200), ("finance", 200), ("desk", 403),
                                           ("field", 403)])
async def test_list_page_access(login_as, role, expected):
    """/scrap: the scrap roles see it, the desk and field technicians are refused."""
    client = await login_as(role)
    response = await client.get("/scrap")
    assert response.status_code == expected


async def test_anonymous_is_sent_to_login(anon):
    response = await anon.get("/scrap")
    assert response.status_code == 303 and "/login" in response.headers["location"]


async def test_new_form_only_for_the_warehouse_and_prefills_from_the_bench(login_as):
    """GET /scrap/new: the bench is refused; the keeper gets the form prefilled from ?source_type=rma&…"""
    assert (await (await login_as("bench")).get("/scrap/new")).status_code == 403
    client = await login_as("warehouse")
    page = await client.get("/scrap/new?source_type=rma&source_ref=RMA-2026-000007&serial=SN-PRE-1")
    assert page.status_code == 200
    assert 'value="RMA-2026-000007"' in page.text and 'value="SN-PRE-1"' in page.text
    assert re.search(r'<option value="rma"\s+selected', page.text)


async def test_list_hides_the_raise_button_from_who_cannot_raise(login_as):
    """No link that would answer 403: the bench does not see "Raise scrap request"."""
    assert 'id="scrap-new"' not in (await (await login_as("bench")).get("/scrap")).text
    assert 'id="scrap-new"' in (await (await login_as("warehouse")).get("/scrap")).text


# --------------------------------------------------------------------------- raise


async def test_raise_through_the_form_redirects_to_the_record(login_as):
    """POST /scrap/new with a quarantined serial → 303 to the record, which shows its BF number in Chinese."""
    client = await login_as("warehouse")
    _p, _u, serial = await quarantined_unit("320.00")
    response = await client.post_form("/scrap/new", {"serial": serial, "reason": "quality_defect", "note": "花屏"})
    assert response.status_code == 303
    page = await client.get(response.headers["location"], headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and "BF-" in page.text and "¥320.00" in page.text
    assert "质量问题" in page.text and "quality_defect" not in page.text


async def test_raise_with_quantity_above_quarantine_shows_message_and_writes_nothing(login_as):
    """X-05: qty above quarantine → 400 with the message on the qty field; no record."""
    client = await login_as("warehouse")
    _part, part_no = await quarantined_qty(2)
    before = (await fetch("SELECT COUNT(*) AS n FROM scrap_request"))[0]["n"]
    response = await client.post_form("/scrap/new", {"part_no": part_no, "qty": "3", "reason": "obsolete"})
    assert response.status_code == 400 and 'id="e-qty"' in response.text
    assert (await fetch("SELECT COUNT(*) AS n FROM scrap_request"))[0]["n"] == before


@pytest.mark.parametrize("value", ["0", "-1", "12.345", "abc"])
async def test_raise_with_bad_value_is_a_field_message(login_as, value):
    """X-05: value 0, negative, three decimals or junk → 400 on the value field."""
    client = await login_as("warehouse")
    _p, _u, serial = await quarantined_unit()
    response = await client.post_form("/scrap/new", {"serial": serial, "reason": "obsolete", "value": value,
                                                     "value_reason": "估值"})
    assert response.status_code == 400 and 'id="e-value"' in response.text
    assert not await fetch("SELECT id FROM scrap_request WHERE serial = {}", serial)


async def test_raise_refused_for_bench(login_as):
    client = await login_as("bench")
    _p, _u, serial = await quarantined_unit()
    assert (await client.post_form("/scrap/new", {"serial": serial, "reason": "obsolete"})).status_code == 403


# --------------------------------------------------------------------------- the record's actions


async def test_convene_and_opinions_through_the_page(login_as):
    """The keeper convenes two appraisers; each records an opinion on the page; the record is appraised."""
    k = await login_as("warehouse")
    _p, _u, serial = await quarantined_unit()
    a1, a2 = await login_as("bench"), await login_as("qc")
    r = await k.post_form("/scrap/new", {"serial": serial, "reason": "repair_failed"})
    url = r.headers["location"]
    rid = int(url.rsplit("/", 1)[1])
    page = await k.get(url)
    assert 'id="convene-form"' in page.text
    one = await k.post_form(f"{url}/convene", {"version": str(await version(rid)), "appraisers": [str(await uid_of(a1))]})
    assert one.status_code == 400 and 'id="e-appraisers"' in one.text
    ok = await k.post_form(f"{url}/convene", {"version": str(await version(rid)),
                                              "appraisers": [str(await uid_of(a1)), str(await uid_of(a2))]})
    assert ok.status_code == 303
    assert 'id="opinion-form"' in (await a1.get(url)).text
    assert (await a1.post_form(f"{url}/opinion", {"opinion": "scrap", "note": "无法修复"})).status_code == 303
    again = await a1.post_form(f"{url}/opinion", {"opinion": "scrap"})
    assert again.status_code == 409
    assert (await a2.post_form(f"{url}/opinion", {"opinion": "scrap"})).status_code == 303
    assert (await services.get_request(rid))["status"] == "appraised"


async def test_opinion_refused_for_a_role_outside_the_group(login_as):
    """POST opinion by a manager (no scrap.appraise) → 403."""
    rid, _k, _g = await convened()
    client = await login_as("manager")
    assert (await client.post_form(f"/scrap/{rid}/opinion", {"opinion": "scrap"})).status_code == 403


async def test_manager_page_approve_and_stale_second_click(login_as):
    """The manager sees the decision form; approving twice with the same version → the second is a 409."""
    rid, _k, _g = await appraised()
    m = await login_as("manager")
    page = await m.get(f"/scrap/{rid}")
    assert 'id="manager-form"' in page.text and 'id="gm-form"' not in page.text
    v = str(await version(rid))
    assert (await m.post_form(f"/scrap/{rid}/manager", {"version": v, "decision": "approve"})).status_code == 303
    second = await m.post_form(f"/scrap/{rid}/manager", {"version": v, "decision": "approve"})
    assert second.status_code == 409


async def test_manager_refusal_without_note_is_a_field_message(login_as):
    """Refusing without a note or destination → 400 on the form, status unchanged."""
    rid, _k, _g = await appraised()
    m = await login_as("manager")
    response = await m.post_form(f"/scrap/{rid}/manager", {"version": str(await version(rid)), "decision": "reject"})
    assert response.status_code == 400 and 'id="decision-note-error"' in response.text
    assert (await services.get_request(rid))["status"] == "appraised"


async def test_gm_route_refused_for_manager_and_gm_form_only_above_threshold(login_as):
    """POST /gm by a manager → 403; the GM sees the form only for a record above the threshold."""
    low, _k = await approved(cost="100.00")
    high, _k2 = await approved(cost="7000.00")
    m = await login_as("manager")
    assert (await m.post_form(f"/scrap/{high}/gm", {"version": str(await version(high)), "decision": "approve"})).status_code == 403
    g = await login_as("gm")
    assert 'id="gm-form"' not in (await g.get(f"/scrap/{low}")).text
    assert 'id="gm-form"' in (await g.get(f"/scrap/{high}")).text
    assert (await g.post_form(f"/scrap/{high}/gm", {"version": str(await version(high)), "decision": "approve"})).status_code == 303


async def test_dispose_through_the_page(login_as):
    """The keeper records the disposal; bad date → 400 message; then done and shown."""
    rid, _k = await approved()
    k = await login_as("warehouse")
    page = await k.get(f"/scrap/{rid}")
    assert 'id="dispose-form"' in page.text
    bad = await k.post_form(f"/scrap/{rid}/dispose", {"version": str(await version(rid)), "method": "destroy",
                                                      "disposed_on": "2026-02-30"})
    assert bad.status_code == 400 and 'id="e-disposed_on"' in bad.text
    ok = await k.post_form(f"/scrap/{rid}/dispose", {"version": str(await version(rid)), "method": "destroy",
                                                     "disposed_on": "2026-01-05"})
    assert ok.status_code == 303
    assert 'id="scrap-disposal"' in (await k.get(f"/scrap/{rid}")).text


async def test_dispose_refused_for_finance(login_as):
    rid, _k = await approved()
    f = await login_as("finance")
    assert (await f.post_form(f"/scrap/{rid}/dispose", {"version": "1", "method": "destroy",
                                                        "disposed_on": "2026-01-05"})).status_code == 403


async def test_withdraw_through_the_page(login_as):
    k = await login_as("warehouse")
    keeper_actor = await keeper()
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(keeper_actor, serial)
    response = await k.post_form(f"/scrap/{rid}/withdraw", {"version": str(await version(rid)), "note": "误报",
                                                             "returned_to": "CENTRAL"})
    assert response.status_code == 303 and (await services.get_request(rid))["status"] == "rejected"


@pytest.mark.parametrize("path", ["/scrap/abc", "/scrap/0", "/scrap/99999999", "/scrap/99999999999999999999999"])
async def test_bad_ids_are_404(login_as, path):
    client = await login_as("warehouse")
    assert (await client.get(path)).status_code == 404


# --------------------------------------------------------------------------- print, finance, quality


async def test_print_view_has_signature_lines_in_chinese(login_as):
    """X-01: the A4 scrap record names the appraisers and has the approvers' signature lines."""
    rid, _k, group = await appraised()
    client = await login_as("warehouse")
    page = await client.get(f"/scrap/{rid}/print", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and "报废品处理记录" in page.text and "技术鉴定小组" in page.text
    assert "总经理" in page.text and 'class="signatures"' in page.text


async def test_writeoff_list_and_xlsx_for_finance_only(login_as):
    """R-SCR-03: finance sees the month's write-offs and downloads them; the bench is refused."""
    from app.core.dates import today
    from app.scrap.schemas import DisposeInput

    rid, k = await approved(cost="256.00")
    await services.dispose(k, rid, DisposeInput(version=await version(rid), method="sell_scrap", disposed_on=today()))
    f = await login_as("finance")
    page = await f.get("/scrap/reports/writeoffs")
    number = (await services.get_request(rid))["number"]
    assert page.status_code == 200 and number in page.text and 'id="writeoff-total"' in page.text
    xlsx = await f.get(f"/scrap/reports/writeoffs.xlsx?month={today():%Y-%m}")
    assert xlsx.status_code == 200 and xlsx.content[:2] == b"PK"
    assert (await (await login_as("bench")).get("/scrap/reports/writeoffs")).status_code == 403
    home = await f.get("/", headers={"accept-language": "zh-CN"})
    assert 'id="home-scrap-finance"' in home.text


async def test_writeoff_month_junk_falls_back_to_this_month(login_as):
    f = await login_as("finance")
    assert (await f.get("/scrap/reports/writeoffs?month=2026-13")).status_code == 200


async def test_quality_batch_gathers_the_months_quality_drafts(login_as):
    """R-SCR-02: the keeper gathers the month's quality-defect drafts into one batch (BFPC number)."""
    k_actor = await keeper()
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k_actor, serial, reason="quality_defect")
    k = await login_as("warehouse")
    from app.core.dates import today

    month = today().strftime("%Y-%m")
    page = await k.get(f"/scrap/reports/quality?month={month}")
    assert page.status_code == 200 and (await services.get_request(rid))["number"] in page.text
    response = await k.post_form("/scrap/reports/quality", {"month": month})
    assert response.status_code == 303
    row = await services.get_request(rid)
    assert row["batch_id"] is not None
    batch = (await fetch("SELECT * FROM scrap_batch WHERE id = {}", row["batch_id"]))[0]
    assert batch["number"].startswith("BFPC-") and batch["month"] == month
    empty = await k.post_form("/scrap/reports/quality", {"month": "2001-01"})
    assert empty.status_code == 400
    assert (await (await login_as("finance")).get("/scrap/reports/quality")).status_code == 403


PNG = b"\x89PNG\r\n\x1a\n" + b"\x00" * 64


async def test_photos_upload_view_and_refusals(login_as, tmp_path, monkeypatch):
    """Item 1: the keeper uploads a PNG (shown on the record, served with nosniff); a text file named .png is a
    field message; finance may not upload (403)."""
    monkeypatch.setenv("SHOUHOU_UPLOAD_DIR", str(tmp_path))
    k_actor = await keeper()
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k_actor, serial)
    k = await login_as("warehouse")
    ok = await k.post(f"/scrap/{rid}/photos", files={"photo": ("item.png", PNG, "image/png")},
                      headers={"x-csrftoken": await k.csrf()})
    assert ok.status_code == 303
    row = (await fetch("SELECT * FROM scrap_photo WHERE request_id = {}", rid))[0]
    shown = await k.get(f"/scrap/photos/{row['id']}")
    assert shown.status_code == 200 and shown.content == PNG and shown.headers["x-content-type-options"] == "nosniff"
    bad = await k.post(f"/scrap/{rid}/photos", files={"photo": ("evil.png", b"<script>", "image/png")},
                       headers={"x-csrftoken": await k.csrf()})
    assert bad.status_code == 400 and 'id="e-photo"' in bad.text
    f = await login_as("finance")
    refused = await f.post(f"/scrap/{rid}/photos", files={"photo": ("item.png", PNG, "image/png")},
                           headers={"x-csrftoken": await f.csrf()})
    assert refused.status_code == 403
    assert (await fetch("SELECT COUNT(*) AS n FROM scrap_photo WHERE request_id = {}", rid))[0]["n"] == 1


@pytest.mark.parametrize("role,panel", [("warehouse", "home-scrap-keeper"), ("manager", "home-scrap-approver"),
                                        ("gm", "home-scrap-approver"), ("finance", "home-scrap-finance")])
async def test_home_panels_by_role(login_as, role, panel):
    """Each role finds its scrap card on the home page, with labels, not status codes."""
    client = await login_as(role)
    page = await client.get("/", headers={"accept-language": "zh-CN"})
    assert page.status_code == 200 and f'id="{panel}"' in page.text
    visible = re.sub(r"<[^>]+>", " ", page.text.split('id="' + panel + '"', 1)[1][:3000])
    assert "manager_approved" not in visible and "appraising" not in visible


async def test_appraiser_panel_shows_only_when_something_waits(login_as):
    """The appraiser's card appears when a record waits for their opinion."""
    client = await login_as("qc")
    assert 'id="home-scrap-appraiser"' not in (await client.get("/")).text
    k = await keeper()
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k, serial)
    other = await login_as("bench")
    from app.scrap.schemas import ConveneInput

    await services.convene(k, rid, ConveneInput(version=await version(rid),
                                                appraisers=[await uid_of(client), await uid_of(other)]))
    assert 'id="home-scrap-appraiser"' in (await client.get("/")).text


async def test_list_search_by_serial_and_keyset_next_page(login_as):
    """The list finds a record by its serial; the keyset footer pages with ?before= (never a COUNT)."""
    k_actor = await keeper()
    _p, _u, serial = await quarantined_unit()
    rid = await raise_unit(k_actor, serial)
    client = await login_as("warehouse")
    page = await client.get(f"/scrap?status=all&q={serial}")
    assert f'href="/scrap/{rid}"' in page.text
    fragment = await client.get(f"/scrap?status=all&before={rid + 1}", headers={"hx-request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text and f'href="/scrap/{rid}"' in fragment.text


@pytest.mark.parametrize("status", ["draft", "appraising", "disposed", "rejected"])
async def test_each_status_tab_lists_only_that_status(login_as, status):
    """Every tab filters: a row of another state never shows (the draft tab once fell back to "open")."""
    k = await keeper()
    _p, _u, serial = await quarantined_unit()
    await raise_unit(k, serial)  # at least one draft
    client = await login_as("warehouse")
    page = await client.get(f"/scrap?status={status}", headers={"accept-language": "zh-CN"})
    active = re.search(r'class="nav-link active" href="/scrap\?status=' + status + r'"[^>]*>\s*([^<]+?)\s*</a>', page.text)
    assert page.status_code == 200 and active
    body = page.text.split('id="scrap-body"', 1)[1]
    badges = re.findall(r'<span class="badge status-\w+">([^<]+)</span>', body)
    assert all(b == active.group(1) for b in badges), (active.group(1), set(badges))
    if status == "draft":
        assert badges


async def test_r_scr_01_rma_page_offers_raise_scrap_to_the_keeper_only(login_as):
    """R-SCR-01: a finished RMA's page links the keeper to a prefilled scrap request; the bench sees no such link."""
    from tests.rma import factories as rma_factories

    rma_id = await rma_factories.make_rma("ready_to_ship")
    keeper = await login_as("warehouse")
    page = await keeper.get(f"/bench/{rma_id}")
    assert page.status_code == 200 and "/scrap/new?source_type=rma" in page.text
    bench = await login_as("bench")
    assert "/scrap/new?source_type=rma" not in (await bench.get(f"/bench/{rma_id}")).text

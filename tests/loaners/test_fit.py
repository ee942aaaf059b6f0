"""Issue #12.11 — loaner fit: the loaner against the customer's device (warn, never block); check-in warnings
(case still open, notice not recalled); the free-loaner notice gone once the repair has shipped; the RMA card's
link opens a full page."""

from __future__ import annotations

import datetime as dt

import pytest

from app.core.db import fetch, write_transaction
from app.loaners import services as loans
from app.loaners.services import fit_warnings, kind_of
from seed.factories import unique
from seed.parts import make_part
from tests.loaners.factories import checkout, future, keeper, make_customer, make_device, make_loaner

RECORDER = {"model": "DS-7808N-K2", "part_name": "硬盘录像机 DS-7808N-K2"}
DOME = {"model": "DS-2CD3346WDV3-I", "product_name": "网络半球摄像机", "kind": "camera", "system": "cctv", "serial": "X1"}


def test_kinds_are_read_from_catalogue_words():
    assert kind_of("硬盘录像机 DS-7808N-K2") == "cctv_host"
    assert kind_of("网络半球摄像机") == "camera"
    assert kind_of("程控交换机") == "pbx" and kind_of("千兆以太网交换机") == "switch"
    assert kind_of("测试配件", "M-1") == ""


def test_a_video_recorder_lent_for_a_dome_camera_is_warned():
    """The issue's case: another kind of device → one warning naming both, with the device's model."""
    warnings = fit_warnings(RECORDER, DOME)
    assert len(warnings) == 1 and DOME["model"] in warnings[0] and RECORDER["model"] in warnings[0]


def test_same_model_fits_and_another_model_of_the_same_kind_is_warned():
    assert fit_warnings({"model": "ds-2cd3346wdv3-i", "part_name": "网络摄像机"}, DOME) == []
    other = fit_warnings({"model": "DS-2CD2T47G2-L", "part_name": "网络枪型摄像机"}, DOME)
    assert len(other) == 1 and "DS-2CD2T47G2-L" in other[0]


def test_another_system_is_warned_even_when_the_device_kind_is_unknown():
    """A switch lent for a CCTV device whose register entry has no kind: the systems differ."""
    device = {"model": "", "product_name": "某设备", "kind": "", "system": "cctv"}
    assert len(fit_warnings({"model": "S1720-28GWR", "part_name": "交换机 S1720-28GWR"}, device)) == 1


def test_nothing_to_compare_means_no_warning():
    assert fit_warnings(RECORDER, None) == []
    assert fit_warnings({"model": "", "part_name": "测试配件"}, {"model": "", "product_name": "", "kind": "", "system": ""}) == []


@pytest.fixture
def _no_rma(monkeypatch):
    monkeypatch.setattr(loans._base, "_rma_services", lambda: None)


async def _recorder_loaner() -> str:
    part_id = await make_part(serialised=True, name="硬盘录像机 " + unique("NVR"), model=unique("DS-7808N-"), category="device")
    _p, _u, serial = await make_loaner(part_id)
    return serial


async def test_checkout_form_warns_about_the_wrong_kind_and_still_books(login_as, _no_rma):
    """GET the form with the customer's dome camera → the warning; POST books anyway (warn, not block)."""
    serial = await _recorder_loaner()
    customer = await make_customer()
    device_serial = unique("DOME").upper()
    await make_device(customer, serial=device_serial, kind="camera", model="DS-2CD3346WDV3-I")
    client = await login_as("warehouse")
    page = await client.get("/loaners/checkout", params={"serial": serial, "device_serial": device_serial})
    assert page.status_code == 200 and "loaner-fit-warning" in page.text and "DS-2CD3346WDV3-I" in page.text
    frag = await client.get("/loaners/checkout", params={"serial": serial, "device_serial": device_serial},
                            headers={"HX-Request": "true"})
    assert frag.status_code == 200 and "<html" not in frag.text and "loaner-fit-warning" in frag.text
    fits = await client.get("/loaners/checkout", params={"serial": serial, "device_serial": ""}, headers={"HX-Request": "true"})
    assert "loaner-fit-warning" not in fits.text
    token = page.text.split('name="token" value="')[1].split('"')[0]
    r = await client.post_form("/loaners/checkout", {
        "serial": serial, "customer_id": str(customer), "case_type": "ticket", "case_ref": unique("FW-"),
        "device_serial": device_serial, "expected_return": future(5), "condition_out": "外观完好", "token": token})
    assert r.status_code == 303 and r.headers["location"].startswith("/loaners/")
    detail = await client.get(r.headers["location"])
    assert 'id="loan-fit"' in detail.text


async def test_fit_fragment_refused_to_roles_that_do_not_lend(login_as, _no_rma):
    serial = await _recorder_loaner()
    for role in ("desk", "finance"):
        r = await (await login_as(role)).get("/loaners/checkout", params={"serial": serial})
        assert r.status_code == 403, role


async def test_fit_fragment_with_bad_input_answers_without_warning(login_as, _no_rma):
    """Unknown serials, a non-numeric case id: nothing to compare, no error."""
    client = await login_as("warehouse")
    r = await client.get("/loaners/checkout", params={"serial": "NOPE-" + unique("x"), "device_serial": "NOPE",
                                                "case_type": "rma", "case_id": "abc"}, headers={"HX-Request": "true"})
    assert r.status_code == 200 and "loaner-fit-warning" not in r.text


# --------------------------------------------------------------------------- with the real RMA domain

rma_factories = pytest.importorskip("tests.rma.factories")


async def _backdate(rma_id: int, hours: float) -> None:
    async with write_transaction():
        await fetch("UPDATE rma SET received_at = {} WHERE id = {}",
                    loans.utcnow() - dt.timedelta(hours=hours), rma_id)


async def test_checkin_warns_while_the_repair_is_open_and_the_notice_not_recalled(login_as):
    """Check-in page: the linked repair still open + notice not recalled → two warnings; recalled → one;
    the check-in itself goes through (warnings never block)."""
    rma_id = await rma_factories.make_rma("repairing")
    actor = await keeper()
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(actor, serial, "", case_type="rma", case_id=str(rma_id), case_ref="")
    number = (await loans.get_loan(loan_id))["case_ref"]
    client = await login_as("warehouse")
    page = await client.get("/loaners/checkin", params={"serial": serial})
    assert page.status_code == 200 and 'id="checkin-warnings"' in page.text
    warnings = await loans.checkin_warnings(await loans.get_loan(loan_id))
    assert len(warnings) == 2 and number in warnings[0]
    await loans.recall_notice(actor, loan_id, "PG-" + unique("1"))
    warnings = await loans.checkin_warnings(await loans.get_loan(loan_id))
    assert len(warnings) == 1 and number in warnings[0]
    detail = await client.get(f"/loaners/{loan_id}")
    assert 'id="checkin-warnings"' in detail.text
    r = await client.post_form("/loaners/checkin", {"serial": serial, "condition_in": "完好", "test_result": "pass"})
    assert r.status_code == 303 and (await loans.get_loan(loan_id))["status"] == "returned"


async def test_checkin_of_a_shipped_repair_with_the_notice_recalled_has_no_warning():
    rma_id = await rma_factories.make_rma("shipped")
    actor = await keeper()
    _p, _u, serial = await make_loaner()
    loan_id = await checkout(actor, serial, "", case_type="rma", case_id=str(rma_id), case_ref="")
    assert await loans.checkin_warnings(await loans.get_loan(loan_id), recall_ref="PG-1") == []


async def test_free_loaner_due_disappears_once_the_repair_has_shipped(login_as):
    """R-LOAN-02 maintenance > 12 h: shown for a repair on the bench, gone once the unit has shipped back."""
    on_bench = await rma_factories.make_rma("repairing")
    shipped = await rma_factories.make_rma("shipped")
    for rma_id in (on_bench, shipped):
        await _backdate(rma_id, 30)
    client = await login_as("warehouse")
    r = await client.get("/loaners/offer", params={"case_type": "rma", "case_id": str(on_bench)},
                         headers={"HX-Request": "true"})
    assert 'data-rule="long_maintenance"' in r.text
    r = await client.get("/loaners/offer", params={"case_type": "rma", "case_id": str(shipped)},
                         headers={"HX-Request": "true"})
    assert r.status_code == 200 and "data-rule" not in r.text
    assert await loans.triggers_for_case("rma", shipped) == []


async def test_the_rma_card_link_opens_a_full_page(login_as):
    """The RMA page's card links to /loaners/offer; without HTMX that is a full page (layout, heading, the case)."""
    rma_id = await rma_factories.make_rma("repairing")
    record = await loans.get_rma(rma_id)
    client = await login_as("warehouse")
    rma_page = await client.get(f"/bench/{rma_id}")
    assert rma_page.status_code == 200 and 'id="loaner-offer-page"' in rma_page.text
    page = await client.get("/loaners/offer", params={"case_type": "rma", "case_id": str(rma_id)})
    assert page.status_code == 200 and "<html" in page.text and "/static/css/app.css" in page.text
    assert 'id="offer-case"' in page.text and record["number"] in page.text and "/loaners/checkout?" in page.text
    frag = await client.get("/loaners/offer", params={"case_type": "rma", "case_id": str(rma_id)},
                            headers={"HX-Request": "true"})
    assert "<html" not in frag.text


async def test_checkout_from_an_rma_of_another_kind_warns(login_as):
    """The RMA's unit (read through the RMA and customers apis) is compared when no device serial is typed."""
    rma_id = await rma_factories.make_rma("repairing", model="DS-2CD3346WDV3-I")
    serial = await _recorder_loaner()
    client = await login_as("warehouse")
    page = await client.get("/loaners/checkout", params={"serial": serial, "case_type": "rma", "case_id": str(rma_id)})
    assert page.status_code == 200 and "loaner-fit-warning" in page.text

"""Issue #12 "Chinese all the way" (X-04) on the loaner pages and the printed notice: people's names, never
usernames; no rule IDs, snake_case keys or "rma"/"ticket" codes."""

from __future__ import annotations

import re

import pytest

from app.core.db import fetch, write_transaction
from app.loaners import services as loans
from app.loaners.services import CheckinInput
from seed.factories import unique
from tests.loaners.factories import checkout, future, make_customer, make_loaner
from tests.test_crawl import ALLOWED_TEXT, IDENTIFIER, WEB_SUFFIXES, _parse


@pytest.fixture(autouse=True)
def _no_rma(monkeypatch):
    monkeypatch.setattr(loans._base, "_rma_services", lambda: None)


def identifiers(html: str) -> set[str]:
    text = " ".join(_parse(html).text)
    return {t for t in IDENTIFIER.findall(text) if t not in ALLOWED_TEXT and t.rsplit(".", 1)[-1] not in WEB_SUFFIXES}


async def test_pages_and_notice_show_the_keepers_name_not_the_username(login_as):
    """Checked out and in over HTTP by a keeper named 王仓管: lists, the loan page and the notice show the name."""
    username = unique("keeper")
    client = await login_as("warehouse", username=username, full_name="王仓管")
    _p, _u, serial = await make_loaner()
    customer = await make_customer()
    page = await client.get("/loaners/checkout", params={"serial": serial})
    token = page.text.split('name="token" value="')[1].split('"')[0]
    r = await client.post_form("/loaners/checkout", {
        "serial": serial, "customer_id": str(customer), "case_type": "standalone", "reason": "展会临时使用",
        "expected_return": future(5), "condition_out": "外观完好", "token": token})
    loan_url = r.headers["location"]
    loan_id = int(loan_url.rsplit("/", 1)[1])
    r = await client.post_form(f"{loan_url}/checkin", {"version": "1", "condition_in": "完好", "test_result": "pass"})
    assert r.status_code == 303
    loan = await loans.get_loan(loan_id)
    assert loan["out_by_name"] == "王仓管" and loan["in_by_name"] == "王仓管"
    for url in (loan_url, f"{loan_url}/notice", "/loaners/out?status=returned&q=" + serial):
        body = (await client.get(url)).text
        assert "王仓管" in body and username not in body, url
        assert not identifiers(body), (url, identifiers(body))


async def test_rows_booked_with_a_username_show_the_persons_name():
    """Loans and requests stored before names were kept (a username in *_by_name) read the person's name."""
    from seed.factories import make_user

    username = unique("old")
    uid = await make_user("warehouse", username=username, full_name="李库管")
    _p, _u, serial = await make_loaner()
    from app.core.audit.services import Actor

    old = Actor(user_id=uid, username=username, roles=frozenset({"warehouse"}))  # no name: stored as the username
    loan_id = await checkout(old, serial, await make_customer())
    stored = await fetch("SELECT out_by_name FROM loan WHERE id = {}", loan_id)
    assert stored[0]["out_by_name"] == username
    assert (await loans.get_loan(loan_id))["out_by_name"] == "李库管"
    rows, _c = await loans.list_loans(q=serial)
    assert rows[0]["out_by_name"] == "李库管"
    assert "李库管" in await loans.whereabouts({"id": _u, "serial": serial})
    await loans.check_in(old, CheckinInput(serial=serial, condition_in="完好", test_result="pass"))


async def test_chinese_loaner_pages_show_no_rule_ids_or_codes(login_as):
    """The request form (R-LOAN-02 was on it), the offer page, lists and a loan linked to an RMA by id only."""
    client = await login_as("warehouse", "desk")
    _p, _u, serial = await make_loaner()
    customer = await make_customer()
    loan_id = await checkout(await _keeper(), serial, customer, case_type="rma", case_id="987654", case_ref="")
    assert "987654" in (await loans.get_loan(loan_id))["case_label"]
    for url in ("/loaners/requests/new", "/loaners/offer?case_type=ticket&case_ref=FW-1", "/loaners", "/loaners/out",
                "/loaners/overdue", "/loaners/requests", f"/loaners/{loan_id}", f"/loaners/{loan_id}/notice",
                f"/loaners/checkin?serial={serial}", f"/loaners/checkout?customer_id={customer}"):
        r = await client.get(url)
        assert r.status_code == 200, url
        bad = identifiers(r.text) | ({"R-LOAN"} if "R-LOAN" in r.text or "R-SCR" in r.text else set())
        assert not bad, (url, bad)
        text = " ".join(_parse(r.text).text)
        assert "RMA #" not in text and not re.search(r"\b(rma|ticket|standalone|loan)\b", text), url


async def _keeper():
    from tests.loaners.factories import keeper

    return await keeper()


async def test_requests_list_shows_the_requesters_name(login_as):
    client = await login_as("desk", full_name="赵前台")
    customer = await make_customer()
    r = await client.post_form("/loaners/requests", {"customer_id": str(customer), "case_type": "standalone",
                                                    "reason": "客户设备维护"})
    assert r.status_code == 303
    page = await client.get("/loaners/requests")
    assert "赵前台" in page.text and client.username not in page.text
    async with write_transaction():
        await fetch("UPDATE loan_request SET status = 'cancelled' WHERE requested_by_name = {}", "赵前台")

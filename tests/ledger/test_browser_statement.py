"""Browser (real Chromium), issue #12 jobs 8 and 9 as the users do them, counted with `Counted` for docs/jobs.md.

8. Customer statement (desk): from the home page, menu "应收账款" · tab "对账单" · the statement · "打印" — the page shows
   the lines and totals; the A4 print view carries the company's letterhead, its bank details and the customer's
   address (and no internal status).
9. Payment against a statement (finance): from the home page, menu · tab · the statement · "登记收款" (the open
   amount, today and bank transfer are prefilled; a part payment types its amount: one more).

Own small database (no demo seed): a monthly-settled customer with two lines on one statement, sent to the client."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.browser.conftest import CHROMIUM, ROOT, chromium_path, migrated_env, serve  # noqa: F401
from tests.browser.counter import Counted

pytestmark = pytest.mark.browser

COMPANY = {
    "company.name": "测试安防技术服务有限公司",
    "company.address": "测试市测试路 1 号",
    "company.phone": "010-1234 5678",
    "company.bank_name": "测试银行高新支行",
    "company.bank_account": "6222 0000 1111 2222",
}

SETUP = """
import asyncio, json, sys
from decimal import Decimal
import app
from app.core import db
from app.core.actor import Actor
from app.core.dates import today
from app.core.manifest import install_all
from app.core.settings import set_setting
from app.domains import manifests
from app.ledger import receivables as ar
from seed.customers import make_customer
from seed.factories import make_user

COMPANY = json.loads(sys.argv[1])

async def main():
    await db.startup()
    try:
        await setup()
    finally:
        await db.shutdown()

async def setup():
    install_all(manifests())
    admin = Actor(user_id=None, username="system", roles=frozenset({"admin"}))
    for key, value in COMPANY.items():
        await set_setting(admin, key, value)
    desk_id = await make_user("desk", username="js.desk", password="password-123", full_name="李客服")
    await make_user("finance", username="js.finance", password="password-123", full_name="赵会计")
    manager_id = await make_user("manager", username="js.manager", password="password-123", full_name="周经理")
    desk = Actor(user_id=desk_id, username="js.desk", roles=frozenset({"desk"}))
    manager = Actor(user_id=manager_id, username="js.manager", roles=frozenset({"manager"}))
    finance = Actor(user_id=None, username="system", roles=frozenset({"finance"}))
    name = "月结客户甲"
    customer = await make_customer(name)
    await ar.post_receivable(desk, "ticket", "T-JS-1", customer, name, "monthly", Decimal("300.00"), "上门维修费", None)
    await ar.post_receivable(desk, "ticket", "T-JS-2", customer, name, "monthly", Decimal("120.50"), "配件费", None)
    sid = await ar.draft_statement(desk, name, today().strftime("%Y-%m"))
    for who, verb in ((manager, "review"), (finance, "check"), (finance, "send")):
        await ar.move_statement(who, sid, verb, (await ar.get_statement(sid))["version"])
    st = await ar.get_statement(sid)
    print(json.dumps({"id": sid, "number": st["number"], "customer": name}))

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def server(chromium_path):  # noqa: F811
    env = migrated_env("jobs-statement")
    out = subprocess.run([sys.executable, "-c", SETUP, json.dumps(COMPANY)], env=env, cwd=ROOT, check=True,
                         capture_output=True, text=True).stdout
    st = json.loads(out.strip().splitlines()[-1])
    with serve(env) as base:
        yield base, st


@pytest.fixture(scope="module")
def browser(chromium_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"])
        yield b
        b.close()


def _signed_in(browser, base: str, username: str):
    # bypass_csp: only so the test can inject axe-core inline (the app's CSP rightly refuses inline scripts)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def _axe(page) -> list[dict]:
    from tests.browser.test_a11y import AXE, RUN

    page.wait_for_load_state("networkidle")
    page.add_script_tag(content=AXE)
    return page.evaluate(RUN)


def _to_statement(ui: Counted, page, base: str, st: dict) -> None:
    """Home → menu "应收账款" → tab "对账单" → the statement: 3 clicks."""
    ui.click("#main-nav a[href='/receivables']")
    page.wait_for_url(base + "/receivables")
    ui.click("main .nav-tabs a[href='/receivables/statements']")
    page.wait_for_url(lambda url: "/receivables/statements" in url)
    assert _axe(page) == []
    ui.click(f"a[href='/receivables/statements/{st['id']}']")
    page.wait_for_url(f"{base}/receivables/statements/{st['id']}")


def test_desk_opens_a_customer_statement_and_its_print_view(server, browser):
    base, st = server
    context, page = _signed_in(browser, base, "js.desk")
    ui = Counted(page)
    _to_statement(ui, page, base, st)
    text = page.inner_text("main")
    assert st["customer"] in text and "上门维修费" in text and "配件费" in text and "420.50" in text
    assert _axe(page) == []
    ui.click(f"a[href='/receivables/statements/{st['id']}/print']")
    page.wait_for_url(f"{base}/receivables/statements/{st['id']}/print")
    header = page.inner_text(".sheet-header")
    assert COMPANY["company.name"] in header and COMPANY["company.address"] in header and COMPANY["company.phone"] in header
    sheet = page.inner_text("body")
    assert st["number"] in sheet and "420.50" in sheet
    assert COMPANY["company.bank_name"] in page.inner_text(".party-issuer")
    assert COMPANY["company.bank_account"] in page.inner_text(".party-issuer")
    customer = page.inner_text(".party-customer")
    assert st["customer"] in customer and "北京市海淀区" in customer  # the customer's address
    assert "已发送" not in sheet and "状态" not in sheet  # no internal status on the customer's copy
    page.emulate_media(media="print")
    assert page.evaluate("document.querySelector('.sheet').getBoundingClientRect().width") > 0
    page.emulate_media(media="screen")
    assert _axe(page) == []
    print("job 8:", ui.report())
    assert ui.report() == {"clicks": 4, "fields": 0, "enters": 0, "total": 4}
    context.close()


def test_finance_records_a_payment_against_the_statement(server, browser):
    base, st = server
    context, page = _signed_in(browser, base, "js.finance")
    ui = Counted(page)
    _to_statement(ui, page, base, st)
    form = page.locator(f"form[action='/receivables/statements/{st['id']}/pay']")
    assert form.locator("#f-amount").input_value() == "420.50"  # the open amount, prefilled
    assert _axe(page) == []
    ui.click(f"form[action='/receivables/statements/{st['id']}/pay'] button[type=submit]")
    page.wait_for_url(f"{base}/receivables/statements/{st['id']}")
    text = page.inner_text("main")
    assert "已登记" in text or "收款" in text
    assert page.locator(f"form[action='/receivables/statements/{st['id']}/pay']").count() == 0  # nothing left open
    payments = page.locator("main table").last.inner_text()
    assert "420.50" in payments and "赵会计" in payments
    assert _axe(page) == []
    print("job 9:", ui.report())
    assert ui.report() == {"clicks": 4, "fields": 0, "enters": 0, "total": 4}
    context.close()

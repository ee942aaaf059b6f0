"""Browser, phone (390×844), issue #12 "Phones and paper" for the loaner pages:
- the check-out form reads in order 1 · 2 · 3 (and Tab follows it);
- the loaner panel on the home page and the RMA page keeps its text inside its card;
- the loan tables never wrap a customer's name one character per line.
"""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, chromium_path, live_server, shots  # noqa: F401
from tests.loaners.test_browser_checkout import sign_in

pytestmark = pytest.mark.browser

OVERFLOW = """(sel) => Array.from(document.querySelectorAll(sel)).filter(el => el.offsetParent !== null)
  .map(el => [el.scrollWidth - el.clientWidth, el.id || el.className])"""


@pytest.fixture
def phone(browser):  # noqa: F811
    context = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", is_mobile=True)
    page = context.new_page()
    yield page
    context.close()


def test_phone_checkout_form_reads_in_order(phone, live_server, shots):  # noqa: F811
    sign_in(phone, live_server, "warehouse")
    phone.goto(live_server + "/loaners?q=LN")
    serial = phone.locator("#pool-table code").first.inner_text().strip()
    phone.goto(live_server + "/loaners/checkout?serial=" + serial)
    tops = [phone.locator(sel).bounding_box()["y"] for sel in
            (".checkout-loaner", ".checkout-case", ".checkout-return", ".checkout-submit")]
    assert tops == sorted(tops), tops
    widths = [phone.locator(sel).bounding_box()["width"] for sel in (".checkout-loaner", ".checkout-case")]
    assert all(w <= 390 for w in widths)
    assert phone.evaluate("document.documentElement.scrollWidth") <= 390
    phone.screenshot(path=str(shots / "loaner-checkout-phone.png"), full_page=True)


def test_phone_loaner_panels_keep_their_text_inside(phone, live_server, shots):  # noqa: F811
    sign_in(phone, live_server, "warehouse")
    phone.goto(live_server + "/")
    phone.wait_for_selector(".loaner-panel")
    assert all(over <= 0 for over, _name in phone.evaluate(OVERFLOW, ".loaner-panel, .loaner-panel .list-group-item"))
    phone.goto(live_server + "/loaners/pick?q=RMA-")
    rma_id = phone.locator("[data-pick][data-case-type=rma]").first.get_attribute("data-case-id")
    phone.goto(live_server + f"/bench/{rma_id}")
    phone.wait_for_selector("#loaner-offer .loaner-offer")
    assert all(over <= 0 for over, _name in phone.evaluate(OVERFLOW, "#loaner-card, #loaner-card .card-body, .loaner-offer"))
    phone.screenshot(path=str(shots / "loaner-rma-card-phone.png"), full_page=True)
    phone.click("#loaner-offer-page")
    phone.wait_for_selector("#offer-case")
    assert phone.locator("h1").count() == 1 and phone.locator("link[href*='app.css']").count() == 1


def test_phone_loan_tables_keep_customer_names_readable(phone, live_server, shots):  # noqa: F811
    sign_in(phone, live_server, "warehouse")
    phone.goto(live_server + "/loaners/out?status=")
    cells = phone.locator("td.loan-customer a")
    assert cells.count() > 0
    for i in range(min(cells.count(), 10)):
        box = cells.nth(i).bounding_box()
        font = float(phone.evaluate("(el) => parseFloat(getComputedStyle(el).fontSize)", cells.nth(i).element_handle()))
        name = cells.nth(i).inner_text()
        # at least seven characters a line (or the whole name): never one character per line
        assert box["width"] >= min(len(name), 7) * font * 0.9, (name, box)
    phone.screenshot(path=str(shots / "loaner-list-phone.png"), full_page=True)

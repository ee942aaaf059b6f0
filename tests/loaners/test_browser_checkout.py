"""Browser: the keeper's check-out from the home page takes at most three interactions (issue #6).

1. scan the loaner's serial into the home panel's box + Enter → the prefilled check-out form;
2. type the RMA number into the customer/case picker + Enter → customer and case filled in;
3. Enter on the focused confirm button → the loan page with its notice number.
"""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import browser, chromium_path, live_server, page, shots  # noqa: F401

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str) -> None:  # noqa: F811
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_keeper_checks_out_a_loaner_from_home_in_three_interactions(page, live_server, shots):  # noqa: F811
    """Scan → pick the RMA → confirm: three interactions, the unit is lent, the notice is numbered."""
    sign_in(page, live_server, "warehouse")
    # what the keeper has in hand: a loaner from the pool and the RMA paperwork
    page.goto(live_server + "/loaners?q=LN")
    serial = page.locator("#pool-table code").first.inner_text().strip()
    page.goto(live_server + "/loaners/pick?q=RMA-")
    rma_number = page.locator("[data-pick][data-case-type=rma]").first.get_attribute("data-case-ref")
    assert serial and rma_number
    page.goto(live_server + "/")

    interactions = 0
    # 1. scan + Enter in the home panel
    page.fill("#loaner-scan", serial)
    page.press("#loaner-scan", "Enter")
    interactions += 1
    page.wait_for_url(re.compile(r".*/loaners/checkout\?serial="))
    assert page.locator("#unit-summary").is_visible()
    assert page.input_value("#f-expected_return")  # default return date filled in
    # 2. the picker: type the RMA number, Enter takes the first match
    page.fill("#pick-q", rma_number)
    page.wait_for_selector(f'#pick-list[data-q="{rma_number}"] [data-pick]')
    page.press("#pick-q", "Enter")
    interactions += 1
    assert page.input_value("#f-case_ref") == rma_number and page.input_value("#f-customer_id")
    page.screenshot(path=str(shots / "loaner-checkout-form.png"), full_page=True)
    # 3. confirm (the button has the focus)
    page.keyboard.press("Enter")
    interactions += 1
    page.wait_for_url(re.compile(r".*/loaners/\d+$"))
    assert interactions <= 3
    flash = page.inner_text("#flash-area")
    assert serial in flash and "BP-" in flash
    assert page.locator("#checkin-form").is_visible()
    page.screenshot(path=str(shots / "loaner-checked-out.png"), full_page=True)

    # the same unit scanned again now opens the check-in, not a second check-out
    page.goto(live_server + "/")
    page.fill("#loaner-scan", serial)
    page.press("#loaner-scan", "Enter")
    page.wait_for_url(re.compile(r".*/loaners/checkin\?serial="))
    assert page.locator("#loan-summary").is_visible()

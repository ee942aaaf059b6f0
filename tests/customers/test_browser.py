"""Browser: the desk finds a customer by device serial and checks a warranty with HTMX (issue #3)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, chromium_path, live_server, page, shots  # noqa: F401  (fixtures)

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_desk_finds_customer_by_serial_and_checks_warranty(page, live_server, shots):  # noqa: F811
    """Type a serial in the one search box → the customer's row; the lookup fragment says in / out of warranty and why."""
    sign_in(page, live_server, "desk")
    assert page.locator("#panel-renewals").is_visible()
    page.goto(live_server + "/devices")
    serial = page.locator("#device-rows code").first.inner_text().strip()
    page.fill("#f-serial", serial)
    with page.expect_response(lambda r: "/devices/lookup" in r.url):
        page.press("#f-serial", "Enter")
    box = page.locator("#lookup-result .warranty-box")
    box.wait_for()
    text = box.inner_text()  # the newest device may be a loaner made permanent (no acceptance yet): any reason counts
    assert "保修" in text and "软件升级" in text
    page.screenshot(path=str(shots / "customers-lookup.png"), full_page=True)

    page.goto(live_server + "/customers")
    with page.expect_response(lambda r: "/customers?" in r.url and "q=" in r.url):
        page.fill("#f-q", serial)
    page.wait_for_function("document.querySelectorAll('#customer-rows tbody tr').length === 1")
    row = page.locator("#customer-rows tbody tr").first
    row.locator("a").first.click()
    page.wait_for_load_state()
    assert serial in page.content()
    page.screenshot(path=str(shots / "customers-detail.png"), full_page=True)

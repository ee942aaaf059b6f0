"""Browser (issue #13 "done when"): the desk takes a call from the home page to a dispatched ticket with
its entitlement shown in ≤ 6 interactions; the technician on a 390×844 phone records ETA, departure,
arrival, a part from their own stock, the result, the paper slip number and a drawn signature; finance
sees the slip number linked to the ticket; the list shows the SLA colour and a pause."""

from __future__ import annotations

import datetime as dt
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


def test_call_dispatch_visit_sign_off_and_reconciliation(page, browser, live_server, shots):  # noqa: F811
    """The whole loop of issue #13 in real Chromium."""
    # who will go: the demo technician `field` (holds a slip book and own stock)
    tech_ctx = browser.new_context(viewport={"width": 390, "height": 844}, locale="zh-CN", has_touch=True)
    phone = tech_ctx.new_page()
    sign_in(phone, live_server, "field")
    tech_name = phone.locator("header .text-secondary.small, .navbar .text-secondary.small").first.inner_text().strip()
    # what the desk knows: a customer's name (the caller says it on the phone)
    sign_in(page, live_server, "desk")
    page.goto(live_server + "/customers")
    customer = page.locator("table tbody tr td a").first.inner_text().strip()
    page.goto(live_server + "/")

    interactions = 0
    page.click("#home-new-ticket")  # 1
    interactions += 1
    page.fill("#pick-q", customer)  # 2
    interactions += 1
    page.locator(".customer-pick a").first.click()  # 3
    interactions += 1
    page.wait_for_selector("#ent-billing")
    assert page.inner_text("#ent-status") and page.inner_text("#ent-sla")
    page.fill("#f-requested_service", "3号摄像机无图像")  # 4
    interactions += 1
    value = page.locator("#f-technician_id option", has_text=tech_name).first.get_attribute("value")
    page.select_option("#f-technician_id", value)  # 5
    interactions += 1
    page.click("#intake-submit")  # 6
    interactions += 1
    page.wait_for_url(re.compile(r".*/tickets/\d+$"))
    assert interactions <= 6
    assert tech_name in page.inner_text("#ticket-assignee") and page.inner_text("#ticket-entitlement")
    number = re.search(r"FW-\d{4}-\d{6}", page.title()).group(0)
    page.screenshot(path=str(shots / "ticket-dispatched.png"), full_page=True)

    # the technician's phone
    phone.goto(live_server + "/tickets/my")
    phone.locator("#my-visits .list-group-item", has_text=customer).first.locator("a.btn-primary").click()
    phone.wait_for_url(re.compile(r".*/tickets/visits/\d+$"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= 400  # no sideways scrolling at 390 px
    assert phone.get_attribute("#call-customer", "href").startswith("tel:")
    eta = (dt.datetime.utcnow() + dt.timedelta(hours=9)).strftime("%Y-%m-%dT%H:%M")  # Beijing time + 1 h
    phone.fill("#f-eta", eta)
    phone.click("#save-eta")
    phone.wait_for_selector("#eta-shown")
    phone.click("#step-depart")
    phone.wait_for_selector("#step-arrive")
    phone.click("#step-arrive")
    phone.wait_for_selector("#finish-form")
    part_no = phone.locator('#my-stock option[data-serialised="0"]').first.get_attribute("value")
    phone.fill("#f-work_done", "更换电源适配器，图像恢复")
    phone.fill("#f-part_no", part_no)
    phone.check("input[name=result][value=done]")
    slip_no = phone.input_value("#f-slip_number")
    assert slip_no  # proposed: the next number in the technician's own book
    phone.click("#finish-submit")
    phone.wait_for_load_state()
    assert phone.locator("#sign-form").count(), phone.inner_text(".visit-page")[:600]
    phone.check("input[name=accessories][value=none]")
    phone.check("#sat-very")
    phone.locator("#signature-pad").scroll_into_view_if_needed()  # the customer scrolls down to sign
    box = phone.locator("#signature-pad").bounding_box()
    phone.mouse.move(box["x"] + 20, box["y"] + 40)
    phone.mouse.down()
    for i in range(1, 12):
        phone.mouse.move(box["x"] + 20 + i * 20, box["y"] + 40 + (i % 3) * 25)
    phone.mouse.up()
    assert phone.input_value("#f-signature").startswith("data:image/png;base64,")
    phone.screenshot(path=str(shots / "ticket-sign-off-390.png"), full_page=True)
    phone.click("#sign-submit")
    phone.wait_for_selector("#signed-by")
    assert phone.locator("#signed-by img").is_visible()
    # the slip number is now linked to the job in finance's reconciliation
    phone.goto(live_server + "/slips/mine")
    book = re.search(r"/slips/books/(\d+)", phone.content()).group(1)
    tech_ctx.close()
    fin_ctx = browser.new_context(locale="zh-CN")
    finance = fin_ctx.new_page()
    sign_in(finance, live_server, "finance")
    finance.goto(live_server + f"/slips/books/{book}")
    assert number in finance.content()
    fin_ctx.close()

    # the SLA colour and a pause on the list
    page.goto(live_server + "/tickets?view=unassigned")
    page.locator("#ticket-rows tr").filter(has_not=page.locator(".status-muted")).first.locator("a").first.click()
    page.wait_for_selector("#pause-form")
    page.select_option("#f-reason", "customer")
    page.click("#pause-form button[type=submit]")
    page.wait_for_selector("#resume")
    page.goto(live_server + "/tickets?view=paused")
    assert page.locator("#ticket-rows .status-muted").count() >= 1
    page.goto(live_server + "/tickets?view=breaching")
    assert page.locator("#ticket-rows .status-danger, #ticket-rows .status-warn").count() >= 1
    page.screenshot(path=str(shots / "tickets-breaching.png"), full_page=True)

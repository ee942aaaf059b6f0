"""Browser (issue #13 R-TKT-04 and §6): the desk dispatches with parts picked from a store's stock (reserved, shown
on the ticket and the dispatch slip); a "needs return repair" ticket becomes a bench intake prefilled from the
ticket, and the two pages link to each other."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import browser, chromium_path, live_server, page, shots  # noqa: F401
from tests.tickets.test_browser import sign_in

pytestmark = pytest.mark.browser


def test_dispatch_with_parts_then_ticket_to_bench_and_back(page, live_server, shots):  # noqa: F811
    sign_in(page, live_server, "desk")
    page.goto(live_server + "/tickets?view=unassigned")
    page.locator("#ticket-rows tr a").first.click()
    page.wait_for_selector("#dispatch-form")
    page.locator("#dispatch-form input[name=technician_id]").first.check()
    options = page.locator("#f-res-item-0 option")
    assert options.count() > 1, "no store stock to reserve from"
    label = options.nth(1).inner_text()
    assert "可用" in label  # the stock each store can spare is shown
    page.select_option("#f-res-item-0", index=1)
    page.click("#dispatch-submit")
    page.wait_for_selector("#reservations")
    part_no = label.split()[0]
    assert part_no in page.inner_text("#reservations") and "已预留" in page.inner_text("#reservations")
    page.screenshot(path=str(shots / "ticket-parts-reserved.png"), full_page=True)
    page.click("#print-dispatch")
    assert part_no in page.content()

    # a ticket whose visit ended "needs return repair": receive the unit on the bench from it
    page.goto(live_server + "/tickets?view=all&status=not_done")
    links = [a.get_attribute("href") for a in page.locator("#ticket-rows tr td:first-child a").all()][:25]
    for href in links:
        page.goto(live_server + href)
        if not page.locator("#bench-intake").count():
            continue
        number = re.search(r"FW-\d{4}-\d{6}", page.title()).group(0)
        page.click("#bench-intake")
        page.wait_for_selector("#from-ticket")
        assert number in page.inner_text("#from-ticket")
        if not page.input_value("#f-fault_reported"):
            page.fill("#f-fault_reported", "电源坏")
        if page.locator("#f-customer_name").count() and not page.input_value("#f-customer_name"):
            page.fill("#f-customer_name", "测试客户")
        page.locator("form[action='/bench/receive'][method=post] button[type=submit]").first.click()
        page.wait_for_load_state()
        if not re.search(r"/bench/\d+$", page.url):
            continue  # that unit is already on the bench: try the next ticket
        assert page.locator("#rma-ticket").inner_text() == number
        rma_number = page.title().split()[0]
        page.click("#rma-ticket")
        page.wait_for_url(re.compile(r".*/tickets/\d+$"))
        assert rma_number in page.inner_text("#bench-card")
        page.screenshot(path=str(shots / "ticket-bench-link.png"), full_page=True)
        return
    pytest.fail("no 'needs return repair' ticket could be received on the bench")

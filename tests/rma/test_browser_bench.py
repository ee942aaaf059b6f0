"""Browser (real Chromium, demo data): the bench finds units past their window and applies for a replacement by
hand (#12.3), and the manager sees the applications (issue #12, "Done when")."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import browser, chromium_path, live_server, page, shots  # noqa: F401
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


def test_overdue_and_manual_replacement_application(page, live_server, shots):  # noqa: F811
    sign_in(page, live_server, "bench")
    page.goto(live_server + "/bench/overdue")
    links = page.locator("table a[href^='/bench/']")
    assert links.count() > 0, "the demo data hold units past the 3-day window"
    hrefs = [links.nth(i).get_attribute("href") for i in range(min(links.count(), 40))]
    applied = explained = False
    for href in hrefs:
        page.goto(live_server + href)
        card = page.locator("#replacement-apply")
        if card.count() == 0:
            continue
        button = card.locator("button[type=submit]")
        if button.is_enabled():
            page.fill("#rp-note", "同型号主板缺货")
            button.click()
            page.wait_for_load_state()
            assert page.locator("#replacement-apply").count() == 0  # the application card replaces the form
            applied = True
        else:
            text = card.inner_text()
            assert "✗" in text and not re.search(r"R-[A-Z]+-\d+", text)
            explained = True
        if applied and explained:
            break
    page.screenshot(path=str(shots / "bench-replacement-apply.png"), full_page=True)
    assert applied or explained
    context = page.context.browser.new_context(locale="zh-CN")  # the manager on another device
    try:
        manager = context.new_page()
        sign_in(manager, live_server, "manager")
        manager.goto(live_server + "/bench/replacements")
        assert manager.locator("table tbody tr, .card form").count() > 0, "applications to decide"
        if applied:
            assert "同型号主板缺货" in manager.content()
    finally:
        context.close()

"""Browser (real Chromium, demo data): a board column's "more" button loads the next cards in place, focus moves to
the first new card and the polite live region says how many were loaded (issue #15)."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, chromium_path, live_server, page, shots  # noqa: F401
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser


def test_more_button_loads_the_next_cards_and_moves_focus(page, live_server, shots):  # noqa: F811
    sign_in(page, live_server, "bench")
    page.goto(live_server + "/bench")
    buttons = page.locator(".rma-more-btn")
    if buttons.count() == 0:
        pytest.skip("no column of the demo data holds more cards than the first slice")
    button = buttons.first
    status = button.get_attribute("id").removeprefix("more-")
    column = page.locator(f"#col-{status}")
    before = column.locator(".rma-card").count()
    button.click()
    page.wait_for_function("document.getElementById('rma-live').textContent.includes('已加载')")
    assert column.locator(".rma-card").count() > before
    focused = page.evaluate("document.activeElement && document.activeElement.className")
    assert focused == "rma-num"
    assert page.locator("[data-slice-start]").count() == 0
    page.screenshot(path=str(shots / "bench-board-more.png"), full_page=False)

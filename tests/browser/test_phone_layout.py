"""Phone (390×844) layout (issue #12, "Phones and paper"): the navigation collapses behind a menu button, the
bench board has a column jump bar, an action's confirmation is on screen. (The loaner panel and the loan history
at 390 px: tests/loaners/test_browser_phone.py.) Screenshots go to var/screenshots/phone-*.png."""

from __future__ import annotations

import pytest

from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser
PHONE = {"width": 390, "height": 844}


@pytest.fixture
def phone(browser):
    context = browser.new_context(viewport=PHONE, locale="zh-CN", is_mobile=True, has_touch=True, device_scale_factor=2)
    page = context.new_page()
    yield page
    context.close()


def _no_sideways_overflow(page, selector: str) -> list[str]:
    return page.evaluate("""(sel) => Array.from(document.querySelectorAll(sel))
        .filter(el => el.scrollWidth > el.clientWidth + 1 || el.getBoundingClientRect().right > window.innerWidth + 1)
        .map(el => (el.id || el.className) + ' ' + el.scrollWidth + '>' + el.clientWidth)""", selector)


def test_phone_navigation_collapses_and_opens(phone, live_server, shots):
    sign_in(phone, live_server, "warehouse")
    header = phone.locator("header.shouhou-topbar")
    assert header.bounding_box()["height"] <= 80  # was ~190 px: three rows of links
    assert not phone.locator("#main-nav").is_visible()
    toggle = phone.locator(".nav-toggle")
    assert toggle.get_attribute("aria-expanded") == "false"
    phone.screenshot(path=str(shots / "phone-home-warehouse.png"))
    toggle.click()
    assert toggle.get_attribute("aria-expanded") == "true" and phone.locator("#main-nav").is_visible()
    phone.screenshot(path=str(shots / "phone-nav-open.png"))
    assert phone.evaluate("document.documentElement.scrollWidth") <= PHONE["width"]  # the page itself never scrolls sideways


def test_phone_board_jumps_to_any_column(phone, live_server, shots):
    sign_in(phone, live_server, "bench")
    phone.goto(live_server + "/bench")
    bar = phone.locator("nav.board-jump")
    bar.wait_for(state="visible")
    buttons = bar.locator("button")
    columns = phone.locator("#rma-board > section")
    assert buttons.count() == columns.count() >= 10
    last = buttons.nth(buttons.count() - 1)
    last.click()
    phone.wait_for_timeout(700)  # smooth scroll
    box = columns.nth(columns.count() - 1).bounding_box()
    assert 0 <= box["x"] < PHONE["width"] / 2, box  # the chosen column is on screen
    assert phone.evaluate("document.activeElement.closest('section') === document.querySelector('#rma-board > section:last-child')")
    assert last.get_attribute("aria-current") == "true"
    phone.screenshot(path=str(shots / "phone-board-jump.png"))


def test_phone_action_confirmation_is_on_screen(phone, live_server, shots):
    sign_in(phone, live_server, "bench")
    phone.goto(live_server + "/bench")
    phone.fill("#rma-scan", "SN-PHONE-NOT-HERE")
    phone.press("#rma-scan", "Enter")
    phone.wait_for_load_state()
    flash = phone.locator("#flash-area .alert").first
    flash.wait_for(state="visible")
    # the receive form autofocuses a field further down; the flash must still be on screen
    phone.wait_for_function("""() => { const r = document.querySelector('#flash-area .alert').getBoundingClientRect();
                                       return r.top >= 0 && r.bottom <= window.innerHeight; }""", timeout=6000)
    phone.screenshot(path=str(shots / "phone-confirmation.png"))
    box = flash.bounding_box()
    assert box["y"] >= 0 and box["y"] + box["height"] <= PHONE["height"] and box["x"] >= 0 and box["x"] + box["width"] <= PHONE["width"], box
    assert "SN-PHONE-NOT-HERE" in flash.inner_text()

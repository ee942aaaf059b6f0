"""The repairer records a paper slip in a real browser (#12.5): an RMA number that does not exist is refused at
its field; an "other" job is recorded with its note and shown in the book."""

from __future__ import annotations

import pytest

from tests.browser.conftest import browser, chromium_path, live_server, page, shots  # noqa: F401 (fixtures)

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str) -> None:  # noqa: F811
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def test_repairer_records_a_slip_for_a_real_job(page, live_server, shots):  # noqa: F811
    sign_in(page, live_server, "field")
    page.goto(live_server + "/slips/mine")
    form = page.locator("form[action$='/use']")
    number = form.locator("#f-number").input_value()
    assert number
    form.locator("#f-job_type").select_option("rma")
    form.locator("#f-job_id").fill("RMA-2026-999999")
    form.locator("#f-amount").fill("50")
    form.locator("button[type=submit]").click()
    page.wait_for_selector("#e-job_id")
    assert "没有编号为 RMA-2026-999999 的返修单" in page.inner_text("#e-job_id")
    form = page.locator("form[action$='/use']")
    form.locator("#f-job_type").select_option("other")
    form.locator("#f-job_id").fill("")
    form.locator("#f-job_note").fill("展会现场临时调试")
    form.locator("#f-amount").fill("0")
    form.locator("button[type=submit]").click()
    page.wait_for_load_state()
    row = page.locator(f"tr#n{number}")
    assert "展会现场临时调试" in row.inner_text() and "其他工作" in row.inner_text()
    page.screenshot(path=str(shots / "slip-other-job.png"), full_page=True)

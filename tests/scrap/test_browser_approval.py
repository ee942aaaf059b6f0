"""Browser: the main scrap job end to end (issue #14) — the keeper raises a scrap record for a failed loaner,
convenes two appraisers, both agree, the manager approves, the keeper disposes; the record reads in Chinese."""

from __future__ import annotations

import re

import pytest

from tests.browser.conftest import browser, chromium_path, live_server, page, shots  # noqa: F401

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str) -> None:  # noqa: F811
    page.context.clear_cookies()
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


def user_id(page, base: str, username: str) -> str:  # noqa: F811
    page.goto(base + "/admin/users")
    href = page.locator(f'a:text-is("{username}")').first.get_attribute("href")
    return href.rsplit("/", 1)[1]


def test_scrap_record_from_raise_to_disposal(page, live_server, shots):  # noqa: F811
    """Raise → convene → two opinions → manager approval → disposal; every step through the pages."""
    base = live_server
    sign_in(page, base, "admin")
    ids = {name: user_id(page, base, name) for name in ("bench", "qc")}

    sign_in(page, base, "warehouse")
    page.goto(base + "/loaners?q=LN")
    serial = page.locator("#pool-table code").last.inner_text().strip()
    page.goto(base + f"/scrap/new?source_type=loaner&source_ref=BP-2026-000001&serial={serial}")
    page.select_option("#f-reason", "quality_defect")
    page.fill("#f-note", "备品归还检测不合格，无法开机")
    page.click("#scrap-new-form button[type=submit]")
    page.wait_for_url(re.compile(r".*/scrap/\d+$"))
    url = page.url
    assert "BF-" in page.inner_text("h1") and "草稿" in page.inner_text("#scrap-status")
    for uid in ids.values():
        page.check(f'#convene-form input[value="{uid}"]')
    with page.expect_navigation():
        page.click("#convene-form button[type=submit]")
    assert "鉴定中" in page.inner_text("#scrap-status")

    for name in ("bench", "qc"):
        sign_in(page, base, name)
        page.goto(url)
        page.check('#opinion-form input[value="scrap"]')
        page.fill("#f-opinion-note", "经测试确认无法修复")
        with page.expect_navigation():
            page.click("#opinion-form button[type=submit]")
    assert "已鉴定" in page.inner_text("#scrap-status")

    sign_in(page, base, "manager")
    page.goto(url)
    with page.expect_navigation():
        page.click('#manager-form button[value="approve"]')
    assert "经理已批准" in page.inner_text("#scrap-status")

    sign_in(page, base, "warehouse")
    page.goto(url)
    page.select_option("#f-method", "destroy")
    with page.expect_navigation():
        page.click("#dispose-form button[type=submit]")
    assert "已处理" in page.inner_text("#scrap-status") and "销毁" in page.inner_text("#scrap-disposal")
    body = page.inner_text("body")
    assert "quality_defect" not in body and "disposed" not in body and "destroy" not in body
    page.screenshot(path=str(shots / "scrap-disposed.png"), full_page=True)
    page.goto(url + "/print")
    assert "报废品处理记录" in page.inner_text("h1")
    page.screenshot(path=str(shots / "scrap-print.png"), full_page=True)

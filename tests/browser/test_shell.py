"""The three first users sign in, see their home page, switch language (issue #2)."""

from __future__ import annotations

import pytest

pytestmark = pytest.mark.browser


def sign_in(page, base: str, username: str) -> None:
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "demo")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")


@pytest.mark.parametrize("username", ["warehouse", "bench", "finance"])
def test_role_signs_in_sees_home_and_switches_language(page, live_server, shots, username):
    """Login page in Chinese, sign in, home page for the role, switch to English and back."""
    page.goto(live_server + "/login")
    assert "登录您的账号" in page.content()
    assert page.locator("#demo-users").is_visible()
    sign_in(page, live_server, username)
    assert page.locator(f"#role-{username}").is_visible()
    assert "退出" in page.inner_text("header")
    page.screenshot(path=str(shots / f"home-{username}-zh.png"), full_page=True)

    page.click("form.lang-switch button[value=en]")
    page.wait_for_load_state()
    assert "Sign out" in page.inner_text("header")
    page.screenshot(path=str(shots / f"home-{username}-en.png"), full_page=True)
    page.goto(live_server + "/")  # remembered for the user
    assert "Sign out" in page.inner_text("header")
    page.click("form.lang-switch button[value=zh]")
    page.wait_for_load_state()
    assert "退出" in page.inner_text("header")

    page.click("form[action='/logout'] button")  # sign out
    page.wait_for_url(live_server + "/login")


def test_htmx_error_is_shown_not_swallowed(page, live_server):
    """An HTMX request that fails (403) shows a readable message instead of doing nothing."""
    sign_in(page, live_server, "manager")
    page.goto(live_server + "/audit")
    page.evaluate("htmx.ajax('GET', '/admin/users', {target: '#audit-rows'})")
    page.wait_for_selector("#htmx-error .alert", timeout=5000)
    assert "无权" in page.inner_text("#htmx-error")


def test_admin_creates_user_with_field_errors(page, live_server, shots):
    """A bad form shows messages next to the fields (X-05)."""
    sign_in(page, live_server, "admin")
    page.goto(live_server + "/admin/users/new")
    page.fill("#f-username", "new.keeper")
    page.fill("#f-password", "short")
    page.click("form.card button[type=submit]")
    page.wait_for_selector(".invalid-feedback")
    text = page.inner_text("form.card")
    assert "请至少选择一个角色" in text and "密码至少需要 8 个字符" in text
    page.screenshot(path=str(shots / "user-form-errors.png"), full_page=True)

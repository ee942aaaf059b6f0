"""Browser (real Chromium), issue #12 item 5: the keeper checks in a damaged loaner on its page (failed test), then
raises scrap from the link the page offers — the scrap form comes prefilled (serial, source, reason, what failed).
Interactions as this test does them: check-in 5 (condition, "failed", quarantine, what failed, confirm), then raising
scrap 2 (click "申请报废", submit the prefilled form)."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.browser.conftest import CHROMIUM, ROOT, chromium_path, migrated_env, serve  # noqa: F401

pytestmark = pytest.mark.browser

SETUP = """
import asyncio, json
import app
from app.core import db
from app.core.manifest import install_all
from app.domains import manifests
from seed.factories import make_user
from tests.loaners.factories import checkout, keeper, make_loaner
from tests.customers.factories import make_customer

async def main():
    await db.startup()
    install_all(manifests())
    await make_user("warehouse", username="sl.keeper", password="password-123", full_name="周库管")
    _p, unit_id, serial = await make_loaner()
    loan_id = await checkout(await keeper(), serial, await make_customer())
    print(json.dumps({"loan": loan_id, "serial": serial}))
    await db.shutdown()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def server(chromium_path):  # noqa: F811
    env = migrated_env("scrap-link")
    out = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    ids = json.loads(out.strip().splitlines()[-1])
    with serve(env) as base:
        yield base, ids


def test_raise_scrap_from_a_failed_check_in(server, chromium_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    from tests.browser.test_a11y import AXE, RUN

    base, ids = server
    with sync_playwright() as p:
        browser = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu"])
        context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", bypass_csp=True)
        page = context.new_page()
        page.goto(base + "/login")
        page.fill("#f-username", "sl.keeper")
        page.fill("#f-password", "password-123")
        page.click("button[type=submit]")
        page.wait_for_url(base + "/")
        page.goto(f"{base}/loaners/{ids['loan']}")
        page.fill("#f-condition_in", "外壳碎裂，进水")
        page.check("#f-test-fail")
        page.check("input[name=destination][value=quarantine]")
        page.fill("#f-test_note", "进水后不开机")
        page.click("button:has-text('确认归还')")
        page.wait_for_url(f"{base}/loaners/{ids['loan']}")
        link = page.locator("#raise-scrap")
        assert link.inner_text().strip() == "申请报废"
        page.add_script_tag(content=AXE)
        # the page minus the flash banner (core's alert colours are the shell's to fix, as in the parts browser tests)
        assert page.evaluate(RUN.replace("axe.run(document", "axe.run({exclude: [['.alert']]}")) == []
        link.click()
        page.wait_for_url(lambda url: "/scrap/new" in url)
        form = page.locator("#scrap-new-form")
        assert ids["serial"] in form.inner_html() and "进水后不开机" in form.inner_html()
        form.locator("button[type=submit]").click()
        page.wait_for_url(lambda url: "/scrap/new" not in url)
        assert ids["serial"] in page.content()
        context.close()
        browser.close()

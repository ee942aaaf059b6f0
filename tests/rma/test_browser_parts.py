"""Browser (real Chromium), issue #12 item 2 as the users do it: the keeper issues a part to an open RMA from the part
page (an unknown number is refused at its field), the bench opens the RMA, sees it as issued-not-used and records it
as used with one click; the parts list and cost follow. Interactions counted from the part page / the RMA page:
keeper 3 (choose "RMA" as the document, type or pick the number, Enter) + bench 1 (click "记为已用") = 4."""

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
from seed.parts import make_part, stock
from tests.rma.factories import make_rma
from app.rma import services as svc

async def main():
    await db.startup()
    install_all(manifests())
    await make_user("warehouse", username="ip.keeper", password="password-123", full_name="钱库管")
    await make_user("bench", username="ip.bench", password="password-123", full_name="孙维修")
    part = await make_part(part_no="IP-PSU-01", name="电源板", cost="35.00")
    await stock(part, "CENTRAL", 2)
    rma = await svc.get_rma(await make_rma("repairing"))
    print(json.dumps({"part": part, "rma": rma["id"], "number": rma["number"]}))
    await db.shutdown()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def server(chromium_path):  # noqa: F811
    env = migrated_env("issue-parts")
    out = subprocess.run([sys.executable, "-c", SETUP], env=env, cwd=ROOT, check=True, capture_output=True, text=True).stdout
    ids = json.loads(out.strip().splitlines()[-1])
    with serve(env) as base:
        yield base, ids


@pytest.fixture(scope="module")
def browser(chromium_path):  # noqa: F811
    from playwright.sync_api import sync_playwright

    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, args=["--no-sandbox", "--headless", "--disable-gpu", "--no-first-run"])
        yield b
        b.close()


def _signed_in(browser, base: str, username: str):
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def test_issue_a_part_to_an_rma_and_record_it_as_used(server, browser):
    from tests.browser.test_a11y import AXE, RUN

    base, ids = server
    context, page = _signed_in(browser, base, "ip.keeper")
    page.goto(f"{base}/parts/{ids['part']}")
    assert page.locator(f"#open-rmas option[value='{ids['number']}']").count() == 1  # the picker lists the open RMA
    page.select_option("#f-doctype", "rma")
    page.fill("#f-docid", "RMA-2026-999999")
    page.locator("#f-docid").press("Enter")
    page.wait_for_selector("#f-docid[aria-invalid=true]")
    assert "RMA-2026-999999" in page.inner_text("#f-docid-error")  # refused next to the field, nothing booked
    assert page.evaluate("document.activeElement.id") == "f-docid"  # the keyboard lands on the field in error
    assert page.inner_text("#total-on-hand") == "2"
    # the 3 interactions: document kind, number (typed or picked from the list), Enter
    page.select_option("#f-doctype", "rma")
    page.fill("#f-docid", ids["number"])
    page.locator("#f-docid").press("Enter")
    page.wait_for_url(f"{base}/parts/{ids['part']}")
    assert "维修台" in page.content()  # the part now lies at the repair's bench, not consumed
    context.close()

    context, page = _signed_in(browser, base, "ip.bench")
    page.goto(f"{base}/bench/{ids['rma']}")
    section = page.locator("#rma-parts")
    assert "已发料，未使用" in section.inner_text() and "IP-PSU-01" in section.inner_text()
    page.add_script_tag(content=AXE)
    assert page.evaluate(RUN.replace("axe.run(document", "axe.run('#rma-parts'")) == []
    section.locator("button:has-text('记为已用')").click()  # the 1 interaction on the bench
    page.wait_for_url(f"{base}/bench/{ids['rma']}")
    text = page.inner_text("#rma-parts")
    assert "已发料，未使用" not in text and "本次维修已用" in text and "35.00" in text and "孙维修" in text
    context.close()

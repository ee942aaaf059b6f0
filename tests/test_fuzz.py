"""Our own fuzz suite (issue #11): every POST route of the running app, hostile values per field type →
never a 5xx, and a refused form writes nothing (the audit log is unchanged).

Routes are enumerated from the app, so a new route is fuzzed without anyone remembering to add it. Field names
come from every domain's form schemas plus the names forms commonly carry. Hypothesis draws the values; the
examples per route are bounded (`FUZZ_EXAMPLES`, default 4) so the suite fits CI; `FUZZ_EXAMPLES=200` runs deep.
The signed-in user holds every role, so each request reaches the handler instead of stopping at the guard.
"""

from __future__ import annotations

import asyncio
import dataclasses
import os
import re
from pathlib import Path
from urllib.parse import quote

import pytest
from hypothesis import HealthCheck, given, settings
from hypothesis import strategies as st

from app.core.db import fetch
from app.core.roles import ROLES
from tests.conftest import login

EXAMPLES = int(os.environ.get("FUZZ_EXAMPLES", "4"))
SKIP = {"/login", "/logout", "/lang"}  # sign-in has its own throttle tests; sign-out ends the fuzzing session
COMMON_FIELDS = ["version", "qty", "quantity", "amount", "note", "reason", "serial", "token", "date", "id",
                 "customer_id", "device_id", "part_id", "location_id", "user_id", "after", "before", "status",
                 "name", "phone", "price", "hours", "days", "number", "decision", "model", "q"]
HOSTILE = [
    "", " ", "x" * 140_000, "a\x01b", "a\x00b", "line\r\nbreak", "\u202e\u0000", "9223372036854775808",
    "2147483648", "-2147483649", "-1", "0", "NaN", "Infinity", "-Infinity", "1e308", "1.1234567890", "0.005",
    "2026-02-30", "2026-13-01", "0000-00-00", "99999-01-01", "<script>alert(1)</script>", "' OR 1=1 --",
    "=HYPERLINK(\"http://x\")", "１２３", "🙂", "%00", "{}", "[]", "null", "true",
]
RAW_BAD = ["%ED%A0%80", "%FF%FE", "%C0%AF"]  # lone surrogate / invalid UTF-8 as they arrive on the wire


def _schema_fields() -> list[str]:
    names = set(COMMON_FIELDS)
    for path in Path(__file__).resolve().parent.parent.joinpath("app").rglob("schemas.py"):
        names |= set(re.findall(r"^\s+([a-z_][a-z0-9_]*)\s*:\s*Annotated\[", path.read_text(encoding="utf-8"), re.M))
    return sorted(names)


FIELDS = _schema_fields()


def _post_routes(app) -> list[str]:
    out = []
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if "POST" in handler.http_methods and route.path not in SKIP:
                out.append(route.path)
    return sorted(set(out))


def _fill(path: str, ident: str) -> str:
    return re.sub(r"\{[^}]+\}", ident, path)


values = st.one_of(st.sampled_from(HOSTILE), st.text(max_size=40), st.integers(min_value=-(2**70), max_value=2**70).map(str))
forms = st.dictionaries(st.sampled_from(FIELDS), values, max_size=8)


async def _audit_top() -> int:
    rows = await fetch("SELECT MAX(id) AS m FROM audit_event")
    return int(rows[0]["m"] or 0)


async def test_no_post_route_answers_5xx_and_refusals_write_nothing(app):
    """Every POST route × hostile forms and ids: status < 500; a 4xx leaves the audit log as it was."""
    from seed.factories import make_user, unique

    username = unique("fuzz")
    await make_user(*ROLES, username=username)
    client = await login(app, username)
    token = await client.csrf()
    routes = _post_routes(app)
    assert routes, "no POST routes found"
    loop = asyncio.get_running_loop()
    failures: list[str] = []
    counts = {"requests": 0, "4xx": 0, "5xx": 0}

    async def one(path: str, ident: str, form: dict, raw: str | None) -> None:
        url = _fill(path, ident)
        body = "&".join(f"{quote(k)}={quote(v, safe='')}" for k, v in form.items())
        if raw:
            body += ("&" if body else "") + f"note={raw}"
        before = await _audit_top()
        response = await client.post(url, content=body.encode(), headers={
            "x-csrftoken": token, "content-type": "application/x-www-form-urlencoded"})
        counts["requests"] += 1
        if response.status_code >= 500:
            counts["5xx"] += 1
            failures.append(f"{response.status_code} POST {url} {dict(list(form.items())[:4])!r}"[:300])
        elif response.status_code >= 400:
            counts["4xx"] += 1
            if await _audit_top() != before:
                failures.append(f"refused ({response.status_code}) but wrote an audit row: POST {url}")

    def fuzz_route(path: str):
        @settings(max_examples=EXAMPLES, deadline=None, database=None, derandomize=True,
                  suppress_health_check=list(HealthCheck))
        @given(ident=st.sampled_from(["1", "2", "0", "-1", "9223372036854775808", "abc", "1.5"]), form=forms,
               raw=st.one_of(st.none(), st.sampled_from(RAW_BAD)))
        def run(ident, form, raw):
            asyncio.run_coroutine_threadsafe(one(path, ident, form, raw), loop).result(timeout=60)

        return run

    for path in routes:
        await asyncio.to_thread(fuzz_route(path))
    print(f"fuzz: {len(routes)} POST routes, {counts['requests']} requests, {counts['4xx']} 4xx, {counts['5xx']} 5xx")
    assert not failures, f"{len(failures)} problems:\n" + "\n".join(sorted(set(failures))[:60])

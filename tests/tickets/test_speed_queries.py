"""#13/#15 speed: the ticket list runs the same number of queries whatever the number of tickets (keyset, no
COUNT(*), no query per row), and its rows carry their strings made once in Python."""

from __future__ import annotations

import contextlib

from app.core.tables import AppSetting
from tests.tickets.factories import dispatched, new_ticket


@contextlib.contextmanager
def counting():
    engine = AppSetting._meta.db
    cls = type(engine)
    original = cls.run_querystring
    seen: list[str] = []

    async def run(self, querystring, *args, **kwargs):
        seen.append(str(querystring)[:80])
        return await original(self, querystring, *args, **kwargs)

    cls.run_querystring = run
    try:
        yield seen
    finally:
        cls.run_querystring = original


async def _queries(client, url: str) -> int:
    await client.get(url)  # warm: settings cache, session
    with counting() as seen:
        response = await client.get(url)
    assert response.status_code == 200
    return len(seen)


async def test_list_queries_per_page_stay_constant(login_as):
    client = await login_as("desk")
    tid, _d, _t = await dispatched()
    urls = ["/tickets?view=all", "/tickets?view=all&status=assigned", "/tickets?view=breaching"]
    before = {u: await _queries(client, u) for u in urls}
    for _ in range(60):  # more than a page
        await new_ticket()
    after = {u: await _queries(client, u) for u in urls}
    assert before == after
    page = await client.get("/tickets?view=all")
    with counting() as seen:
        await client.get("/tickets?view=all")
    assert not any("COUNT(" in q.upper() for q in seen)
    assert page.text.count('<tr><td><a href="/tickets/') == 50 and "before=" in page.text

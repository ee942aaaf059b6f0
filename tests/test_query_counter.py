"""The benchmark's query counter (issue #15): chosen when the engine is built, counts per request."""

from __future__ import annotations

import httpx

from app.core import db


def test_the_plain_engine_is_built_unless_counting_is_asked_for(monkeypatch):
    monkeypatch.delenv("SHOUHOU_COUNT_QUERIES", raising=False)
    assert not isinstance(db.make_engine(), db.CountingMixin)  # zero cost: not even a check per statement
    monkeypatch.setenv("SHOUHOU_COUNT_QUERIES", "1")
    assert isinstance(db.make_engine(), db.CountingMixin)


async def test_each_request_carries_the_statements_it_ran(monkeypatch):
    monkeypatch.setenv("SHOUHOU_COUNT_QUERIES", "1")
    engine = db.make_engine()

    async def page(scope, receive, send):
        for _ in range(int(scope["path"].strip("/") or 0)):
            await engine.run_ddl("SELECT 1")
        await send({"type": "http.response.start", "status": 200, "headers": []})
        await send({"type": "http.response.body", "body": b"ok"})

    await engine.run_ddl("SELECT 1")  # outside a request: counted nowhere
    async with httpx.AsyncClient(transport=httpx.ASGITransport(app=db.count_queries(page)),
                                 base_url="http://testserver.local") as client:
        assert (await client.get("/3")).headers["x-queries"] == "3"
        assert (await client.get("/0")).headers["x-queries"] == "0"

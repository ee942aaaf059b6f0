"""Database layer: write transactions, append-only audit, health."""

from __future__ import annotations

import asyncio

import pytest

from tests.conftest import DB_REFUSED
from piccolo.engine.exceptions import TransactionError
from app.core.audit.services import Actor, record
from app.core.db import fetch, write_transaction
from seed.factories import unique


async def test_write_transaction_rolls_back_on_error():
    """Everything inside write_transaction() is undone when it raises."""
    key = unique("k")
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await fetch("INSERT INTO app_setting (key, value, updated_at) VALUES ({}, '1', CURRENT_TIMESTAMP)", key)
            raise RuntimeError("boom")
    assert not await fetch("SELECT 1 FROM app_setting WHERE key = {}", key)


async def test_write_transactions_do_not_nest_silently():
    """allow_nested=False: a nested write_transaction is an error, not a silent join."""
    with pytest.raises(TransactionError):
        async with write_transaction():
            async with write_transaction():
                pass


async def test_concurrent_conditional_updates_never_oversell():
    """The single conditional UPDATE pattern: 20 racers on a counter of 5 → exactly 5 winners."""
    key = unique("stock")
    async with write_transaction():
        await fetch("INSERT INTO doc_counter (series, period, last_value) VALUES ({}, 0, 5)", key)

    async def take() -> bool:
        async with write_transaction():
            rows = await fetch("UPDATE doc_counter SET last_value = last_value - 1 WHERE series = {} AND last_value >= 1 "
                               "RETURNING last_value", key)
            return bool(rows)

    results = await asyncio.gather(*[take() for _ in range(20)])
    assert results.count(True) == 5
    assert (await fetch("SELECT last_value FROM doc_counter WHERE series = {}", key))[0]["last_value"] == 0


async def test_x03_audit_rows_cannot_be_changed_or_deleted():
    """X-03: UPDATE and DELETE on audit_event are refused by the database itself."""
    marker = unique("audit")
    async with write_transaction():
        await record(Actor(None, marker), "test.done", "thing", 1, before={"a": 1}, after={"a": 2})
    with pytest.raises(DB_REFUSED):
        async with write_transaction():
            await fetch("UPDATE audit_event SET action = 'forged' WHERE username = {}", marker)
    with pytest.raises(DB_REFUSED):
        async with write_transaction():
            await fetch("DELETE FROM audit_event WHERE username = {}", marker)
    rows = await fetch("SELECT action, before, after FROM audit_event WHERE username = {}", marker)
    assert len(rows) == 1 and rows[0]["action"] == "test.done"


async def test_audit_rolls_back_with_the_change():
    """The audit event is written in the same transaction: a failed change leaves no event."""
    marker = unique("audit")
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await record(Actor(None, marker), "test.failed")
            raise RuntimeError()
    assert not await fetch("SELECT 1 FROM audit_event WHERE username = {}", marker)


async def test_healthz_reports_503_when_database_unreachable(anon, monkeypatch):
    """GET /healthz → 503 when the database cannot be reached."""
    import app.core.db as db

    async def broken(*args, **kwargs):
        raise ConnectionError("database down")

    monkeypatch.setattr(db, "fetch", broken)
    response = await anon.get("/healthz")
    assert response.status_code == 503
    assert response.json() == {"status": "error", "db": "unreachable"}

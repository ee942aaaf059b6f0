"""app.core.rows: Piccolo query-builder inserts/updates — keyword columns checked against the Table class,
only the given columns written (the migrated defaults apply), values stored as raw SQL stored them, and the
caller's transaction joined (issue #10, item 8)."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.core.db import atomic, fetch, utcnow, write_transaction
from app.core.rows import UnknownColumn, insert, update
from app.core.tables import AppSetting, DocSeries
from app.customers.tables import Customer, ServiceOffice
from seed.factories import unique


async def _office() -> int:
    async with write_transaction():
        return await insert(ServiceOffice, returning=ServiceOffice.id, code=unique("O")[:20], name="测试网点")


async def test_insert_writes_only_given_columns_and_types_round_trip():
    office_id = await _office()
    at = dt.datetime(2026, 3, 1, 8, 30, tzinfo=dt.timezone.utc)
    async with write_transaction():
        cid = await insert(Customer, returning=Customer.id, name="甲公司", office_id=office_id,
                           distance_km=Decimal("12.5"), is_active=False, created_at=at, updated_at=at)
    row = (await fetch("SELECT * FROM customer WHERE id = {}", cid))[0]
    assert Decimal(str(row["distance_km"])) == Decimal("12.5")
    assert not row["is_active"]
    assert row["customer_class"] == "retail" and row["version"] == 1 and row["device_count"] == 0  # migrated defaults
    created = row["created_at"]
    assert (created if isinstance(created, dt.datetime) else dt.datetime.fromisoformat(str(created))) == at


async def test_insert_returning_several_columns_gives_a_dict():
    async with write_transaction():
        row = await insert(DocSeries, returning=(DocSeries.id, DocSeries.code), code=unique("s")[:40], prefix="T",
                           yearly=False)
    assert set(row) == {"id", "code"}
    stored = (await fetch("SELECT yearly, format FROM doc_series WHERE id = {}", row["id"]))[0]
    assert not stored["yearly"] and stored["format"] == "{prefix}-{year}-{n:06d}"


async def test_update_sets_given_columns_where_matched():
    office_id = await _office()
    async with write_transaction():
        cid = await insert(Customer, returning=Customer.id, name="乙", office_id=office_id)
        rows = await update(Customer, Customer.id == cid, returning=Customer.id, name="乙公司",
                            distance_km=Decimal("3.0"), is_active=False)
        none = await update(Customer, Customer.id == -1, returning=Customer.id, name="x")
    assert rows == [{"id": cid}] and none == []
    row = (await fetch("SELECT name, distance_km, is_active FROM customer WHERE id = {}", cid))[0]
    assert row["name"] == "乙公司" and Decimal(str(row["distance_km"])) == Decimal("3.0") and not row["is_active"]


async def test_unknown_keyword_is_refused_before_the_database():
    with pytest.raises(UnknownColumn, match="customer.*nmae"):
        await insert(Customer, nmae="x")
    with pytest.raises(UnknownColumn, match="nmae"):
        await update(Customer, Customer.id == 1, nmae="x")


@pytest.fixture(autouse=True)
async def _forget_scratch_settings():
    """These tests write scratch keys to app_setting; remove them (the architecture test fails on any stored key
    that no manifest registers)."""
    yield
    async with write_transaction():
        await fetch("DELETE FROM app_setting WHERE key LIKE {}", "k%")


async def test_json_value_is_stored_as_given_text():
    key = unique("k")
    async with write_transaction():
        await insert(AppSetting, key=key, value="42", updated_at=utcnow())
        await update(AppSetting, AppSetting.key == key, value='{"a": 1}')
    rows = await fetch("SELECT value FROM app_setting WHERE key = {}", key)
    assert str(rows[0]["value"]).replace(" ", "") == '{"a":1}'


async def test_query_builder_calls_join_the_write_transaction():
    key = unique("k")
    with pytest.raises(RuntimeError):
        async with write_transaction():
            await insert(AppSetting, key=key, value="1", updated_at=utcnow())
            assert await fetch("SELECT 1 FROM app_setting WHERE key = {}", key)  # visible inside
            raise RuntimeError("boom")
    assert not await fetch("SELECT 1 FROM app_setting WHERE key = {}", key)


async def test_query_builder_calls_roll_back_with_an_atomic_savepoint():
    key = unique("k")
    async with write_transaction():
        await insert(AppSetting, key=key, value="1", updated_at=utcnow())
        with pytest.raises(RuntimeError):
            async with atomic():
                await update(AppSetting, AppSetting.key == key, value="2")
                raise RuntimeError("boom")
    rows = await fetch("SELECT value FROM app_setting WHERE key = {}", key)
    assert str(rows[0]["value"]) == "1"

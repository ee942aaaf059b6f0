"""Keyset pagination at its edges (#15): a list of exactly one page has no "next"; one row more gives a next
page holding exactly that row; following the cursors shows every row once. Audit log, customers, devices,
loans and a part's movements — the lists issue #15 keeps off OFFSET and COUNT(*)."""

from __future__ import annotations

import pytest

from app.core.audit.services import Actor, AuditFilter, list_events, record
from app.core.db import fetch, write_transaction
from seed.factories import unique

PAGE = 3


async def _walk(fetch_page) -> list:
    """All ids by following the cursors; also checks each page's size."""
    seen, cursor, pages = [], None, 0
    while True:
        rows, cursor = await fetch_page(cursor)
        pages += 1
        assert len(rows) <= PAGE
        seen += [r["id"] for r in rows]
        if cursor is None:
            return seen
        assert len(rows) == PAGE and pages < 10


@pytest.mark.parametrize("n", [PAGE, PAGE + 1])
async def test_audit_keyset_page_size_exactly_and_one_more(n):
    username = unique("ks")
    async with write_transaction():
        for i in range(n):
            await record(Actor(None, username), "test.keyset", "widget", i)
    rows, cursor = await list_events(AuditFilter(username=username), limit=PAGE)
    assert len(rows) == PAGE and (cursor is None) == (n == PAGE)
    ids = await _walk(lambda c: list_events(AuditFilter(username=username), before_id=c, limit=PAGE))
    assert len(ids) == n == len(set(ids)) and ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("n", [PAGE, PAGE + 1])
async def test_customer_list_keyset_page_size_exactly_and_one_more(n):
    from app.customers import services as svc
    from seed.customers import make_customer, make_office

    office = await make_office()
    made = [await make_customer(office_id=office) for _ in range(n)]
    flt = svc.CustomerFilter(office_id=office)
    rows, cursor = await svc.list_customers(flt, limit=PAGE)
    assert len(rows) == PAGE and (cursor is None) == (n == PAGE)
    ids = await _walk(lambda c: svc.list_customers(flt, after=c, limit=PAGE))
    assert sorted(ids) == sorted(made)


@pytest.mark.parametrize("n", [PAGE, PAGE + 1])
async def test_device_list_keyset_page_size_exactly_and_one_more(n):
    from app.customers import services as svc
    from seed.customers import make_customer, make_device

    customer = await make_customer()
    made = [await make_device(customer) for _ in range(n)]
    flt = svc.DeviceFilter(customer_id=customer)
    rows, cursor = await svc.list_devices(flt, limit=PAGE)
    assert len(rows) == PAGE and (cursor is None) == (n == PAGE)
    ids = await _walk(lambda c: svc.list_devices(flt, before=c, limit=PAGE))
    assert ids == sorted(made, reverse=True)


@pytest.mark.parametrize("n", [PAGE, PAGE + 1])
async def test_part_movements_keyset_page_size_exactly_and_one_more(n):
    from app.parts import services
    from seed.parts import make_part, stock

    part = await make_part()
    for _ in range(n):
        await stock(part, "CENTRAL", 1)
    rows, cursor = await services.recent_moves(part_id=part, limit=PAGE)
    assert len(rows) == PAGE and (cursor is None) == (n == PAGE)
    ids = await _walk(lambda c: services.recent_moves(part_id=part, before_id=c, limit=PAGE))
    assert len(ids) == n == len(set(ids)) and ids == sorted(ids, reverse=True)


@pytest.mark.parametrize("n", [PAGE, PAGE + 1])
async def test_loan_list_keyset_page_size_exactly_and_one_more(n):
    from app.loaners import services as loans
    from tests.loaners.factories import checkout, keeper, make_customer, make_loaner

    actor = await keeper()
    customer = await make_customer(name=unique("借用客户"))
    name = (await fetch("SELECT name FROM customer WHERE id = {}", customer))[0]["name"]
    for _ in range(n):
        _part, _unit, serial = await make_loaner()
        await checkout(actor, serial, customer)
    rows, cursor = await loans.list_loans(status="", q=name, limit=PAGE)
    assert len(rows) == PAGE and (cursor is None) == (n == PAGE)
    ids = await _walk(lambda c: loans.list_loans(status="", q=name, before=c, limit=PAGE))
    assert len(ids) == n == len(set(ids)) and ids == sorted(ids, reverse=True)


async def test_list_pages_follow_the_cursor_over_http(login_as):
    """The rendered pages: page 1 links to the next keyset page, and that page ends the list."""
    from seed.customers import make_customer, make_device

    customer = await make_customer()
    for _ in range(51):
        await make_device(customer)
    import re

    def shown(text: str) -> int:
        return len(re.findall(r'href="/devices/\d+"', text))

    desk = await login_as("desk")
    first = await desk.get("/devices", params={"customer": customer})
    assert first.status_code == 200 and 'rel="next"' in first.text and shown(first.text) == 50

    nxt = re.search(r'rel="next" href="([^"]+)"', first.text).group(1).replace("&amp;", "&")
    second = await desk.get(nxt)
    assert second.status_code == 200 and 'rel="next"' not in second.text and shown(second.text) == 1

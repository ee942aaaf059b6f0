"""#12.10: an unknown serial gets the customer picker; the RMA is received for the customer on record (not a typed
name); a forged customer id is refused at the customer field and nothing is written."""

from __future__ import annotations

from app.core.db import fetch
from seed.factories import unique
from tests.customers.factories import make_customer


async def test_unknown_serial_received_for_a_picked_customer(login_as):
    customer_id = await make_customer()
    customer = (await fetch("SELECT name FROM customer WHERE id = {}", customer_id))[0]
    serial = unique("PICK").upper()
    bench = await login_as("bench")
    page = (await bench.get(f"/bench/receive?serial={serial}")).text
    assert 'id="f-customer-q"' in page and "/customers/pick" in page
    page = (await bench.get(f"/bench/receive?serial={serial}&customer_id={customer_id}")).text
    assert 'id="picked-customer"' in page and customer["name"] in page
    before = len(await fetch("SELECT id FROM rma"))
    bad = await bench.post_form("/bench/receive", {"serial": serial, "customer_id": "999999999", "customer_name": "x",
                                                   "fault_reported": "不开机"})
    assert bad.status_code == 400 and "请重新选择客户" in bad.text
    assert len(await fetch("SELECT id FROM rma")) == before
    ok = await bench.post_form("/bench/receive", {"serial": serial, "customer_id": str(customer_id),
                                                  "customer_name": customer["name"], "fault_reported": "不开机"})
    assert ok.status_code == 303, ok.text[:1500]
    rma = (await fetch("SELECT customer_id, customer_name FROM rma WHERE serial = {}", serial))[0]
    assert rma["customer_id"] == customer_id and rma["customer_name"] == customer["name"]

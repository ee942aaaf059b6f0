"""Factories for RMAs: a device (with customer) and an RMA walked to any stage through the services."""

from __future__ import annotations

import datetime as dt

from app.core.dates import today as business_today
from app.core.audit.services import Actor
from app.core.db import fetch, write_transaction
from app.rma import services as svc
from seed.factories import unique
from tests.customers.factories import make_customer, make_device

BENCH = Actor(user_id=None, username="bench-test", roles=frozenset({"bench", "qc"}))
DESK = Actor(user_id=None, username="desk-test", roles=frozenset({"desk"}))
FINANCE = Actor(user_id=None, username="finance-test", roles=frozenset({"finance"}))
MANAGER = Actor(user_id=None, username="manager-test", roles=frozenset({"manager"}))

PATH = ["inspected", "registered", "waiting", "repairing", "repaired", "burn_in", "ready_to_ship", "shipped",
        "delivered", "called_back", "closed"]


async def make_device_for_rma(*, in_warranty: bool = True, model: str | None = None) -> tuple[int, str]:
    customer_id = await make_customer()
    serial = unique("RMASN").upper()
    acceptance = business_today() - dt.timedelta(days=30 if in_warranty else 365 * 5)
    device_id = await make_device(customer_id, serial=serial, acceptance=acceptance, warranty_months=36,
                                  model=model or unique("MDL"))
    return device_id, serial


async def make_rma(status: str = "inspected", *, in_warranty: bool = True, appearance: str = "ok",
                   model: str | None = None, serial: str | None = None) -> int:
    if serial is None:
        _device, serial = await make_device_for_rma(in_warranty=in_warranty, model=model)
    rma_id, _number = await svc.receive(BENCH, svc.IntakeInput(
        serial=serial, fault_reported="不开机", appearance=appearance if status != "received" else "",
        customer_name="" if serial else "散客", accessories="电源", damage_call="已电话告知" if appearance == "damaged" else "",
        damage_cause="运输挤压" if appearance == "damaged" else ""))
    if status == "received":
        return rma_id
    for target in PATH[1:]:
        rma = await svc.get_rma(rma_id)
        if rma["status"] == status:
            break
        await advance(rma, target)
    return rma_id


async def advance(rma: dict, target: str) -> None:
    rid, v = rma["id"], rma["version"]
    if target == "registered":
        await svc.confirm(BENCH, rid, v)
    elif target == "waiting":
        await svc.qc(BENCH, rid, v, fault_code="NO-POWER", fault_confirmed="电源板损坏")
    elif target == "repairing":
        if not rma["in_warranty"]:
            await pay_quote(rid)
            v = (await svc.get_rma(rid))["version"]
        await svc.start_repair(BENCH, rid, v)
    elif target == "repaired":
        await svc.repaired(BENCH, rid, v, fault_found="更换电源板")
    elif target == "burn_in":
        await svc.start_burn_in(BENCH, rid, v)
    elif target == "ready_to_ship":
        await end_burn_in(rid)
        await svc.final_test(BENCH, rid, v, result="pass")
    elif target == "shipped":
        await svc.ship(BENCH, rid, v, carrier="顺丰", tracking_no=unique("SF"), customer_told_on=business_today().isoformat())
    elif target == "delivered":
        await svc.deliver(BENCH, rid, v, delivered_on=business_today().isoformat())
    elif target == "called_back":
        await svc.callback(DESK, rid, v, note="客户满意")
    elif target == "closed":
        await svc.close(DESK, rid, v)


async def end_burn_in(rma_id: int) -> None:
    """Pretend the burn-in started long enough ago."""
    async with write_transaction():
        await fetch("UPDATE rma SET burn_in_started_at = {} WHERE id = {}",
                    svc.utcnow() - dt.timedelta(hours=800), rma_id)


async def age_qc(rma_id: int, days: float) -> None:
    async with write_transaction():
        await fetch("UPDATE rma SET qc_at = {} WHERE id = {}", svc.utcnow() - dt.timedelta(days=days), rma_id)


async def pay_quote(rma_id: int, amount: str = "350.00") -> None:
    await svc.cost_quote(BENCH, rma_id, fault="主板烧毁", amount=amount)
    await svc.send_quote(DESK, rma_id)
    await svc.customer_decision(DESK, rma_id, accept=True)
    await svc.record_payment(FINANCE, rma_id, token=unique("tok"), amount=amount,
                             received_on=business_today().isoformat(), method="cash")

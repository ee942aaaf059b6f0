"""Factories for customers, contracts and devices (unique names per call)."""

from __future__ import annotations

import datetime as dt

from app.audit.services import SYSTEM
from app.customers import services as svc
from app.db import fetch, write_transaction
from seed.factories import unique


async def make_office() -> int:
    code = unique("OF")[:20]
    async with write_transaction():
        rows = await fetch("INSERT INTO service_office (code, name, city, address, phone, is_active) "
                           "VALUES ({}, {}, '', '', '', true) RETURNING id", code, f"网点{code}")
    return rows[0]["id"]


async def make_customer(name: str | None = None, *, office_id: int | None = None, customer_class: str = "retail",
                        phone: str = "", contacts: list[tuple[str, str]] | None = None, area: str = "city",
                        distance: str = "3.5") -> int:
    office_id = office_id or await make_office()
    data = svc.CustomerInput(
        name=name or unique("客户"), customer_class=customer_class, office_id=str(office_id), address="北京市海淀区",
        area=area, distance_km=distance, phone=phone,
        contacts=[svc.ContactInput(name=n, phone=p, role="") for n, p in (contacts or [])])
    return await svc.create_customer(SYSTEM, data)


async def make_contract(customer_id: int, contract_type: str = "annual", *, start: dt.date | None = None,
                        end: dt.date | None = None, warranty_months: int = 36, **extra) -> int:
    start = start or dt.date.today() - dt.timedelta(days=30)
    end = end or start + dt.timedelta(days=365)
    data = svc.ContractInput(contract_type=contract_type, start_date=start.isoformat(), end_date=end.isoformat(),
                             warranty_months=str(warranty_months), **{k: str(v) for k, v in extra.items()})
    return await svc.create_contract(SYSTEM, customer_id, data)


async def make_device(customer_id: int, *, serial: str | None = None, acceptance: dt.date | None = None,
                      contract_id: int | None = None, warranty_months: int | None = None, kind: str = "camera",
                      capacity: int | None = None, model: str = "DS-2CD3T46WDV3-I3") -> int:
    data = svc.DeviceInput(
        serial=serial or unique("SN").upper(), brand="海康威视", product_name="网络摄像机", model=model, system="cctv",
        kind=kind, capacity="" if capacity is None else str(capacity), customer_id=str(customer_id),
        contract_id=str(contract_id or ""), site="大门", install_date="",
        acceptance_date=acceptance.isoformat() if acceptance else "",
        warranty_months="" if warranty_months is None else str(warranty_months))
    return await svc.create_device(SYSTEM, data)

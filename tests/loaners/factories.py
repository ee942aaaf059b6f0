"""Factories for loaner tests: loaner units in the pool, customers, actors, loans."""

from __future__ import annotations

import datetime as dt

from app.core.audit.services import Actor
from app.loaners import services as loans
from app.parts import services as parts
from seed.factories import make_user, unique
from seed.parts import make_part, stock_unit
from tests.customers.factories import make_customer, make_device

__all__ = ["make_customer", "make_device", "make_loaner", "keeper", "desk", "checkout", "serial_of"]


async def keeper(username: str | None = None) -> Actor:
    name = username or unique("keeper")
    uid = await make_user("warehouse", username=name)
    return Actor(user_id=uid, username=name, roles=frozenset({"warehouse"}))


async def desk(username: str | None = None) -> Actor:
    name = username or unique("desk")
    uid = await make_user("desk", username=name)
    return Actor(user_id=uid, username=name, roles=frozenset({"desk"}))


async def make_loaner(part_id: int | None = None, *, model: str | None = None, location: str = "LOANER") -> tuple[int, int, str]:
    """(part_id, unit_id, serial): one serialised unit received into the loaner pool."""
    part_id = part_id or await make_part(serialised=True, model=model or unique("DS-7808N-"), category="device")
    unit_id = await stock_unit(part_id, location)
    unit = await parts.get_unit(unit_id)
    return part_id, unit_id, unit["serial"]


async def serial_of(unit_id: int) -> str:
    return (await parts.get_unit(unit_id))["serial"]


def future(days: int = 7) -> str:
    return (loans.today() + dt.timedelta(days=days)).isoformat()


async def checkout(actor: Actor, serial: str, customer_id: int, *, case_type: str = "ticket", case_id: str = "",
                   case_ref: str | None = None, reason: str = "", days: int = 7, token: str = "", **extra) -> int:
    data = loans.CheckoutInput(serial=serial, customer_id=str(customer_id), case_type=case_type, case_id=case_id,
                               case_ref=case_ref if case_ref is not None else unique("T-"), reason=reason,
                               expected_return=future(days), condition_out="外观完好，功能正常", token=token, **extra)
    return await loans.check_out(actor, data)

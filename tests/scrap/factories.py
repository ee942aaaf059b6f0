"""Factories for scrap tests: people with roles, stock in quarantine, records in each state."""

from __future__ import annotations

from decimal import Decimal

from app.core.actor import Actor
from app.scrap import services
from app.scrap.schemas import ConveneInput, DecisionInput, DisposeInput, OpinionInput, RaiseInput
from seed.factories import make_user, unique
from seed.parts import make_part, stock, stock_unit


async def person(*roles: str, name: str | None = None) -> Actor:
    username = unique("s")
    uid = await make_user(*roles, username=username, full_name=name or unique("张"))
    return Actor(user_id=uid, username=username, roles=frozenset(roles))


async def keeper() -> Actor:
    return await person("warehouse")


async def quarantined_unit(cost: str = "100.00", location: str = "QUARANTINE") -> tuple[int, int, str]:
    """(part_id, unit_id, serial): one serialised unit in `location` (quarantine by default)."""
    part_id = await make_part(serialised=True, cost=cost, category="device")
    unit_id = await stock_unit(part_id, location)
    from app.parts import api as parts

    return part_id, unit_id, (await parts.get_unit(unit_id))["serial"]


async def quarantined_qty(qty: int, cost: str = "10.00") -> tuple[int, str]:
    """(part_id, part_no): a bulk part with `qty` in quarantine."""
    part_id = await make_part(cost=cost)
    await stock(part_id, "QUARANTINE", qty)
    from app.parts import api as parts

    return part_id, (await parts.get_part(part_id))["part_no"]


async def raise_unit(actor: Actor, serial: str, **kw) -> int:
    data = RaiseInput(reason=kw.pop("reason", "repair_failed"), serial=serial, **kw)
    return await services.raise_request(actor, data)


async def version(rid: int) -> int:
    return int((await services.get_request(rid))["version"])


async def convened(actor: Actor | None = None, *, cost: str = "100.00", n: int = 2) -> tuple[int, Actor, list[Actor]]:
    """A record being appraised by `n` appraisers: (id, keeper, appraisers)."""
    actor = actor or await keeper()
    _p, _u, serial = await quarantined_unit(cost)
    rid = await raise_unit(actor, serial)
    group = [await person("bench") for _ in range(n)]
    await services.convene(actor, rid, ConveneInput(version=await version(rid), appraisers=[a.user_id for a in group]))
    return rid, actor, group


async def appraised(*, cost: str = "100.00") -> tuple[int, Actor, list[Actor]]:
    rid, k, group = await convened(cost=cost)
    for a in group:
        await services.give_opinion(a, rid, OpinionInput(opinion="scrap"))
    return rid, k, group


async def approved(*, cost: str = "100.00", gm: bool = False) -> tuple[int, Actor]:
    rid, k, _group = await appraised(cost=cost)
    manager = await person("manager")
    await services.decide(manager, rid, DecisionInput(version=await version(rid), decision="approve"), level="manager")
    if gm:
        boss = await person("gm")
        await services.decide(boss, rid, DecisionInput(version=await version(rid), decision="approve"), level="gm")
    return rid, k


def dispose_input(v: int, method: str = "destroy") -> DisposeInput:
    from app.core.dates import today

    return DisposeInput(version=v, method=method, disposed_on=today(), note="")


__all__ = ["Decimal", "person", "keeper", "quarantined_unit", "quarantined_qty", "raise_unit", "version", "convened",
           "appraised", "approved", "dispose_input"]

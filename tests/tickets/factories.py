"""Factories for ticket tests: desk / field actors, a customer with a device, tickets at each stage."""

from __future__ import annotations

import base64
import datetime as dt
import struct
import zlib

from app.core.actor import Actor
from app.core.db import fetch
from app.core.forms import parse_or_raise
from app.tickets import services
from app.tickets.schemas import CallForm, DispatchForm, FinishForm, IntakeForm, SignForm, StepForm
from seed.factories import make_user, unique
from tests.customers.factories import make_contract, make_customer, make_device  # noqa: F401

UTC = dt.timezone.utc
T0 = (dt.datetime.now(UTC) - dt.timedelta(days=2)).replace(minute=0, second=0, microsecond=0)  # frozen clock, near today (contracts are current)


async def person(*roles: str, name: str | None = None) -> Actor:
    username = unique("tk")
    uid = await make_user(*roles, username=username, full_name=name or unique("张"))
    return Actor(user_id=uid, username=username, roles=frozenset(roles), name=name or "")


async def desk() -> Actor:
    return await person("desk")


async def field() -> Actor:
    return await person("field")


def png() -> str:
    """A real 1×1 PNG as the canvas sends it."""
    raw = b"\x00\xff\xff\xff"
    def chunk(kind, data):
        return struct.pack(">I", len(data)) + kind + data + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF)
    data = (b"\x89PNG\r\n\x1a\n" + chunk(b"IHDR", struct.pack(">IIBBBBB", 1, 1, 8, 2, 0, 0, 0))
            + chunk(b"IDAT", zlib.compress(raw)) + chunk(b"IEND", b""))
    return "data:image/png;base64," + base64.b64encode(data).decode()


def intake(customer_id: int, **kw) -> IntakeForm:
    data = {"customer_id": str(customer_id), "channel": "phone", "contact_name": "王先生", "contact_phone": "13800000000",
            "requested_service": "3号摄像机无图像", "nature": "hardware", "category": "cctv", "impact": "partial"}
    data.update({k: str(v) for k, v in kw.items()})
    return parse_or_raise(IntakeForm, data)


async def new_ticket(actor: Actor | None = None, *, customer_id: int | None = None, now: dt.datetime = T0, **kw) -> int:
    actor = actor or await desk()
    customer_id = customer_id or await make_customer()
    return await services.create_ticket(actor, intake(customer_id, **kw), now=now)


async def version(ticket_id: int) -> int:
    return (await fetch("SELECT version FROM ticket WHERE id = {}", ticket_id))[0]["version"]


async def visit_of(ticket_id: int) -> dict:
    rows = await fetch("SELECT * FROM ticket_visit WHERE ticket_id = {} ORDER BY seq DESC LIMIT 1", ticket_id)
    return rows[0]


async def dispatched(tech: Actor | None = None, *, now: dt.datetime = T0, **kw) -> tuple[int, Actor, Actor]:
    """(ticket_id, desk, tech): a ticket assigned to a technician."""
    d = await desk()
    tech = tech or await field()
    tid = await new_ticket(d, now=now, **kw)
    form = parse_or_raise(DispatchForm, {"version": str(await version(tid)), "technician_id": str(tech.user_id),
                                         "spares": "电源适配器", "tools": "万用表"})
    await services.dispatch(d, tid, form, now=now + dt.timedelta(minutes=5))
    return tid, d, tech


def step(v: dict, at: dt.datetime | None = None) -> StepForm:
    return parse_or_raise(StepForm, {"version": str(v["version"]), "at": at.astimezone(UTC).isoformat() if at else ""})


async def on_site(*, now: dt.datetime = T0, **kw) -> tuple[int, Actor, Actor]:
    tid, d, tech = await dispatched(now=now, **kw)
    v = await visit_of(tid)
    await services.depart(tech, v["id"], step(v), now=now + dt.timedelta(minutes=10))
    v = await visit_of(tid)
    await services.arrive(tech, v["id"], step(v), now=now + dt.timedelta(minutes=60))
    return tid, d, tech


def finish_form(v: dict, **kw) -> FinishForm:
    data = {"version": str(v["version"]), "work_done": "更换电源适配器，图像恢复", "result": "done"}
    data.update(kw)
    return parse_or_raise(FinishForm, data)


def sign_form(v: dict, **kw) -> SignForm:
    data = {"version": str(v["version"]), "signer": "王先生", "satisfaction": "very", "accessories": "none",
            "signature": png()}
    data.update(kw)
    return parse_or_raise(SignForm, data)

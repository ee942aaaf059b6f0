"""Intake (R-RMA-01): a returned unit arrives at /bench/receive."""

from __future__ import annotations

import datetime as dt
import re
from dataclasses import dataclass
from typing import Any, Sequence

from app.core.actor import Actor
from app.core.audit.services import record
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError, fix
from app.core.i18n import _
from app.core.numbers import attach_entity, next_number
from app.core.permissions import require
from app.core.rows import insert
import app.customers.api as customers
from app.rma.services._common import APPEARANCE, BENCH_STATUSES, SERIAL_RE, _check_unbox, _clean
from app.rma.services._board import add_photo, check_photo
from app.rma.services._moves import _transition_row
from app.rma.tables import Rma

@dataclass
class IntakeInput:
    serial: str = ""
    model: str = ""
    product_name: str = ""
    customer_name: str = ""
    contact_phone: str = ""
    address: str = ""
    fault_reported: str = ""
    appearance: str = ""  # '' = not unboxed yet (stays "received")
    accessories: str = ""
    photos: str = ""
    damage_call: str = ""
    damage_cause: str = ""
    customer_id: str = ""  # #12.10: an unknown serial's customer, picked from the register
    ticket_number: str = ""  # the service ticket whose visit sent the unit here (#13)


TICKET_RE = re.compile(r"^[A-Z0-9][A-Z0-9_/-]{0,39}$")


# long: the intake form's lookups (device, customer, warranty) and checks before the one insert
async def receive(actor: Actor, data: IntakeInput, photos: Sequence[tuple[str, bytes]] = ()) -> tuple[int, str]:
    """/bench/receive: a returned unit arrives. The serial fills device, customer and warranty
    from the customers service; with the unboxing check filled the RMA starts as "inspected".
    A serial already in the building is refused with a link to its open RMA. `photos` (name, bytes) taken on
    the form (phone camera) are checked before anything is written and stored with the new RMA.

    Side effects: rma row (number RMA-…), transition rows, audit `rma.received`; per photo a file, an
    rma_photo row and audit `rma.photo_added`.
    """
    require(actor, "rma.receive")
    serial = re.sub(r"\s+", "", data.serial or "").upper()
    errors: dict[str, str] = {}
    if not serial:
        errors["serial"] = _("Scan or type the serial number.")
    elif not SERIAL_RE.match(serial):
        errors["serial"] = _("Letters, digits and - _ . / # : only, at most 80 characters.")
    device = await customers.lookup_device(serial) if serial and "serial" not in errors else None
    picked = None
    if device is None and data.customer_id.strip():
        picked = await customers.get_customer(int(data.customer_id)) if data.customer_id.strip().isdigit() \
            and len(data.customer_id.strip()) <= 9 else None
        if picked is None:
            errors["customer_name"] = _("Unknown customer: pick the customer again.")
    elif device is None and not data.customer_name.strip() and "serial" not in errors:
        errors["customer_name"] = _("Unknown serial: enter the customer.")
    if not data.fault_reported.strip():
        errors["fault_reported"] = _("Describe the fault the customer reported.")
    errors.update(_check_unbox(data.appearance, data.damage_call, data.damage_cause, required=False))
    for filename, content in photos:
        try:
            await check_photo(filename, content)
        except DomainError as exc:
            errors.setdefault("photo", f"{filename}: {exc.errors.get('photo', exc.message)}")
    ticket_number = (data.ticket_number or "").strip().upper()
    if ticket_number and not TICKET_RE.match(ticket_number):
        errors["ticket_number"] = _("Not a ticket number.")
    data.ticket_number = ticket_number
    if errors:
        raise fix(**errors)
    await _refuse_if_on_bench(serial)
    in_warranty, warranty_end, customer_id, office_id, region = True, None, None, None, ""
    model, product, name = data.model.strip(), data.product_name.strip(), data.customer_name.strip()
    phone, address = data.contact_phone.strip(), data.address.strip()
    if picked is not None:  # #12.10: the customer on record, not a typed name
        customer_id, office_id, region = picked["id"], picked.get("office_id"), picked.get("office_name") or ""
        name = picked.get("name") or name
        phone = phone or picked.get("phone") or next((c.get("phone") for c in picked.get("contacts") or [] if c.get("phone")), "")
        address = address or picked.get("address") or ""
    if device is not None:
        status = await customers.warranty_status(device_id=device["id"])
        if status is not None:
            in_warranty, warranty_end = status.in_warranty, status.end
        customer = await customers.get_customer(device["customer_id"]) or {}
        customer_id = device["customer_id"]
        office_id = customer.get("office_id")
        model = model or device.get("model") or ""
        product = product or device.get("product_name") or ""
        name = name or device.get("customer_name") or ""
        phone = phone or customer.get("phone") or ""
        address = address or customer.get("address") or ""
        region = customer.get("office_name") or ""
        contacts = customer.get("contacts") or []
        if not phone and contacts:
            phone = contacts[0].get("phone") or ""
    now = utcnow()
    appearance = data.appearance if data.appearance in APPEARANCE else ""
    status_now = "inspected" if appearance else "received"
    try:
        rma_id, number = await _insert_rma(actor, data, device, serial, status_now, appearance, in_warranty,
                                           warranty_end, customer_id, office_id, region, model, product, name, phone,
                                           address, now)
    except Exception as exc:  # the partial UNIQUE index: the same unit received twice at once
        text = str(exc)
        if "rma_one_open_per_serial" in text or "rma.serial" in text:  # PostgreSQL names the index, SQLite the column
            await _refuse_if_on_bench(serial)
            raise fix(serial=_("This unit is already on the bench.")) from exc
        raise
    for filename, content in photos:
        await add_photo(actor, rma_id, filename, content)
    return rma_id, number


async def _refuse_if_on_bench(serial: str) -> None:
    """One open RMA per unit in the building: the refusal names it and links to it (#12.10)."""
    rows = await fetch("SELECT id, number FROM rma WHERE serial = {} AND status IN ("
                       + ", ".join(f"'{s}'" for s in BENCH_STATUSES) + ") ORDER BY id DESC LIMIT 1", serial)
    if rows:
        message = _("This unit is already on the bench as %(number)s.", number=rows[0]["number"])
        raise DomainError(message, errors={"serial": message}, link=f"/bench/{rows[0]['id']}")


async def _insert_rma(actor: Actor, data: IntakeInput, device: dict | None, serial: str, status_now: str, appearance: str,
                      in_warranty: bool, warranty_end: Any, customer_id: Any, office_id: Any, region: str, model: str,
                      product: str, name: str, phone: str, address: str, now: dt.datetime) -> tuple[int, str]:
    async with write_transaction():
        number = await next_number("rma", entity_type="rma")
        rma_id = await insert(
            Rma, returning=Rma.id, number=number.formatted, status=status_now, version=2 if appearance else 1,
            device_id=device["id"] if device else None, customer_id=customer_id, office_id=office_id,
            region=region[:100], serial=serial, model=model[:100], product_name=product[:200],
            customer_name=name[:200], contact_phone=phone[:40], address=address[:300], in_warranty=in_warranty,
            warranty_end=warranty_end, fault_reported=_clean(data.fault_reported, 1000), appearance=appearance,
            accessories=_clean(data.accessories, 300), photos=_clean(data.photos, 500),
            damage_call=_clean(data.damage_call, 500), damage_cause=_clean(data.damage_cause, 500), received_at=now,
            moved_at=now, moved_by=actor.username, created_by=actor.user_id, created_at=now, updated_at=now,
            ticket_number=data.ticket_number or "")
        await attach_entity("rma", number.formatted, rma_id)
        await _transition_row(actor, rma_id, 1, "", "received", "receive", _clean(data.fault_reported, 1000), now)
        if appearance:
            await _transition_row(actor, rma_id, 2, "received", "inspected", "unbox",
                                  str(APPEARANCE[appearance]), now)
        await record(actor, "rma.received", "rma", rma_id,
                     after={"number": number.formatted, "serial": serial, "device_id": device["id"] if device else None,
                            "in_warranty": in_warranty, "status": status_now, "appearance": appearance,
                            "ticket_number": data.ticket_number or ""})
    return rma_id, number.formatted

"""R-CUS-07: ten days (setting `customers.renewal_days`) before a warranty or maintenance
contract ends, a written notice goes to the customer and a renewal visit is on the to-do list.

Contracts are listed one by one; device warranties are grouped per customer (one letter
covers all of a customer's devices ending in the window). "Notice sent" stores one
renewal_notice row per subject and end date, so a renewed contract (new end date) is
reminded again, and a second click changes nothing.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass

from app.core.audit.services import Actor, record
from app.core.dates import as_date, parse_date, today
from app.core.db import atomic, fetch, utcnow
from app.core.errors import DomainError, fix, not_found
from app.core.i18n import _
from app.core.settings import setting
from app.customers.services import NOTICE_METHODS


@dataclass
class Due:
    kind: str  # contract / devices
    customer_id: int
    customer_name: str
    end_date: dt.date
    last_end: dt.date
    contract_id: int | None = None
    contract_number: str = ""
    contract_type: str = ""
    device_count: int = 0
    sent_on: dt.date | None = None
    method: str = ""
    sent_by: str = ""

    @property
    def key(self) -> str:
        return f"contract-{self.contract_id}" if self.kind == "contract" else f"devices-{self.customer_id}"


async def due_renewals(on: dt.date | None = None, days: int | None = None, *, customer_id: int | None = None,
                       include_sent: bool = True, limit: int = 500) -> list[Due]:
    """Contracts (active, annual / in-warranty / per-visit / liaison) and device warranties
    ending between `on` and `on + days`, soonest first."""
    on = on or today()
    days = await setting("customers.renewal_days") if days is None else days
    until = on + dt.timedelta(days=days)
    cust_sql, cust_args = ("", [])
    if customer_id:
        cust_sql, cust_args = " AND k.customer_id = {}", [customer_id]
    contracts = await fetch(
        "SELECT k.id, k.number, k.contract_type, k.end_date, k.customer_id, c.name AS customer_name, "
        "n.sent_on, n.method, n.username AS sent_by "
        "FROM contract k JOIN customer c ON c.id = k.customer_id "
        "LEFT JOIN renewal_notice n ON n.subject_type = 'contract' AND n.subject_id = k.id AND n.end_date = k.end_date "
        "WHERE k.status = 'active' AND k.end_date >= {} AND k.end_date <= {}" + cust_sql +
        f" ORDER BY k.end_date, k.id LIMIT {int(limit)}", on, until, *cust_args)
    items = [Due(kind="contract", customer_id=r["customer_id"], customer_name=r["customer_name"],
                 end_date=as_date(r["end_date"]), last_end=as_date(r["end_date"]), contract_id=r["id"],
                 contract_number=r["number"], contract_type=r["contract_type"], sent_on=as_date(r["sent_on"]),
                 method=r["method"] or "", sent_by=r["sent_by"] or "") for r in contracts]
    dev_sql, dev_args = ("", [])
    if customer_id:
        dev_sql, dev_args = " AND d.customer_id = {}", [customer_id]
    devices = await fetch(
        "SELECT d.customer_id, c.name AS customer_name, COUNT(*) AS n, MIN(d.warranty_end) AS first_end, "
        "MAX(d.warranty_end) AS last_end, COUNT(n.id) AS noticed, MAX(n.sent_on) AS sent_on "
        "FROM device d JOIN customer c ON c.id = d.customer_id "
        "LEFT JOIN renewal_notice n ON n.subject_type = 'device' AND n.subject_id = d.id AND n.end_date = d.warranty_end "
        "WHERE d.warranty_end >= {} AND d.warranty_end <= {}" + dev_sql +
        f" GROUP BY d.customer_id, c.name ORDER BY MIN(d.warranty_end), d.customer_id LIMIT {int(limit)}",
        on, until, *dev_args)
    for r in devices:
        all_sent = int(r["noticed"]) >= int(r["n"])
        items.append(Due(kind="devices", customer_id=r["customer_id"], customer_name=r["customer_name"],
                         end_date=as_date(r["first_end"]), last_end=as_date(r["last_end"]), device_count=int(r["n"]),
                         sent_on=as_date(r["sent_on"]) if all_sent else None))
    if not include_sent:
        items = [i for i in items if i.sent_on is None]
    items.sort(key=lambda i: (i.end_date, i.customer_name, i.key))
    return items


async def mark_notice_sent(actor: Actor, *, kind: str, subject_id: int, sent_on: str | dt.date | None, method: str,
                           note: str = "", on: dt.date | None = None) -> int:
    """Record that the written notice went out (contract, or all of a customer's devices in the
    window). Returns the number of subjects newly marked; a repeat changes nothing.
    Side effects: renewal_notice rows; audit `renewal.notice_sent`."""
    errors = {}
    if method not in NOTICE_METHODS:
        errors["method"] = _("Choose how the notice was sent.")
    try:
        sent = parse_date(sent_on) or today()
    except ValueError:
        errors["sent_on"] = _("Enter a date (YYYY-MM-DD).")
        sent = None
    if sent and sent > today():
        errors["sent_on"] = _("The date cannot be in the future.")
    if errors:
        raise fix(**errors)
    note = (note or "").strip()[:500]
    on = on or today()
    async with atomic():
        if kind == "contract":
            rows = await fetch("SELECT id, customer_id, end_date FROM contract WHERE id = {}", subject_id)
            if not rows:
                raise not_found(_("No such contract."))
            subjects = [("contract", rows[0]["id"], rows[0]["customer_id"], as_date(rows[0]["end_date"]))]
            entity = ("contract", subject_id)
        elif kind == "devices":
            days = await setting("customers.renewal_days")
            rows = await fetch("SELECT id, customer_id, warranty_end FROM device WHERE customer_id = {} "
                               "AND warranty_end >= {} AND warranty_end <= {}", subject_id, on, on + dt.timedelta(days=days))
            subjects = [("device", r["id"], r["customer_id"], as_date(r["warranty_end"])) for r in rows]
            entity = ("customer", subject_id)
        else:
            raise DomainError(_("Unknown reminder."))
        marked = 0
        for subject_type, sid, customer_id, end_date in subjects:
            # raw-sql: ON CONFLICT DO NOTHING RETURNING marks each subject once, however often it is sent
            inserted = await fetch(
                "INSERT INTO renewal_notice (subject_type, subject_id, customer_id, end_date, sent_on, method, note, "
                "user_id, username, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}, {}) "
                "ON CONFLICT (subject_type, subject_id, end_date) DO NOTHING RETURNING id",
                subject_type, sid, customer_id, end_date, sent, method, note, actor.user_id, actor.username, utcnow())
            marked += len(inserted)
        if marked:
            await record(actor, "renewal.notice_sent", entity[0], entity[1],
                         after={"kind": kind, "subjects": marked, "sent_on": sent, "method": method, "note": note})
    return marked


async def letter_context(customer_id: int, on: dt.date | None = None) -> dict | None:
    """What the printable notice letter lists: the customer's contracts and devices ending soon."""
    from app.customers.services import get_customer

    customer = await get_customer(customer_id)
    if customer is None:
        return None
    on = on or today()
    days = await setting("customers.renewal_days")
    until = on + dt.timedelta(days=days)
    contracts = await fetch("SELECT * FROM contract WHERE customer_id = {} AND status = 'active' AND end_date >= {} "
                            "AND end_date <= {} ORDER BY end_date", customer_id, on, until)
    devices = await fetch("SELECT serial, brand, product_name, model, site, warranty_end FROM device WHERE customer_id = {} "
                          "AND warranty_end >= {} AND warranty_end <= {} ORDER BY warranty_end, serial LIMIT 300",
                          customer_id, on, until)
    return {"customer": customer, "contracts": contracts, "devices": devices, "on": on, "until": until, "days": days}


async def home_panel(user) -> dict | None:
    """Desk and manager home: reminders still without a notice (R-CUS-07)."""
    items = await due_renewals(include_sent=False, limit=50)
    return {"items": items[:6], "total": len(items), "days": await setting("customers.renewal_days")}

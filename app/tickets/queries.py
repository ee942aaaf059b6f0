"""SELECTs on the tickets domain's own tables (lists with keyset pagination, the ticket page, the
technician's day, the dispatch board). Read-only joins to the shared reference tables app_user
(names, never usernames on pages) and service_office (office names) only."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Any

from app.core.db import Where, fetch, utcnow

_TICKET_SELECT = (
    "SELECT t.*, u.full_name AS assignee_name, o.name AS office_name FROM ticket t "
    "LEFT JOIN app_user u ON u.id = t.assignee_id LEFT JOIN service_office o ON o.id = t.office_id")


# The list's columns only (not t.*: fewer values to convert per row at 50 rows a page)
_LIST_SELECT = (
    "SELECT t.id, t.number, t.customer_name, t.channel, t.status, t.paused_at, t.repeat_of, t.created_at, t.sla_due, "
    "t.respond_due, t.responded_at, t.depart_due, t.departed_at, t.onsite_due, t.arrived_at, t.fix_due, t.fixed_at, "
    "u.full_name AS assignee_name, o.name AS office_name FROM ticket t "
    "LEFT JOIN app_user u ON u.id = t.assignee_id LEFT JOIN service_office o ON o.id = t.office_id")


async def get_ticket(ticket_id: int) -> dict | None:
    rows = await fetch(_TICKET_SELECT + " WHERE t.id = {}", ticket_id)
    return rows[0] if rows else None


async def ticket_by_number(number: str) -> dict | None:
    rows = await fetch(_TICKET_SELECT + " WHERE t.number = {}", number.strip().upper())
    return rows[0] if rows else None


async def get_visit(visit_id: int) -> dict | None:
    rows = await fetch(
        "SELECT v.*, u.full_name AS technician_name, t.number AS ticket_number, t.status AS ticket_status, "
        "t.version AS ticket_version FROM ticket_visit v JOIN ticket t ON t.id = v.ticket_id "
        "LEFT JOIN app_user u ON u.id = v.technician_id WHERE v.id = {}", visit_id)
    return rows[0] if rows else None


async def visits_for(ticket_id: int) -> list[dict]:
    visits = await fetch(
        "SELECT v.*, u.full_name AS technician_name, u.phone AS technician_phone FROM ticket_visit v "
        "LEFT JOIN app_user u ON u.id = v.technician_id WHERE v.ticket_id = {} ORDER BY v.seq", ticket_id)
    parts = await fetch("SELECT * FROM ticket_visit_part WHERE ticket_id = {} ORDER BY id", ticket_id)
    for visit in visits:
        visit["parts"] = [p for p in parts if p["visit_id"] == visit["id"]]
    return visits


async def pauses_for(ticket_id: int) -> list[dict]:
    return await fetch(
        "SELECT p.*, a.full_name AS started_name, b.full_name AS ended_name FROM ticket_pause p "
        "LEFT JOIN app_user a ON a.id = p.started_by LEFT JOIN app_user b ON b.id = p.ended_by "
        "WHERE p.ticket_id = {} ORDER BY p.id", ticket_id)


async def breaches_for(ticket_id: int) -> list[dict]:
    return await fetch("SELECT * FROM ticket_breach WHERE ticket_id = {} ORDER BY breached_at", ticket_id)


@dataclass
class TicketFilter:
    view: str = "all"  # all / mine / unassigned / breaching / paused / signoff
    office_id: int | None = None
    technician_id: int | None = None
    status: str = ""
    customer_id: int | None = None
    channel: str = ""
    q: str = ""


VIEWS = ("all", "mine", "unassigned", "breaching", "paused", "signoff")


async def list_tickets(f: TicketFilter, *, user_id: int | None, before: int | None = None, limit: int = 50,
                       now: dt.datetime | None = None, warn_minutes: int = 30) -> tuple[list[dict], int | None]:
    """Newest first, keyset on id (never COUNT(*)); each filter matches an index (status, office+status,
    assignee+status, customer, channel, sla_due, paused_at)."""
    now = now or utcnow()
    where = Where()
    if f.view == "mine":
        where.add("t.assignee_id = {} AND t.status <> 'closed'", user_id or 0)
    elif f.view == "unassigned":
        where.add("t.status IN ('new', 'queued')")
    elif f.view == "breaching":
        # R-TKT-05 "breaching within 30 min": the deadline at most `warn_minutes` away (on the boundary: in)
        where.add("t.sla_due IS NOT NULL AND t.sla_due <= {} AND t.paused_at IS NULL", now + dt.timedelta(minutes=warn_minutes))
    elif f.view == "paused":
        where.add("t.paused_at IS NOT NULL")
    elif f.view == "signoff":
        where.add("t.id IN (SELECT ticket_id FROM ticket_visit WHERE status = 'finished')")
    where.eq("t.office_id", f.office_id).eq("t.assignee_id", f.technician_id).eq("t.status", f.status)
    where.eq("t.customer_id", f.customer_id).eq("t.channel", f.channel)
    if f.q:
        where.add("t.number = {}", f.q.strip().upper())
    if before:
        where.add("t.id < {}", before)
    return await where.page(_LIST_SELECT, "t.id", limit)


async def technicians(office_id: int | None = None, *, day: dt.date | None = None) -> list[dict]:
    """R-TKT-03: every active field technician with office, skills, open load and today's visits;
    those of `office_id` first."""
    users = await fetch(
        "SELECT u.id, u.full_name, u.phone, p.office_id, p.skills, p.resident, o.name AS office_name FROM app_user u "
        "LEFT JOIN tech_profile p ON p.user_id = u.id LEFT JOIN service_office o ON o.id = p.office_id "
        "WHERE u.is_active = true AND (' ' || u.roles || ' ') LIKE '% field %' ORDER BY o.name, u.full_name, u.id")
    if not users:
        return []
    ids = [u["id"] for u in users]
    marks = ", ".join(["{}"] * len(ids))
    load = {r["assignee_id"]: r["n"] for r in await fetch(
        f"SELECT assignee_id, COUNT(*) AS n FROM ticket WHERE assignee_id IN ({marks}) "
        "AND status IN ('assigned', 'on_way', 'on_site', 'not_done') GROUP BY assignee_id", *ids)}
    start, end = _day_bounds(day)
    # two index range reads (technician, status) and (technician, finished_at) instead of one OR over the history
    visits: dict[int, int] = {}
    for sql, args in ((f"SELECT technician_id, COUNT(*) AS n FROM ticket_visit WHERE technician_id IN ({marks}) "
                       "AND status IN ('planned', 'on_way', 'on_site') GROUP BY technician_id", ids),
                      (f"SELECT technician_id, COUNT(*) AS n FROM ticket_visit WHERE technician_id IN ({marks}) "
                       "AND finished_at >= {} AND finished_at < {} GROUP BY technician_id", [*ids, start, end])):
        for r in await fetch(sql, *args):
            visits[r["technician_id"]] = visits.get(r["technician_id"], 0) + int(r["n"])
    for u in users:
        u["load"] = int(load.get(u["id"], 0))
        u["visits_today"] = int(visits.get(u["id"], 0))
        u["skill_list"] = [s for s in (u["skills"] or "").split() if s]
        u["same_office"] = bool(office_id) and u["office_id"] == office_id
    # the customer's own office first, then the least loaded (R-TKT-03: "when their time fits")
    users.sort(key=lambda u: (not u["same_office"], u["load"] + u["visits_today"]))
    return users


def _day_bounds(day: dt.date | None) -> tuple[dt.datetime, dt.datetime]:
    from app.core.i18n import tz

    zone = tz()
    day = day or dt.datetime.now(zone).date()
    start = dt.datetime(day.year, day.month, day.day, tzinfo=zone).astimezone(dt.timezone.utc)
    return start, start + dt.timedelta(days=1)


async def my_day(user_id: int, day: dt.date | None = None) -> list[dict]:
    """R-TKT-06: the technician's visits still to do plus those finished today, with the customer's phone."""
    start, end = _day_bounds(day)
    select = ("SELECT v.id, v.ticket_id, v.seq, v.status, v.eta_at, t.number AS ticket_number, t.customer_name, "
              "t.contact_name, t.contact_phone, t.location, t.requested_service, t.status AS ticket_status "
              "FROM ticket_visit v JOIN ticket t ON t.id = v.ticket_id WHERE v.technician_id = {} ")
    # two index range reads (open ones; signed today) instead of an OR that scans the technician's whole history
    # the newest 100 open ones: a technician with a long tail of unsigned visits still sees today's dispatch
    rows = await fetch(select + "AND v.status IN ('planned', 'on_way', 'on_site', 'finished') ORDER BY v.id DESC LIMIT 100",
                       user_id)
    rows += await fetch(select + "AND v.signed_at >= {} AND v.signed_at < {} ORDER BY v.id LIMIT 50", user_id, start, end)
    order = {"on_site": 0, "on_way": 1, "planned": 2, "finished": 3}
    return sorted(rows, key=lambda v: (order.get(v["status"], 4), v["id"]))


async def board(office_id: int | None = None, day: dt.date | None = None) -> list[dict]:
    """The dispatch board: technicians by office with their open tickets."""
    techs = await technicians(office_id, day=day)
    if office_id:
        techs = [t for t in techs if t["same_office"]]
    if not techs:
        return []
    ids = [t["id"] for t in techs]
    marks = ", ".join(["{}"] * len(ids))
    open_rows = await fetch(
        f"SELECT id, number, customer_name, status, sla_due, paused_at, assignee_id FROM ticket WHERE assignee_id IN ({marks}) "
        "AND status IN ('assigned', 'on_way', 'on_site', 'not_done') ORDER BY id", *ids)
    since = utcnow() - dt.timedelta(days=30)
    breaches = await breach_counts(since)  # R-TKT-05: counted per technician (and office, below)
    stats = {r["technician_id"]: r for r in await technician_stats(since)}
    for t in techs:
        t["open"] = [r for r in open_rows if r["assignee_id"] == t["id"]][:20]
        t["breaches_30d"] = breaches.get(t["id"], 0)
        t["avg_score"] = stats.get(t["id"], {}).get("avg_score")
    return techs


async def tickets_for_customer(customer_id: int, limit: int = 10) -> list[dict]:
    return await fetch(_TICKET_SELECT + f" WHERE t.customer_id = {{}} ORDER BY t.id DESC LIMIT {int(limit)}", customer_id)


async def tickets_for_device(device_id: int, limit: int = 10) -> list[dict]:
    return await fetch(_TICKET_SELECT + f" WHERE t.device_id = {{}} ORDER BY t.id DESC LIMIT {int(limit)}", device_id)


async def technician_stats(since: dt.datetime) -> list[dict]:
    """R-TKT-05/08: breaches and average satisfaction per technician since `since`."""
    breaches = await fetch("SELECT technician_id, COUNT(*) AS n FROM ticket_breach WHERE breached_at >= {} "
                           "GROUP BY technician_id", since)
    scores = await fetch("SELECT technician_id, COUNT(*) AS signed, AVG(score) AS avg_score, "
                         "SUM(CASE WHEN satisfaction = 'very' THEN 1 ELSE 0 END) AS very FROM ticket_visit "
                         "WHERE signed_at >= {} GROUP BY technician_id", since)
    out: dict[Any, dict] = {}
    for r in breaches:
        out.setdefault(r["technician_id"], {"technician_id": r["technician_id"]})["breaches"] = int(r["n"])
    for r in scores:
        out.setdefault(r["technician_id"], {"technician_id": r["technician_id"]}).update(
            signed=int(r["signed"]), avg_score=float(r["avg_score"] or 0), very=int(r["very"] or 0))
    return list(out.values())


async def breach_counts(since: dt.datetime, by: str = "technician_id") -> dict:
    assert by in ("technician_id", "office_id")
    rows = await fetch(f"SELECT {by} AS k, COUNT(*) AS n FROM ticket_breach WHERE breached_at >= {{}} GROUP BY {by}", since)
    return {r["k"]: int(r["n"]) for r in rows}


async def technician_names() -> list[dict]:
    """Active field technicians for a filter list (no load figures: cheap on every list page)."""
    return await fetch("SELECT id, full_name FROM app_user WHERE is_active = true AND (' ' || roles || ' ') LIKE '% field %' "
                       "ORDER BY full_name, id")


async def office_keys(office_id: int | None) -> list[str]:
    """A service office's code, city and name: how a parts store names the office it serves."""
    if not office_id:
        return []
    rows = await fetch("SELECT code, city, name FROM service_office WHERE id = {}", office_id)
    return [v for v in (rows[0]["code"], rows[0]["city"], rows[0]["name"]) if v] if rows else []


async def offices() -> list[dict]:
    return await fetch("SELECT id, name FROM service_office WHERE is_active = true ORDER BY code")

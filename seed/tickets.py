"""Demo tickets (issue #13 §9): technician profiles (office, skills), tickets over two years across offices
and technicians with visits, sign-offs and satisfaction, pauses, breaches recorded at their deadline,
some breaching right now, some paused, some repeat repairs and some sent to the bench.

Deterministic (`random.Random(seed)`, faker zh_CN); idempotent (skips when the demo count is there);
numbers drawn from the real counters per year (doc_counter / doc_number stay gapless, X-02).
`python -m seed --scale N --steps tickets` adds N more tickets (the big list for bench/).
"""

from __future__ import annotations

import datetime as dt
import random
from typing import Any

from app.core.db import fetch, utcnow, write_transaction
from seed import bulk
from seed.factories import fake

DEMO = 20_000  # #13 item 9: two years of tickets across offices and technicians
CATEGORIES = ["cctv", "intrusion", "network", "telephone", "broadcast", "onecard", "other"]
NATURES = ["hardware", "software", "network", "operation", "environment", "request"]
CHANNELS = ["phone"] * 6 + ["fax", "email", "web", "onsite", "remote"]
FAULTS = ["NO-VIDEO", "HDD-FAIL", "PTZ-STUCK", "NO-POWER", "NET-DOWN", "ALARM-FALSE", "CARD-READER", "NO-SOUND"]
SERVICES = ["摄像机无图像", "录像机无法回放", "硬盘报警", "云台不能转动", "交换机掉线", "报警主机误报", "门禁刷卡无反应",
            "广播无声音", "电话分机不通", "考勤机不能上传"]
WORK = ["更换电源适配器，图像恢复", "重新熔接光纤，网络恢复", "更换硬盘并恢复录像计划", "清洁镜头，调整焦距",
        "重启设备并升级固件", "更换读卡器", "紧固接头，测试正常"]
SATISFACTION = [("very", 5)] * 14 + [("satisfied", 3)] * 4 + [("average", 2), ("unhappy", 0)]

TICKET_COLS = ["number", "status", "customer_id", "customer_name", "office_id", "device_id", "device_serial", "device_model",
               "channel", "contact_name", "contact_phone", "requested_service", "current_state", "nature", "category",
               "fault_code", "location", "impact", "tried", "entitlement", "billing", "area", "service_mode", "assignee_id",
               "dispatch_number", "spares", "tools", "dispatched_at", "respond_due", "responded_at", "depart_due",
               "departed_at", "onsite_due", "arrived_at", "fix_due", "fixed_at", "cannot_solve_at", "loaner_due", "sla_due",
               "paused_at", "pause_reason", "paused_seconds", "repeat_of", "result", "bench_ref", "closed_at", "version",
               "created_at", "updated_at"]


async def _bulk(table: str, columns: list[str], rows: list[list[Any]], returning: bool = False) -> list[dict]:
    out: list[dict] = []
    per = max(1, min(400, 30000 // len(columns)))
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        marks = "(" + ", ".join("{}" for _ in columns) + ")"
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(marks for _ in chunk)
        result = await fetch(sql + (" RETURNING id" if returning else ""), *[v for row in chunk for v in row])
        out += result if returning else []
    return out


async def _reserve(series: str, year: int, count: int) -> list[str]:
    """`count` numbers of `series` for `year` in one go — the rows next_number() writes. Inside a write tx."""
    spec = (await fetch("SELECT prefix, format, yearly FROM doc_series WHERE code = {}", series))[0]
    period = year if spec["yearly"] else 0
    await fetch("INSERT INTO doc_counter (series, period, last_value) VALUES ({}, {}, 0) "
                "ON CONFLICT (series, period) DO NOTHING", series, period)
    last = int((await fetch("UPDATE doc_counter SET last_value = last_value + {} WHERE series = {} AND period = {} "
                            "RETURNING last_value", count, series, period))[0]["last_value"])
    numbers = list(range(last - count + 1, last + 1))
    formatted = [spec["format"].format(prefix=spec["prefix"], year=year, n=n) for n in numbers]
    now = utcnow()
    await _bulk("doc_number", ["series", "period", "number", "formatted", "entity_type", "entity_id", "created_at"],
                [[series, period, n, f, "ticket", "", now] for n, f in zip(numbers, formatted)])
    return formatted


async def _profiles(rng: random.Random) -> list[dict]:
    techs = await fetch("SELECT id, full_name FROM app_user WHERE is_active = true AND (' ' || roles || ' ') LIKE '% field %' "
                        "ORDER BY id")
    offices = [r["id"] for r in await fetch("SELECT id FROM service_office WHERE is_active = true ORDER BY code")]
    for i, tech in enumerate(techs):
        skills = " ".join(sorted(rng.sample(CATEGORIES[:-1], 3)))
        await fetch("INSERT INTO tech_profile (user_id, office_id, skills, resident, version, updated_at) "
                    "VALUES ({}, {}, {}, {}, 1, {}) ON CONFLICT (user_id) DO NOTHING",
                    tech["id"], offices[i % len(offices)] if offices else None, skills, i % 7 == 6, utcnow())
    return await fetch("SELECT p.user_id, p.office_id FROM tech_profile p JOIN app_user u ON u.id = p.user_id "
                       "WHERE u.is_active = true ORDER BY p.user_id")


CHUNK = 50_000


async def seed_tickets(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    """Demo: up to 3,000 tickets. `--scale N`: N more, every creation time drawn first and sorted, so ids and
    the per-year FW/PG numbers follow the time; then built and loaded in chunks (seed.bulk)."""
    have = int((await fetch("SELECT COUNT(*) AS n FROM ticket"))[0]["n"])
    if not scale and have >= DEMO:
        return
    count = scale or DEMO - have
    customers = await fetch("SELECT id, name, office_id, area, phone FROM customer WHERE is_active = true ORDER BY id LIMIT 3000")
    if not customers:
        return
    devices: dict[int, list[dict]] = {}
    for d in await fetch("SELECT id, customer_id, serial, model, site FROM device ORDER BY id LIMIT 20000"):
        devices.setdefault(d["customer_id"], []).append(d)
    async with write_transaction():
        techs = await _profiles(rng)
    if not techs:
        return
    by_office: dict[Any, list[int]] = {}
    for t in techs:
        by_office.setdefault(t["office_id"], []).append(t["user_id"])
    now = utcnow().replace(second=0, microsecond=0)
    plans = []
    for _i in range(count):
        age = dt.timedelta(minutes=int(rng.random() ** 2 * 730 * 24 * 60)) if rng.random() > 0.02 else dt.timedelta(
            minutes=rng.randint(0, 240))
        plans.append(now - age)
    plans.sort()
    names = [fake.name() for _ in range(2000)]  # Faker once; rows draw from the pools
    phones = [fake.phone_number() for _ in range(2000)]
    meter = bulk.Meter("tickets (ticket, visit, breach, pause)", quiet)
    for start in range(0, count, CHUNK):
        await _chunk(rng, plans[start:start + CHUNK], customers, devices, techs, by_office, now, names, phones, meter)
    seconds = meter.done()
    if not quiet and not scale:
        print(f"demo tickets: {meter.counts.get('ticket', 0)} tickets, {meter.counts.get('ticket_visit', 0)} visits, "
              f"{meter.counts.get('ticket_breach', 0)} breaches ({seconds:.1f} s)")


async def _chunk(rng: random.Random, plans: list[dt.datetime], customers: list[dict], devices: dict[int, list[dict]],
                 techs: list[dict], by_office: dict[Any, list[int]], now: dt.datetime, names: list[str], phones: list[str],
                 meter: bulk.Meter) -> None:
    rand = rng.random

    def pick(seq):  # rng.choice without its per-call overhead (~14 draws a ticket)
        return seq[int(rand() * len(seq))]

    seen_faults: dict[tuple[int, str], int] = {}
    rows, visits_plan = [], []
    per_year: dict[int, int] = {}
    for created in plans:
        per_year[created.year] = per_year.get(created.year, 0) + 1
    async with write_transaction():
        first_id = await bulk.reserve_ids("ticket", len(plans))
        numbers = bulk.Numbers("service_slip", "ticket")
        dispatch_numbers = bulk.Numbers("dispatch", "ticket")
        await numbers.reserve(per_year)
        await dispatch_numbers.reserve(per_year)
        for created in plans:
            c = pick(customers)
            devs = devices.get(c["id"]) or []
            dev = pick(devs) if devs and rng.random() < 0.8 else None
            fault = pick(FAULTS) if dev else ""
            office_techs = by_office.get(c["office_id"]) or [t["user_id"] for t in techs]
            tech = pick(office_techs)
            area = c["area"]
            onsite_h = 12 if area == "suburb" else 2
            age_h = (now - created).total_seconds() / 3600
            # recent tickets are still open, in every state; older ones are closed
            if age_h > 72:
                status = "closed"
            else:
                status = pick(["new", "queued", "assigned", "assigned", "on_way", "on_site", "done", "not_done",
                                     "signed"])
            mode = "resident" if rng.random() < 0.05 else "mobile"
            respond_due = created + dt.timedelta(hours=1)
            onsite_due = created + (dt.timedelta(minutes=5) if mode == "resident" else dt.timedelta(hours=onsite_h))
            late = rng.random() < 0.12
            responded = created + dt.timedelta(minutes=rng.randint(3, 50)) if status != "new" else None
            dispatched = responded if status not in ("new", "queued") else None
            departed = dispatched + dt.timedelta(minutes=rng.randint(2, 25)) if dispatched and status not in ("assigned",) else None
            arrive_delay = dt.timedelta(minutes=rng.randint(20, 100)) + (dt.timedelta(hours=onsite_h + 1) if late else dt.timedelta(0))
            arrived = departed + arrive_delay if departed and status not in ("on_way",) else None
            if arrived and arrived > now:
                arrived = None
                status = "on_way" if status not in ("new", "queued", "assigned") else status
            fixed = cannot = None
            result = ""
            if arrived and status in ("done", "not_done", "signed", "closed"):
                finish = arrived + dt.timedelta(minutes=rng.randint(20, 200))
                if finish > now:
                    finish = now
                if status == "not_done" or (status == "closed" and rng.random() < 0.08):
                    result = pick(["return_repair", "replacement", "recontact"])
                    cannot = finish if result != "recontact" else None
                else:
                    result, fixed = "done", finish
            paused_at, reason, paused_s = None, "", 0
            if status in ("new", "queued", "assigned", "on_way", "on_site") and rng.random() < 0.1:
                paused_at, reason = now - dt.timedelta(minutes=rng.randint(5, 300)), pick(["customer", "parts"])
            fix_due = arrived + dt.timedelta(hours=2) if arrived else None
            dues = [d for d, met in ((respond_due, responded), (onsite_due, arrived), (fix_due, fixed)) if d and not met]
            sla_due = min(dues) if dues and status in ("new", "queued", "assigned", "on_way", "on_site") else None
            tid = first_id + len(rows)
            first = seen_faults.get((dev["id"], fault)) if dev and fault else None
            repeat_of = first_id + first if first is not None else None  # the first ticket of this fault (R-TKT-09)
            number = numbers.take(created.year, tid)
            rows.append([
                number, status, c["id"], c["name"], c["office_id"], dev["id"] if dev else None,
                dev["serial"] if dev else "", dev["model"] if dev else "", pick(CHANNELS), names[int(rng.random() * len(names))],
                c["phone"] or phones[int(rng.random() * len(phones))], pick(SERVICES), "", pick(NATURES), pick(CATEGORIES),
                fault, (dev or {}).get("site") or "", pick(["stopped", "partial", "partial", "minor"]), "",
                pick(["warranty", "annual", "per_visit", "none"]), pick(["free", "contract", "chargeable"]),
                area, mode, tech if dispatched else None, dispatch_numbers.take(created.year, tid) if dispatched else None,
                "", "", dispatched, respond_due, responded, dispatched + dt.timedelta(minutes=10) if dispatched else None,
                departed, onsite_due, arrived, fix_due, fixed, cannot,
                cannot + dt.timedelta(hours=72) if cannot else None, sla_due, paused_at, reason, paused_s, repeat_of,
                result, "BENCH" if result == "return_repair" else "",
                (fixed or cannot or arrived or created) + dt.timedelta(hours=2) if status == "closed" else None, 3,
                created, created])
            visits_plan.append((status, tech, departed, arrived, fixed or cannot, result))
            if dev and fault:
                seen_faults.setdefault((dev["id"], fault), len(rows) - 1)
        visit_rows, breach_rows, pause_rows = [], [], []
        for tid, row, (status, tech, departed, arrived, finished, result) in zip(
                range(first_id, first_id + len(rows)), rows, visits_plan):
            if row[TICKET_COLS.index("assignee_id")] is None:
                continue
            if status == "closed" and finished is None and arrived is not None:
                finished = arrived + dt.timedelta(hours=1)  # a closed ticket's visit ended and was signed
            signed = status in ("signed", "closed") and finished is not None
            vstatus = ("signed" if signed else "finished" if finished else "on_site" if arrived else
                       "on_way" if departed else "planned")
            sat, score = pick(SATISFACTION) if signed else ("", None)
            visit_rows.append([tid, 1, vstatus, tech, departed, arrived, finished, pick(WORK) if finished else "",
                               result, sat, score, "speed" if sat == "unhappy" else "", "好" if signed else "",
                               pick(["yes", "no", "none"]) if signed else "", row[TICKET_COLS.index("contact_name")]
                               if signed else "", finished + dt.timedelta(minutes=5) if signed else None, 2,
                               row[-2], row[-2]])
            onsite_due, arrived_at = row[TICKET_COLS.index("onsite_due")], row[TICKET_COLS.index("arrived_at")]
            if arrived_at and arrived_at > onsite_due:
                breach_rows.append([tid, "onsite", onsite_due, tech, row[4], arrived_at])
            elif not arrived_at and status in ("assigned", "on_way", "new", "queued") and onsite_due < now \
                    and row[TICKET_COLS.index("paused_at")] is None:
                breach_rows.append([tid, "onsite", onsite_due, tech, row[4], now])
            if status == "closed" and rng.random() < 0.06:
                start = row[-2] + dt.timedelta(minutes=30)
                pause_rows.append([tid, pick(["customer", "parts"]), "", start, tech, start + dt.timedelta(hours=2), tech])
            if row[TICKET_COLS.index("paused_at")] is not None:
                pause_rows.append([tid, row[TICKET_COLS.index("pause_reason")], "", row[TICKET_COLS.index("paused_at")],
                                   tech, None, None])
        meter.add("ticket", await bulk.insert("ticket", ["id", *TICKET_COLS],
                                              [[first_id + k, *row] for k, row in enumerate(rows)]))
        meter.add("doc_number", len(numbers.rows) + len(dispatch_numbers.rows))
        await numbers.flush()
        await dispatch_numbers.flush()
        meter.add("ticket_visit", await bulk.insert("ticket_visit", [
            "ticket_id", "seq", "status", "technician_id", "departed_at", "arrived_at", "finished_at", "work_done", "result",
            "satisfaction", "score", "unhappy_reason", "comment", "accessories", "signer", "signed_at", "version",
            "created_at", "updated_at"], visit_rows))
        meter.add("ticket_breach", await bulk.insert(
            "ticket_breach", ["ticket_id", "clock", "breached_at", "technician_id", "office_id", "noticed_at"], breach_rows))
        meter.add("ticket_pause", await bulk.insert(
            "ticket_pause", ["ticket_id", "reason", "note", "started_at", "started_by", "ended_at", "ended_by"], pause_rows))

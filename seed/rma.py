"""Return-repair demo data (issue #5).

Demo (scale 0): 3,000 RMAs over the last year across every stage and age — most closed
(history for the monthly report), a few hundred open on the board — linked to seeded
devices and customers when the customers step has run (else made-up serials and names),
with transition rows, exception slips, quotes, parts used (suppliers for the report),
callbacks and a few replacement applications.
`--scale N`: N more RMAs (capped at 10,000), topping the board up to 500 open units — the
benchmark's board. Bulk multi-row INSERTs; document numbers drawn in blocks (gapless).
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from typing import Any

from tqdm import tqdm

from app.core.db import fetch, utcnow, write_transaction
from seed.factories import fake

DEMO_TOTAL = 3000
DEMO_OPEN = 400
BOARD_OPEN = 500
SCALE_CAP = 10_000  # demo 3,000 + 10,000 = the 13k RMAs of the benchmark (#15)
BATCH = 200

OPEN_WEIGHTS = [("received", 4), ("inspected", 4), ("registered", 6), ("waiting", 14), ("repairing", 16),
                ("repaired", 6), ("burn_in", 10), ("ready_to_ship", 8), ("shipped", 10), ("delivered", 8),
                ("called_back", 4)]
PATH = ["received", "inspected", "registered", "waiting", "repairing", "repaired", "burn_in", "ready_to_ship",
        "shipped", "delivered", "called_back", "closed"]
ACTION_OF = {"received": "receive", "inspected": "unbox", "registered": "confirm", "waiting": "qc", "repairing": "start",
             "repaired": "repaired", "burn_in": "burn-in", "ready_to_ship": "final-test", "shipped": "ship",
             "delivered": "deliver", "called_back": "callback", "closed": "close"}
FAULTS = [("NO-POWER", "不开机，电源指示灯不亮"), ("NO-VIDEO", "无视频输出"), ("REBOOT", "反复重启"),
          ("HDD-ERR", "硬盘报错，无法录像"), ("NET-DOWN", "网口不通"), ("IR-FAIL", "夜视红外失效"),
          ("PTZ-STUCK", "云台不转"), ("KEYPAD", "键盘无响应"), ("FAN", "风扇异响"), ("ALARM-FALSE", "频繁误报")]
FIXES = ["更换电源板", "更换主板电容", "重新刷写固件", "更换硬盘", "更换网口模块", "更换红外灯板", "更换云台电机",
         "清洁并更换风扇", "调整灵敏度并更换探头", "重焊虚焊点"]
REGIONS = ["北京总部", "上海办事处", "广州办事处", "深圳办事处", "成都办事处", "武汉办事处", "西安办事处", "南京办事处"]
MODELS = [("网络摄像机", "DS-2CD3T46"), ("硬盘录像机", "DS-7808N-K2"), ("报警主机", "DS-19A08"), ("交换机", "S1720-28GWR"),
          ("门禁控制器", "DS-K2604"), ("球型摄像机", "DS-2DE4425")]
CARRIERS = ["顺丰速运", "中通快递", "圆通速递", "EMS", "德邦物流", "自送"]

RMA_COLS = ["number", "status", "version", "device_id", "customer_id", "office_id", "region", "serial", "model",
            "product_name", "customer_name", "contact_phone", "address", "in_warranty", "warranty_end", "fault_reported",
            "appearance", "accessories", "photos", "damage_call", "damage_cause", "confirm_note", "fault_code",
            "fault_found", "exception_number", "technician_id", "technician_name", "burn_in_hours", "burn_in_started_at",
            "rework_count", "outcome", "carrier", "tracking_no", "customer_told_on", "delivered_on", "received_at", "qc_at",
            "repaired_at", "completed_at", "shipped_at", "closed_at", "moved_at", "moved_by", "created_at", "updated_at"]


async def _numbers(series: str, count_by_year: dict[int, int]) -> dict[int, list[str]]:
    """Draw `count` gapless numbers per year in one block (inside the caller's transaction)."""
    spec = (await fetch("SELECT prefix, format, yearly FROM doc_series WHERE code = {}", series))[0]
    out: dict[int, list[str]] = {}
    now = utcnow()
    for year, count in sorted(count_by_year.items()):
        if count <= 0:
            continue
        period = year if spec["yearly"] else 0
        await fetch("INSERT INTO doc_counter (series, period, last_value) VALUES ({}, {}, 0) "
                    "ON CONFLICT (series, period) DO NOTHING", series, period)
        top = int((await fetch("UPDATE doc_counter SET last_value = last_value + {} WHERE series = {} AND period = {} "
                               "RETURNING last_value", count, series, period))[0]["last_value"])
        numbers = [spec["format"].format(prefix=spec["prefix"], year=year, n=n) for n in range(top - count + 1, top + 1)]
        for start in range(0, len(numbers), 500):
            chunk = numbers[start:start + 500]
            values, args = [], []
            for i, formatted in enumerate(chunk):
                values.append("({}, {}, {}, {}, 'rma', '', {})")
                args += [series, period, top - count + 1 + start + i, formatted, now]
            await fetch("INSERT INTO doc_number (series, period, number, formatted, entity_type, entity_id, created_at) "
                        "VALUES " + ", ".join(values), *args)
        out[year] = numbers
    return out


async def _insert(table: str, cols: list[str], rows: list[dict], returning: str = "") -> list[dict]:
    if not rows:
        return []
    values, args = [], []
    for row in rows:
        values.append("(" + ", ".join("{}" for _c in cols) + ")")
        args += [row.get(c) for c in cols]
    sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES " + ", ".join(values)
    if returning:
        sql += f" RETURNING {returning}"
    return await fetch(sql, *args)


async def _devices(limit: int) -> list[dict]:
    try:
        return await fetch(
            "SELECT d.id, d.serial, d.model, d.product_name, d.customer_id, d.warranty_end, c.name AS customer_name, "
            "c.phone, c.address, c.office_id, o.name AS office_name FROM device d JOIN customer c ON c.id = d.customer_id "
            f"LEFT JOIN service_office o ON o.id = c.office_id ORDER BY d.id LIMIT {int(limit)}")
    except Exception:  # noqa: BLE001 - the customers step may not exist in this build
        return []


def _plan(rng: random.Random, total: int, open_count: int) -> list[str]:
    stages, weights = zip(*OPEN_WEIGHTS)
    plan = list(rng.choices(stages, weights=weights, k=open_count)) + ["closed"] * (total - open_count)
    rng.shuffle(plan)
    return plan


async def _make(rng: random.Random, total: int, open_count: int, quiet: bool, label: str) -> None:
    now = utcnow()
    techs = await fetch("SELECT id, username FROM app_user WHERE roles LIKE '%bench%' ORDER BY id")
    techs = techs or [{"id": None, "username": "bench"}]
    parts = await fetch("SELECT id FROM part WHERE category IN ('part', 'consumable') ORDER BY id LIMIT 300")
    busy = {r["serial"] for r in await fetch("SELECT serial FROM rma WHERE status <> 'closed'")}
    devices = [d for d in await _devices(max(total * 2, 2000)) if d["serial"] not in busy]
    rng.shuffle(devices)
    plan = _plan(rng, total, open_count)
    bar = tqdm(total=total, desc=label, unit="rma", disable=quiet, file=sys.stderr)
    serial_n = int((await fetch("SELECT COUNT(*) AS n FROM rma"))[0]["n"])
    device_i = 0
    for start in range(0, total, BATCH):
        stages = plan[start:start + BATCH]
        rows: list[dict] = []
        for stage in stages:
            if stage == "closed":
                received = now - dt.timedelta(days=rng.uniform(8, 365))
            else:
                idx = PATH.index(stage)
                received = now - dt.timedelta(days=rng.uniform(0.05, 0.6 + idx * 1.1) + idx * 0.3)
            device = None
            if devices and (stage != "closed" or rng.random() < 0.8):
                device = devices[device_i % len(devices)]
                device_i += 1
                if stage != "closed" and device["serial"] in busy:
                    device = None
                elif stage != "closed":
                    busy.add(device["serial"])
            serial_n += 1
            rows.append(_row(rng, stage, received, device, techs, serial_n, now, late=_late(stage, serial_n)))
        async with write_transaction():
            by_year: dict[int, int] = {}
            for row in rows:
                by_year[row["received_at"].year] = by_year.get(row["received_at"].year, 0) + 1
            numbers = await _numbers("rma", by_year)
            used = {year: 0 for year in numbers}
            for row in rows:
                year = row["received_at"].year
                row["number"] = numbers[year][used[year]]
                used[year] += 1
            qc_rows = [r for r in rows if r["qc_at"] is not None]
            qc_by_year: dict[int, int] = {}
            for row in qc_rows:
                qc_by_year[row["qc_at"].year] = qc_by_year.get(row["qc_at"].year, 0) + 1
            exc_numbers = await _numbers("exception", qc_by_year)
            used = {year: 0 for year in exc_numbers}
            for row in qc_rows:
                year = row["qc_at"].year
                row["exception_number"] = exc_numbers[year][used[year]]
                used[year] += 1
            inserted = await _insert("rma", RMA_COLS, rows, returning="id, number")
            ids = {r["number"]: r["id"] for r in inserted}
            batch_numbers = [r["number"] for r in rows]
            await fetch("UPDATE doc_number SET entity_id = (SELECT CAST(rma.id AS VARCHAR) FROM rma WHERE rma.number = "
                        "doc_number.formatted) WHERE series = 'rma' AND formatted IN ("
                        + ", ".join("{}" for _n in batch_numbers) + ")", *batch_numbers)
            transitions, slips, uses, callbacks, quotes = [], [], [], [], []
            for row in rows:
                rid = ids[row["number"]]
                transitions += _transitions(rid, row)
                if row["exception_number"]:
                    slips.append({"rma_id": rid, "number": row["exception_number"], "fault_code": row["fault_code"],
                                  "fault_confirmed": row["fault_reported"], "test_note": "通电测试复现故障",
                                  "unresolvable": False, "user_id": row["_qc_user"], "username": row["_qc_name"],
                                  "created_at": row["qc_at"]})
                if row["outcome"] == "repaired" and parts and rng.random() < 0.6:
                    for _k in range(rng.choice([1, 1, 2])):
                        uses.append({"rma_id": rid, "part_id": rng.choice(parts)["id"], "qty": rng.choice([1, 1, 2]),
                                     "serial": "", "move_id": None, "username": row["technician_name"],
                                     "created_at": row["repaired_at"]})
                if row["shipped_at"] is not None:
                    done = row["status"] in ("called_back", "closed")
                    callbacks.append({"rma_id": rid, "due_at": row["shipped_at"] + dt.timedelta(hours=24),
                                      "status": "done" if done else "open", "note": "客户确认设备正常" if done else "",
                                      "done_by": "desk" if done else "", "created_at": row["shipped_at"],
                                      "done_at": row["shipped_at"] + dt.timedelta(days=2) if done else None})
                if not row["in_warranty"] and row["status"] == "waiting":
                    status = rng.choice(["costed", "quoted", "declined"])
                    quotes.append({"rma_id": rid, "status": status, "fault": row["fault_reported"],
                                   "amount_fen": rng.choice([15000, 28000, 35000, 48000, 80000]), "costed_by": row["_qc_name"],
                                   "costed_at": row["qc_at"], "quoted_by": "desk" if status != "costed" else "",
                                   "quoted_at": row["qc_at"] + dt.timedelta(hours=3) if status != "costed" else None,
                                   "decided_by": "desk" if status == "declined" else "",
                                   "decided_at": row["qc_at"] + dt.timedelta(hours=20) if status == "declined" else None,
                                   "version": 1})
            for chunk in range(0, len(transitions), 500):
                await _insert("rma_transition", ["rma_id", "version", "from_status", "to_status", "action", "note", "user_id",
                                                 "username", "created_at"], transitions[chunk:chunk + 500])
            await _insert("rma_exception_slip", ["rma_id", "number", "fault_code", "fault_confirmed", "test_note",
                                                 "unresolvable", "user_id", "username", "created_at"], slips)
            for chunk in range(0, len(uses), 500):
                await _insert("rma_part_use", ["rma_id", "part_id", "qty", "serial", "move_id", "username", "created_at"],
                              uses[chunk:chunk + 500])
            await _insert("rma_callback", ["rma_id", "due_at", "status", "note", "done_by", "done_at", "created_at"],
                          callbacks)
            await _insert("rma_quote", ["rma_id", "status", "fault", "amount_fen", "costed_by", "costed_at", "quoted_by",
                                        "quoted_at", "decided_by", "decided_at", "version"], quotes)
        bar.update(len(rows))
    bar.close()


# #12.3: some open units sit past their rule's window, so /bench/overdue and /bench/replacements are not empty.
# Which ones and how late follow the running number (not the shared rng, so the other demo data stay the same).
LATE_ANCHOR = {"waiting": "waiting", "repairing": "waiting", "ready_to_ship": "ready_to_ship"}


def _late(stage: str, n: int) -> float | None:
    """Days past the stage's anchor (QC for R-RMA-03, completion for R-RMA-06) for every 4th such unit, else None."""
    if stage not in LATE_ANCHOR or n % 4:
        return None
    return (3.1 + (n // 4) % 9 * 0.4) if LATE_ANCHOR[stage] == "waiting" else (2.1 + (n // 4) % 7 * 0.3)


def _row(rng: random.Random, stage: str, received: dt.datetime, device: dict | None, techs: list[dict], n: int,
         now: dt.datetime, late: float | None = None) -> dict:
    idx = PATH.index(stage)
    fault_code, fault_text = rng.choice(FAULTS)
    tech = rng.choice(techs)
    qc_tech = rng.choice(techs)
    if device:
        product, model = device["product_name"], device["model"]
        serial = device["serial"]
        name, phone, address = device["customer_name"], device["phone"] or fake.phone_number(), device["address"]
        region = device["office_name"] or ""
        warranty_end = device["warranty_end"]
        if isinstance(warranty_end, str):
            warranty_end = dt.date.fromisoformat(warranty_end[:10])
        in_warranty = warranty_end is None or warranty_end >= received.date()
    else:
        product, model = rng.choice(MODELS)
        serial = f"SH{received:%y%m}{n:07d}"
        name, phone, address = fake.company(), fake.phone_number(), fake.address()
        region = rng.choice(REGIONS)
        warranty_end = None
        in_warranty = rng.random() < 0.8
    appearance = "" if idx == 0 else ("damaged" if rng.random() < 0.08 else "ok")
    # times along the path, never in the future
    span = (now - received).total_seconds()
    t = [received]
    steps = [0.02, 0.05, 0.15, 0.25, 0.45, 0.5, 0.62, 0.7, 0.8, 0.88, 0.95] if stage == "closed" else None
    for k in range(1, idx + 1):
        frac = steps[k - 1] if steps else k / (idx + 1)
        t.append(received + dt.timedelta(seconds=span * frac))
    if late is not None:  # the anchor stage `late` days ago; earlier stages before it, later ones after it
        a = PATH.index(LATE_ANCHOR[stage])
        anchor = now - dt.timedelta(days=late)
        received = anchor - dt.timedelta(hours=6 + n % 30)
        t = [received + (anchor - received) * k / a for k in range(a + 1)]
        t += [anchor + (now - anchor) * (k - a) / (idx - a + 1) for k in range(a + 1, idx + 1)]
    at = dict(zip(PATH, t))
    rework = 1 if idx >= PATH.index("ready_to_ship") and rng.random() < 0.06 else 0
    outcome = ""
    if idx >= PATH.index("ready_to_ship"):
        outcome = "unrepaired" if not in_warranty and rng.random() < 0.3 else ("replaced" if rng.random() < 0.04 else "repaired")
    burn_hours = 48 if model.startswith("DS-78") else 24
    burn_start = at.get("burn_in")
    if stage == "burn_in":
        burn_start = now - dt.timedelta(hours=rng.uniform(1, 40))
        at["burn_in"] = burn_start
    row = {
        "status": stage, "version": idx + 1, "device_id": device["id"] if device else None,
        "customer_id": device["customer_id"] if device else None, "office_id": device["office_id"] if device else None,
        "region": region[:100], "serial": serial, "model": model, "product_name": product, "customer_name": name[:200],
        "contact_phone": (phone or "")[:40], "address": (address or "")[:300], "in_warranty": in_warranty,
        "warranty_end": warranty_end, "fault_reported": fault_text, "appearance": appearance,
        "accessories": rng.choice(["电源适配器", "电源、支架", "无", "遥控器、电源"]) if appearance else "",
        "photos": f"IMG_{n:05d}.jpg" if appearance else "",
        "damage_call": "已电话告知客户外壳破损" if appearance == "damaged" else "",
        "damage_cause": rng.choice(["快递运输挤压", "客户拆卸时损坏"]) if appearance == "damaged" else "",
        "confirm_note": "已与客户电话确认" if idx >= 2 else "",
        "fault_code": fault_code if idx >= 3 else "", "fault_found": rng.choice(FIXES) if idx >= 5 else "",
        "exception_number": "", "technician_id": tech["id"] if idx >= 4 else None,
        "technician_name": tech["username"] if idx >= 4 else "",
        "burn_in_hours": burn_hours if idx >= 6 else 0, "burn_in_started_at": burn_start if idx >= 6 else None,
        "rework_count": rework, "outcome": outcome,
        "carrier": rng.choice(CARRIERS) if idx >= 8 else "", "tracking_no": f"SF{rng.randrange(10**11, 10**12)}" if idx >= 8 else "",
        "customer_told_on": at["shipped"].date() if idx >= 8 else None,
        "delivered_on": at["delivered"].date() if idx >= 9 else None,
        "received_at": received, "qc_at": at.get("waiting"), "repaired_at": at.get("repaired"),
        "completed_at": at.get("ready_to_ship"), "shipped_at": at.get("shipped"), "closed_at": at.get("closed"),
        "moved_at": t[-1], "moved_by": tech["username"], "created_at": received, "updated_at": t[-1],
        "_at": at, "_qc_user": qc_tech["id"], "_qc_name": qc_tech["username"], "_tech": tech,
    }
    return row


def _transitions(rma_id: int, row: dict) -> list[dict]:
    out = []
    at = row["_at"]
    prev = ""
    for version, stage in enumerate(PATH[:PATH.index(row["status"]) + 1], start=1):
        user = row["_qc_name"] if stage in ("inspected", "registered", "waiting", "ready_to_ship") else row["_tech"]["username"]
        uid = row["_qc_user"] if stage in ("inspected", "registered", "waiting", "ready_to_ship") else row["_tech"]["id"]
        if stage in ("called_back", "closed"):
            user, uid = "desk", None
        out.append({"rma_id": rma_id, "version": version, "from_status": prev, "to_status": stage,
                    "action": ACTION_OF[stage], "note": "", "user_id": uid, "username": user, "created_at": at[stage]})
        prev = stage
    return out


async def seed_rma(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    if scale <= 0:
        await _make(rng, DEMO_TOTAL, DEMO_OPEN, quiet, "rma demo")
        return
    total = min(int(scale), SCALE_CAP)
    open_now = int((await fetch("SELECT COUNT(*) AS n FROM rma WHERE status <> 'closed'"))[0]["n"])
    await _make(rng, total, max(0, min(total, BOARD_OPEN - open_now)), quiet, "rma scale")

"""Parts demo data (issue #4) and factories other domains' tests can use.

Factories (tests of bench, loaners, scrap …):

    from seed.parts import make_part, stock, stock_unit, KEEPER
    part_id = await make_part(serialised=True)
    unit_id = await stock_unit(part_id, "LOANER")          # a loaner in the pool
    await stock(part_id_bulk, "BENCH", 10)                  # 10 on the bench

Demo (scale 0): ~2,000 parts with Chinese names, office and technician stores, stock in
every location, 20,000 historical movements (bulk inserts; on-hand = ledger sum).
`--scale N`: N more historical movements (up to 1M) for the benchmark.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from typing import Any

from tqdm import tqdm

from app.core.audit.services import Actor
from app.core.db import fetch, utcnow, write_transaction
from seed import bulk
from seed.factories import unique

KEEPER = Actor(user_id=None, username="seed", roles=frozenset({"warehouse", "manager", "gm"}))


async def make_part(*, serialised: bool = False, part_no: str | None = None, name: str | None = None,
                    model: str = "", category: str = "part", cost: str = "100.00", discontinued: bool = False,
                    substitutes: str = "") -> int:
    from app.parts import services

    return await services.create_part(KEEPER, services.PartInput(
        part_no=part_no or unique("P-"), name=name or unique("测试配件"), model=model or unique("M"), category=category,
        unit="台" if serialised else "个", cost=cost, supplier="测试供应商", serialised=serialised, discontinued=discontinued,
        substitutes=substitutes,
    ))


async def stock(part_id: int, location: Any, qty: int) -> None:
    """Put `qty` of a bulk part into a location (an adjustment, as found stock)."""
    from app.parts import services

    await services.adjust(KEEPER, part_id, location, qty, "test stock")


async def stock_unit(part_id: int, location: Any = "CENTRAL", serial: str | None = None) -> int:
    """One serialised unit received into `location`; returns the serial_unit id."""
    from app.parts import services

    serial = serial or unique("SN")
    moves = await services.receive(KEEPER, part_id, 1, location, serials=[serial], reason="test stock")
    return int(moves[0].serial_unit_id)


# ---------------------------------------------------------------------------
# demo data

CATEGORIES = [
    # (name stem, models, unit, cost range in yuan, serialised, category)
    ("网络摄像机", ["DS-2CD3T46", "DS-2CD2347", "IPC-HFW2431", "DH-IPC-HDW", "TL-IPC544"], "台", (280, 1800), True, "device"),
    ("球型摄像机", ["DS-2DE4425", "SD-6C3432", "DH-SD49225"], "台", (1500, 6500), True, "device"),
    ("硬盘录像机", ["DS-7808N-K2", "DS-7816N-R2", "DH-NVR4216", "NVR-3216"], "台", (900, 5200), True, "device"),
    ("交换机", ["S1720-28GWR", "S5735-L24", "TL-SG1024", "S2700-26TP"], "台", (300, 4800), True, "device"),
    ("报警主机", ["DS-19A08", "VISTA-120", "DS7400XI", "CA-4108"], "台", (600, 3800), True, "device"),
    ("门禁控制器", ["DS-K2604", "ASC1204", "MJ-4000"], "台", (500, 2600), True, "device"),
    ("考勤机", ["DS-K1T804", "X628", "iFace702"], "台", (400, 2200), True, "device"),
    ("电源适配器", ["12V2A", "12V5A", "24V3A", "48V1.5A"], "个", (15, 120), False, "part"),
    ("监控硬盘", ["ST4000VX", "WD40PURZ", "ST8000VX", "WD60PURZ"], "块", (380, 1600), True, "part"),
    ("红外对射探测器", ["ABT-100", "ABH-150", "PB-60T"], "对", (120, 680), False, "part"),
    ("被动红外探测器", ["DS-PDP15", "IS-215T", "LH-910"], "个", (60, 260), False, "part"),
    ("烟雾探测器", ["JTY-GD", "SD119"], "个", (40, 180), False, "part"),
    ("声光报警器", ["HC-103", "SG-8"], "个", (30, 150), False, "part"),
    ("备用蓄电池", ["12V7AH", "12V17AH", "12V38AH"], "块", (60, 650), False, "part"),
    ("解码器", ["DS-6901UDI", "DH-NVD0905"], "台", (1200, 5600), True, "device"),
    ("光纤收发器", ["HTB-1100S", "FC-220"], "对", (80, 360), False, "part"),
    ("云台", ["PT-301", "YT-3050"], "台", (300, 1500), True, "device"),
    ("镜头", ["2.8-12mm", "5-50mm", "4mm", "6mm"], "个", (60, 900), False, "part"),
    ("BNC接头", ["BNC-75-5", "BNC-75-3"], "个", (1, 5), False, "consumable"),
    ("超五类网线", ["CAT5E-305", "CAT6-305"], "箱", (180, 520), False, "consumable"),
    ("水晶头", ["RJ45-C5", "RJ45-C6"], "盒", (15, 60), False, "consumable"),
    ("主板", ["MB-H61", "MB-B75", "DVR-MB-16"], "块", (280, 1200), True, "part"),
    ("液晶监视器", ["LCD-19", "LCD-22", "LCD-32", "LCD-42"], "台", (600, 3800), True, "device"),
    ("功放", ["PA-250", "PA-650", "PA-1200"], "台", (450, 3200), True, "device"),
    ("音箱", ["YX-6W", "YX-10W"], "只", (40, 180), False, "part"),
    ("门磁开关", ["MC-31", "MC-38"], "个", (8, 40), False, "part"),
    ("读卡器", ["IC-R10", "ID-R20"], "个", (80, 320), False, "part"),
    ("电锁", ["EL-280", "MG-500"], "把", (120, 680), False, "part"),
    ("网络硬盘盒", ["NAS-2B", "NAS-4B"], "台", (500, 2600), True, "device"),
    ("散热风扇", ["FAN-8025", "FAN-12038"], "个", (10, 60), False, "part"),
    ("导热硅脂", ["TG-5", "TG-30"], "支", (8, 45), False, "consumable"),
    ("保险丝", ["FU-2A", "FU-5A"], "盒", (5, 30), False, "consumable"),
]
VARIANTS = ["", "（室外型）", "（室内型）", "（宽动态）", "（星光级）", "（POE）", "（高清）", "（经济型）", "（工业级）", "（防爆）",
            "（白色）", "（黑色）", "（新款）", "（旧款）", "（带音频）", "（双频）"]
SUPPLIERS = ["海康威视", "大华股份", "宇视科技", "华为技术", "TP-LINK", "霍尼韦尔", "博世安防", "中控智慧", "西部数据", "希捷科技",
             "天地伟业", "深圳安联"]
OFFICES = [("OFF-BJ", "北京办事处库", "北京"), ("OFF-SH", "上海办事处库", "上海"), ("OFF-GZ", "广州办事处库", "广州"),
           ("OFF-CD", "成都办事处库", "成都"), ("OFF-WH", "武汉办事处库", "武汉")]
TECHNICIANS = ["field", "zhang.wei", "liu.yang", "sun.li", "wu.gang"]
REASONS = ["按工单领用", "返修更换", "现场更换", "调拨补货", "盘点调整", "客户退回", "故障件隔离", "备品补充"]


async def _service_offices() -> list[dict]:
    """The customers domain's service offices, when it is there (seeded before parts)."""
    try:
        return await fetch("SELECT code, name, city FROM service_office WHERE is_active = true ORDER BY id")
    except Exception:  # noqa: BLE001 - parts seeds without the customers domain too
        return []


async def _device_models() -> list[dict]:
    try:
        return await fetch("SELECT model, MIN(product_name) AS product_name, MIN(brand) AS brand, COUNT(*) AS n "
                           "FROM device WHERE model <> '' GROUP BY model ORDER BY model")
    except Exception:  # noqa: BLE001
        return []


async def _ensure_locations() -> dict[str, dict]:
    users = {u["username"]: u for u in await fetch("SELECT id, username, full_name FROM app_user")}
    now = utcnow()
    offices = [(f"OFF-{o['code']}", f"{o['name']}备件库", o["code"]) for o in await _service_offices()] or OFFICES
    async with write_transaction():
        for code, name, office in offices:
            await fetch("INSERT INTO stock_location (code, name, kind, office, sort, active, created_at) "
                        "VALUES ({}, {}, 'office', {}, 30, true, {}) ON CONFLICT (code) DO NOTHING", code[:40], name[:100],
                        office, now)
        for username in TECHNICIANS:
            user = users.get(username)
            if user is None:
                continue
            await fetch("INSERT INTO stock_location (code, name, kind, keeper_user_id, sort, active, created_at) "
                        "VALUES ({}, {}, 'technician', {}, 50, true, {}) ON CONFLICT (code) DO NOTHING",
                        f"TECH-{username}".upper(), f"技术员库存：{user['full_name'] or username}", user["id"], now)
        keeper = users.get("wang.fang") or users.get("warehouse")
        if keeper:
            await fetch("UPDATE stock_location SET keeper_user_id = {} WHERE code = 'EMERGENCY' AND keeper_user_id IS NULL",
                        keeper["id"])
    return {r["code"]: r for r in await fetch("SELECT * FROM stock_location WHERE active = true")}


async def _insert_many(sql_head: str, row_sql: str, rows: list[list[Any]], returning: str = "") -> list[dict]:
    out: list[dict] = []
    for i in range(0, len(rows), 500):
        chunk = rows[i:i + 500]
        args = [a for row in chunk for a in row]
        result = await fetch(sql_head + ", ".join([row_sql] * len(chunk)) + returning, *args)
        out += result
    return out


async def seed_parts(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    if scale:
        await seed_history(rng, scale, quiet)
        return
    locations = await _ensure_locations()
    existing = await fetch("SELECT COUNT(*) AS n FROM part")
    if int(existing[0]["n"]) >= 1500:
        return
    now = utcnow()
    # ---- catalogue: ~2,000 parts
    parts: list[list[Any]] = []
    n = 0
    for ci, (stem, models, unit, (lo, hi), serialised, category) in enumerate(CATEGORIES):
        per_cat = 2000 // len(CATEGORIES) + (1 if ci < 2000 % len(CATEGORIES) else 0)
        for k in range(per_cat):
            n += 1
            supplier = SUPPLIERS[rng.randrange(len(SUPPLIERS))]
            model = f"{models[k % len(models)]}-{k // len(models) + 1:02d}"
            variant = VARIANTS[(k // len(models)) % len(VARIANTS)]
            cost_fen = rng.randint(lo * 100, hi * 100)
            parts.append([f"BJ-{ci + 1:02d}{k + 1:04d}", f"{stem}{variant} {model}", model, category, unit, cost_fen,
                          supplier, serialised, rng.random() < 0.04, "", 1, now, now])
    # the models installed at customers (customers domain) are stocked as spare devices too
    for i, d in enumerate(await _device_models()):
        parts.append([f"SB-{i + 1:04d}", f"{d['product_name'] or '设备'} {d['model']}"[:200], d["model"], "device", "台",
                      rng.randint(300, 5000) * 100, d["brand"] or SUPPLIERS[rng.randrange(len(SUPPLIERS))], True, False, "",
                      1, now, now])
    async with write_transaction():
        await _insert_many(
            "INSERT INTO part (part_no, name, model, category, unit, cost_fen, supplier, serialised, discontinued, note, "
            "version, created_at, updated_at) VALUES ", "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})", parts)
    all_parts = await fetch("SELECT id, part_no, serialised, discontinued FROM part ORDER BY id")
    # substitutes for discontinued models: the next part of the same family
    subs = []
    for i, p in enumerate(all_parts):
        if p["discontinued"] and i + 1 < len(all_parts) and all_parts[i + 1]["part_no"][:5] == p["part_no"][:5]:
            subs.append([p["id"], all_parts[i + 1]["id"]])
    async with write_transaction():
        if subs:
            await _insert_many("INSERT INTO part_substitute (part_id, substitute_id) VALUES ", "({}, {})", subs)
    await seed_history(rng, 20000, quiet, locations=locations, parts=all_parts, demo=True)
    from app.parts import services

    await services.recompute_minimums(KEEPER)  # R-INV-04: 3% of the installed base per office store
    await _top_up(rng)
    await _seed_documents(rng)


async def _top_up(rng: random.Random, share: float = 0.9) -> None:
    """Most stores were replenished to their minimum last week (a reorder list of a realistic length)."""
    rows = await fetch("SELECT sl.part_id, sl.location_id, sl.on_hand, sl.min_qty, p.serialised, p.part_no "
                       "FROM stock_level sl JOIN part p ON p.id = sl.part_id WHERE sl.on_hand < sl.min_qty "
                       "ORDER BY sl.part_id, sl.location_id")
    users = await fetch("SELECT id, username FROM app_user WHERE username IN ('wang.fang', 'warehouse') ORDER BY id") or \
        [{"id": None, "username": "seed"}]
    base = utcnow() - dt.timedelta(days=7)
    moves: list[list[Any]] = []
    units: list[list[Any]] = []
    bumps: list[tuple[int, int, int]] = []
    for n, r in enumerate(rows):
        if rng.random() > share:
            continue
        qty = int(r["min_qty"]) - int(r["on_hand"]) + rng.randint(0, 2)
        user = users[n % len(users)]
        t = base + dt.timedelta(minutes=n)
        bumps.append((r["part_id"], r["location_id"], qty))
        if r["serialised"]:
            for k in range(qty):
                units.append([r["part_id"], f"SN{r['part_no'][3:]}R{n:05d}{k:02d}", r["location_id"], t, t, user])
        else:
            moves.append([t, "receive", r["part_id"], None, "", qty, None, r["location_id"], "delivery",
                          f"SH{rng.randint(1, 99999):05d}", user["id"], user["username"], "补货入库"])
    async with write_transaction():
        created = await _insert_many(
            "INSERT INTO serial_unit (part_id, serial, location_id, status, version, created_at, updated_at) VALUES ",
            "({}, {}, {}, 'in_stock', 1, {}, {})", [u[:5] for u in units], returning=" RETURNING id, part_id, serial")
        ids = {(c["part_id"], c["serial"]): c["id"] for c in created}
        for pid, serial, lid, t, _t, user in units:
            moves.append([t, "receive", pid, ids[(pid, serial)], serial, 1, None, lid, "delivery",
                          f"SH{rng.randint(1, 99999):05d}", user["id"], user["username"], "补货入库"])
        moves.sort(key=lambda m: m[0])
        await _insert_many("INSERT INTO stock_move (created_at, kind, part_id, serial_unit_id, serial, qty, from_location_id, "
                           "to_location_id, document_type, document_id, user_id, username, reason) VALUES ",
                           "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})", moves)
        for pid, lid, qty in bumps:
            await fetch("UPDATE stock_level SET on_hand = on_hand + {} WHERE part_id = {} AND location_id = {}", qty, pid, lid)


async def _seed_documents(rng: random.Random) -> None:
    """A lived-in desk: emergency requests (waiting for the GM, approved, issued) and purchase requests."""
    from app.parts import emergency, purchasing

    users = {u["username"]: u for u in await fetch("SELECT id, username, roles FROM app_user")}

    def as_user(name: str, roles: set[str]) -> Actor:
        u = users.get(name)
        return Actor(user_id=u["id"] if u else None, username=name, roles=frozenset(roles))

    keeper, gm, manager, desk = (as_user("wang.fang", {"warehouse"}), as_user("gm", {"gm"}),
                                 as_user("manager", {"manager"}), as_user("desk", {"desk"}))
    in_emergency = await fetch(
        "SELECT p.part_no, p.serialised, sl.on_hand FROM stock_level sl JOIN part p ON p.id = sl.part_id "
        "JOIN stock_location l ON l.id = sl.location_id WHERE l.code = 'EMERGENCY' AND sl.on_hand > 1 "
        "AND p.serialised = false ORDER BY p.part_no LIMIT 6")
    customers = ["市第一人民医院", "建设银行城东支行", "市公安局指挥中心", "华润万家超市", "市第三中学"]
    reasons = ["硬盘录像机故障，监控全部中断", "报警主机损坏，夜间无法布防", "交换机故障，门禁离线"]
    engineer = "field" if "field" in users else ""
    for i, row in enumerate(in_emergency[:4]):
        req = await emergency.create_request(desk, emergency.RequestInput(
            customer_name=customers[i % len(customers)], reason=reasons[i % len(reasons)], engineer=engineer,
            lines=[(row["part_no"], "1")]))
        if i >= 1:
            await emergency.approve(gm, req, "同意，尽快送达")
        if i >= 3 and engineer:
            await emergency.issue(keeper, req, engineer=engineer)
    short = await fetch("SELECT DISTINCT location_id FROM stock_level WHERE on_hand < min_qty ORDER BY location_id LIMIT 2")
    for i, row in enumerate(short):
        pr = await purchasing.request_from_reorder_list(keeper, row["location_id"])
        if i == 0:
            await purchasing.approve(manager, pr, "同意采购")


async def seed_history(rng: random.Random, rows: int, quiet: bool, *, locations: dict | None = None,
                       parts: list[dict] | None = None, demo: bool = False) -> None:
    """`rows` historical movements over the last year, consistent with on-hand (bulk inserts).

    Demo: receipts into the central warehouse, transfers out to every location, issues to
    tickets and repairs, returns and quarantine; serialised parts get units. The on-hand of
    every (part, location) is computed in memory and written once at the end (= ledger sum).
    """
    if locations is None:
        locations = {r["code"]: r for r in await fetch("SELECT * FROM stock_location WHERE active = true")}
    if parts is None:
        parts = await fetch("SELECT id, part_no, serialised, discontinued FROM part ORDER BY id")
    if not parts:
        return
    users = await fetch("SELECT id, username FROM app_user WHERE roles LIKE '%warehouse%' ORDER BY id") or \
        await fetch("SELECT id, username FROM app_user ORDER BY id LIMIT 1") or [{"id": None, "username": "seed"}]
    levels = {(r["part_id"], r["location_id"]): int(r["on_hand"])
              for r in await fetch("SELECT part_id, location_id, on_hand FROM stock_level")}
    # serialised units: (part) → list of [unit_id, location_id]; new ones get ids from the database
    central = locations["CENTRAL"]["id"]
    quarantine = locations["QUARANTINE"]["id"]
    customer = locations["CUSTOMER"]["id"]
    emergency = locations["EMERGENCY"]["id"]  # R-INV-05: history never takes stock out of it
    stores = [loc["id"] for code, loc in locations.items() if code not in ("CUSTOMER", "QUARANTINE", "CENTRAL")]
    bulk_parts = [p for p in parts if not p["serialised"]]
    serial_parts = [p for p in parts if p["serialised"]]
    start = utcnow() - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / max(rows, 1)
    bar = tqdm(total=rows, desc="stock movements", unit="rows", disable=quiet, file=sys.stderr)
    unit_pool: dict[int, list[list[int | None]]] = {}
    for r in await fetch("SELECT id, part_id, location_id FROM serial_unit WHERE location_id IS NOT NULL"):
        unit_pool.setdefault(r["part_id"], []).append([r["id"], r["location_id"]])
    serials = {int(r["id"]): r["serial"] for r in await fetch("SELECT id, serial FROM serial_unit")}
    serial_counter = len(serials)
    moved: dict[int, int] = {}  # unit id → its location after this history (written once at the end)
    meter = bulk.Meter("parts (stock_move)", quiet)
    move_cols = ["created_at", "kind", "part_id", "serial_unit_id", "serial", "qty", "from_location_id", "to_location_id",
                 "document_type", "document_id", "user_id", "username", "reason"]
    unit_cols = ["id", "part_id", "serial", "location_id", "status", "version", "created_at", "updated_at"]
    rand, randint = rng.random, rng.randint
    n_users, n_serial, n_bulk, n_stores, n_reasons = len(users), len(serial_parts), len(bulk_parts), len(stores), len(REASONS)
    targets = stores + [customer, quarantine, central]
    done = 0
    while done < rows:
        batch = min(bulk.CHUNK, rows - done)
        moves: list[tuple] = []
        new_units: list[tuple] = []
        async with write_transaction():
            next_id = await bulk.reserve_ids("serial_unit", batch)  # at most one new unit per row
            first_id = next_id
            for i in range(batch):
                t = start + step * (done + i)
                user = users[int(rand() * n_users)]
                r = rand()
                if serial_parts and r < 0.3:
                    p = serial_parts[int(rand() * n_serial)]
                    pool = unit_pool.setdefault(p["id"], [])
                    unit = pool[int(rand() * len(pool))] if pool else None
                    if unit is None or unit[1] == emergency or rand() < 0.35:
                        serial_counter += 1
                        serial = f"SN{p['part_no'][3:]}{serial_counter:07d}"
                        uid = next_id
                        next_id += 1
                        serials[uid] = serial
                        new_units.append((uid, p["id"], serial, central, "in_stock", 1, t, t))
                        moves.append((t, "receive", p["id"], uid, serial, 1, None, central, "delivery",
                                      f"SH{randint(1, 99999):05d}", user["id"], user["username"], "采购入库"))
                        levels[(p["id"], central)] = levels.get((p["id"], central), 0) + 1
                        pool.append([uid, central])
                        continue
                    frm = unit[1]
                    while True:
                        to = targets[int(rand() * len(targets))]
                        if to != frm:
                            break
                    kind = "issue" if to == customer else "quarantine" if to == quarantine else "transfer"
                    moves.append((t, kind, p["id"], unit[0], serials[unit[0]], 1, frm, to, "ticket" if kind == "issue" else "",
                                  str(randint(1, 9000)) if kind == "issue" else "", user["id"], user["username"],
                                  REASONS[int(rand() * n_reasons)]))
                    levels[(p["id"], frm)] = levels.get((p["id"], frm), 0) - 1
                    levels[(p["id"], to)] = levels.get((p["id"], to), 0) + 1
                    unit[1] = to
                    moved[unit[0]] = to
                    continue
                p = bulk_parts[int(rand() * n_bulk)]
                have_central = levels.get((p["id"], central), 0)
                if have_central < 5 or r < 0.45:
                    q = randint(10, 60)
                    moves.append((t, "receive", p["id"], None, "", q, None, central, "delivery", f"SH{randint(1, 99999):05d}",
                                  user["id"], user["username"], "采购入库"))
                    levels[(p["id"], central)] = have_central + q
                    continue
                src_candidates = [loc for loc in stores if loc != emergency and levels.get((p["id"], loc), 0) > 0]
                if src_candidates and r < 0.75:
                    frm = src_candidates[int(rand() * len(src_candidates))]
                    q = randint(1, min(3, levels[(p["id"], frm)]))
                    if rand() < 0.1:
                        moves.append((t, "quarantine", p["id"], None, "", q, frm, quarantine, "", "", user["id"],
                                      user["username"], "故障件隔离"))
                        levels[(p["id"], quarantine)] = levels.get((p["id"], quarantine), 0) + q
                    else:
                        doc = "ticket" if rand() < 0.6 else "rma"
                        moves.append((t, "issue", p["id"], None, "", q, frm, None, doc, str(randint(1, 9000)), user["id"],
                                      user["username"], REASONS[int(rand() * n_reasons)]))
                    levels[(p["id"], frm)] -= q
                    continue
                to = stores[int(rand() * n_stores)]
                q = randint(1, min(10, have_central))
                moves.append((t, "transfer", p["id"], None, "", q, central, to, "", "", user["id"], user["username"], "调拨补货"))
                levels[(p["id"], central)] = have_central - q
                levels[(p["id"], to)] = levels.get((p["id"], to), 0) + q
            meter.add("serial_unit", await bulk.insert("serial_unit", unit_cols, new_units))
            meter.add("stock_move", await bulk.insert("stock_move", move_cols, moves))  # already in time order
            if not bulk.is_sqlite() and next_id > first_id:
                await fetch("SELECT setval(pg_get_serial_sequence('serial_unit', 'id'), {})", next_id - 1)
        done += batch
        bar.update(batch)
    bar.close()
    # write unit locations and on-hand once (= ledger sum)
    async with write_transaction():
        status = {customer: "at_customer", quarantine: "quarantine"}
        await bulk.execute_many("UPDATE serial_unit SET location_id = ?, status = ? WHERE id = ?",
                                [(loc, status.get(loc, "in_stock"), uid) for uid, loc in moved.items()])
        now = utcnow()
        level_rows = [[pid, lid, q, now] for (pid, lid), q in levels.items()]
        for i in range(0, len(level_rows), 500):
            chunk = level_rows[i:i + 500]
            args = [a for row in chunk for a in row]
            await fetch("INSERT INTO stock_level (part_id, location_id, on_hand, updated_at) VALUES "
                        + ", ".join(["({}, {}, {}, {})"] * len(chunk))
                        + " ON CONFLICT (part_id, location_id) DO UPDATE SET on_hand = excluded.on_hand, "
                          "updated_at = excluded.updated_at", *args)
        meter.add("stock_level", len(level_rows))
        if demo:
            # R-INV-04: installed quantity served per office store (the customers domain refines it) → 3% minimum
            offices = [loc["id"] for loc in locations.values() if loc["kind"] == "central"]
            mins = []
            for p in parts[::40]:
                for lid in offices:
                    installed = rng.randint(20, 400)
                    mins.append([p["id"], lid, installed, -(-installed * 3 // 100), now])
            for i in range(0, len(mins), 500):
                chunk = mins[i:i + 500]
                args = [a for row in chunk for a in row]
                await fetch("INSERT INTO stock_level (part_id, location_id, on_hand, installed_qty, min_qty, updated_at) VALUES "
                            + ", ".join(["({}, {}, 0, {}, {}, {})"] * len(chunk))
                            + " ON CONFLICT (part_id, location_id) DO UPDATE SET installed_qty = excluded.installed_qty, "
                              "min_qty = excluded.min_qty", *args)
    meter.done()

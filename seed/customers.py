"""Customers demo data (issue #3) and factories other domains' tests can use.

Factories (tickets, bench, loaners, ledger tests …):

    from seed.customers import make_customer, make_contract, make_device
    customer_id = await make_customer()                       # with a new service office
    contract_id = await make_contract(customer_id, "annual")  # active for a year from 30 days ago
    device_id = await make_device(customer_id, acceptance=date(2025, 1, 1))

Demo (scale 0): 15 service offices, 300 customers with contacts, contracts of every type
(some ending within the reminder window, some expired, one terminated) with QYBS stage
history, 5,000 devices with realistic product names, a few failure histories (warranty
extensions, replacement proposals) and some renewal notices sent.
`--scale N`: N more devices (and N/20 more customers, each with an annual contract), bulk
inserts in batches of 500.
"""

from __future__ import annotations

import bisect
import datetime as dt
import itertools
import random
import sys
from decimal import Decimal

from tqdm import tqdm

from app.core.audit.services import SYSTEM, record
from app.customers import services as svc
from app.customers.warranty import compute_warranty, replacement_check, Event
from app.core.db import fetch, utcnow, write_transaction
from seed import bulk
from seed.factories import fake, unique


# --------------------------------------------------------------------------- factories

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
    start = start or svc.today() - dt.timedelta(days=30)
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


# --------------------------------------------------------------------------- demo data

OFFICES = [
    ("BJ01", "北京总部服务中心", "北京"), ("BJ02", "北京朝阳服务站", "北京"), ("BJ03", "北京海淀服务站", "北京"),
    ("TJ01", "天津服务站", "天津"), ("SH01", "上海服务中心", "上海"), ("SH02", "上海浦东服务站", "上海"),
    ("SZ01", "苏州服务站", "苏州"), ("HZ01", "杭州服务站", "杭州"), ("NJ01", "南京服务站", "南京"),
    ("GZ01", "广州服务中心", "广州"), ("SZ02", "深圳南山服务站", "深圳"), ("WH01", "武汉服务站", "武汉"),
    ("CD01", "成都服务站", "成都"), ("XA01", "西安服务站", "西安"), ("CQ01", "重庆服务站", "重庆"),
]

# brand, product, model choices, system, price-list kind, serial prefix, capacity choices
PRODUCTS = [
    ("海康威视", "网络高清枪型摄像机", ["DS-2CD3T46WDV3-I3", "DS-2CD2T47G2-L", "DS-2CD3T86FWDV2-I5S"], "cctv", "camera", "DS", None, 30),
    ("海康威视", "网络半球摄像机", ["DS-2CD3346WDV3-I", "DS-2CD2346FWD-IS", "DS-2CD3145F-IS"], "cctv", "camera", "DS", None, 25),
    ("海康威视", "球型摄像机（云台）", ["DS-2DE4425IW-DE", "DS-2DC4423IW-D"], "cctv", "camera", "DS", None, 6),
    ("大华", "网络红外枪型摄像机", ["DH-IPC-HFW4433M-I2", "DH-IPC-HFW2431S-S-S2"], "cctv", "camera", "DH", None, 12),
    ("海康威视", "网络硬盘录像机 NVR", ["DS-7816N-R2", "DS-8632N-I8", "DS-7608NI-K2"], "cctv", "cctv_host", "DS", None, 4),
    ("大华", "网络硬盘录像机", ["DHI-NVR4416-HDS2", "DH-NVR2208-HDS3"], "cctv", "cctv_host", "DH", None, 2),
    ("海康威视", "视频解码器", ["DS-6904UD", "DS-6910UD"], "cctv", "cctv_aux", "DS", None, 2),
    ("海康威视", "监控专用液晶监视器", ["DS-D5043QE", "DS-D5032FL"], "cctv", "cctv_aux", "DS", None, 3),
    ("霍尼韦尔", "防盗报警主机", ["VISTA-120", "VISTA-250BPT"], "intrusion", "alarm_host", "HW", None, 2),
    ("博世", "报警控制主机", ["DS7400XI-CHI", "AMAX 4000"], "intrusion", "alarm_host", "BS", None, 1),
    ("博世", "双鉴红外探测器", ["ISC-BDL2-WP12G", "DS940Q-CHI"], "intrusion", "detector", "BS", None, 10),
    ("艾礼富", "主动红外对射探测器", ["ABT-100", "ABE-150"], "intrusion", "detector", "AL", None, 6),
    ("华为", "千兆以太网交换机", ["S5735-L24T4S-A1", "S1730S-S48T4S-A1", "S5720-28X-SI-AC"], "network", "switch", "HW", None, 8),
    ("H3C", "以太网交换机", ["S5130S-28S-EI", "S1850V2-52P"], "network", "switch", "H3", None, 5),
    ("TP-LINK", "PoE交换机", ["TL-SG1218PE", "TL-SL1226P"], "network", "switch", "TP", None, 4),
    ("戴尔", "机架式服务器", ["PowerEdge R740", "PowerEdge R650"], "network", "server", "DL", None, 1),
    ("联想", "台式电脑", ["ThinkCentre M730t", "启天 M428"], "network", "pc", "LX", None, 6),
    ("松下", "程控交换机", ["KX-TDA200CN", "KX-TDA600CN", "KX-NS300CN"], "telephone", "pbx", "PN", [48, 96, 128, 200, 320], 1),
    ("国威", "数字程控交换机", ["WS824(2)", "WS848(10D)"], "telephone", "pbx", "GW", [32, 64, 96], 1),
    ("ITC", "定压功放", ["T-6350", "T-61000", "T-62000"], "broadcast", "amplifier", "IT", [350, 650, 1000, 2000], 1),
    ("ITC", "吸顶音箱", ["T-105", "T-206"], "broadcast", "speaker", "IT", None, 10),
    ("中控智慧", "指纹考勤机", ["iClock360", "xFace600"], "onecard", "attendance", "ZK", None, 2),
    ("中控智慧", "门禁控制器", ["inBio460", "C3-400"], "onecard", "door_controller", "ZK", None, 4),
    ("新开普", "食堂消费机", ["NPX-3000", "XF-1280"], "onecard", "canteen_pos", "XK", None, 1),
]
PRODUCT_WEIGHTS = [p[7] for p in PRODUCTS]
SITES = ["大门", "一楼大厅", "地下车库", "周界东侧", "周界西侧", "办公楼二层走廊", "机房", "仓库", "食堂", "财务室",
         "会议室", "三楼楼梯口", "停车场入口", "配电室", "弱电间", "监控中心", "营业厅", "住院部走廊", "教学楼", "宿舍区"]
CONTACT_ROLES = ["保卫科科长", "信息中心主任", "网管", "行政主管", "物业经理", "总务处", "设备科", "办公室主任"]
ORG_SUFFIX = ["科技有限公司", "实业有限公司", "医院", "中学", "银行支行", "物业管理有限公司", "商贸有限公司", "酒店",
              "制造有限公司", "物流有限公司", "大学", "人民政府", "供电公司", "商场"]
FAULTS = ["NO-VIDEO", "PTZ", "POWER", "HDD", "NETWORK", "IR", "IMAGE-BLUR", "ALARM-FALSE", "PORT", "FAN"]


def _company(rng: random.Random) -> str:
    if rng.random() < 0.5:
        return fake.company()
    return fake.city_name() + fake.last_name() + rng.choice(["", "家", "氏"]) + rng.choice(ORG_SUFFIX)


async def _reserve_numbers(series: str, count: int, year: int) -> list[str]:
    """Draw `count` gapless numbers in one go (same rows as next_number would write). Inside a write tx."""
    spec = (await fetch("SELECT prefix, format, yearly FROM doc_series WHERE code = {}", series))[0]
    period = year if spec["yearly"] else 0
    await fetch("INSERT INTO doc_counter (series, period, last_value) VALUES ({}, {}, 0) "
                "ON CONFLICT (series, period) DO NOTHING", series, period)
    last = int((await fetch("UPDATE doc_counter SET last_value = last_value + {} WHERE series = {} AND period = {} "
                            "RETURNING last_value", count, series, period))[0]["last_value"])
    numbers = list(range(last - count + 1, last + 1))
    formatted = [spec["format"].format(prefix=spec["prefix"], year=year, n=n) for n in numbers]
    now = utcnow()
    for start in range(0, count, 400):
        chunk = list(zip(numbers[start:start + 400], formatted[start:start + 400]))
        values = ", ".join("({}, {}, {}, {}, 'contract', '', {})" for _ in chunk)
        args = [a for n, f in chunk for a in (series, period, n, f, now)]
        await fetch("INSERT INTO doc_number (series, period, number, formatted, entity_type, entity_id, created_at) "
                    "VALUES " + values, *args)
    return formatted


async def _bulk(table: str, columns: list[str], rows: list[tuple], returning: bool = False, suffix: str = "") -> list[dict]:
    out: list[dict] = []
    per = max(1, min(500, 30000 // len(columns)))
    for start in range(0, len(rows), per):
        chunk = rows[start:start + per]
        marks = "(" + ", ".join("{}" for _ in columns) + ")"
        sql = f"INSERT INTO {table} ({', '.join(columns)}) VALUES " + ", ".join(marks for _ in chunk) + suffix
        if returning:
            sql += " RETURNING id"
        result = await fetch(sql, *[v for row in chunk for v in row])
        if returning:
            out += result
    return out


async def _insert_customers(rng: random.Random, office_ids: list[int], count: int, today: dt.date) -> list[dict]:
    now = utcnow()
    rows, contacts_for = [], []
    for _ in range(count):
        name = _company(rng)
        distance = Decimal(str(round(rng.choice([rng.uniform(0.5, 8), rng.uniform(8, 25), rng.uniform(25, 80)]), 1)))
        area = "suburb" if distance > 20 else "city"
        cls = "key" if rng.random() < 0.25 else "retail"
        phone = fake.phone_number() if rng.random() < 0.5 else f"0{rng.randint(10, 99)}-{rng.randint(60000000, 89999999)}"
        address = fake.address().rsplit(" ", 1)[0]
        contacts = [(fake.name(), fake.phone_number(), rng.choice(CONTACT_ROLES)) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
        search = " ".join([name, phone, address] + [f"{n} {p} {r}" for n, p, r in contacts]).lower()
        rows.append((name, cls, rng.choice(office_ids), address, area, distance, phone, "", search, 0, True, 1, now, now))
        contacts_for.append(contacts)
    ids = await _bulk("customer", ["name", "customer_class", "office_id", "address", "area", "distance_km", "phone", "notes",
                                   "search_text", "device_count", "is_active", "version", "created_at", "updated_at"],
                      rows, returning=True)
    contact_rows = []
    for row, contacts in zip(ids, contacts_for):
        for sort, (n, p, r) in enumerate(contacts):
            contact_rows.append((row["id"], n, p, r, sort))
    await _bulk("customer_contact", ["customer_id", "name", "phone", "role", "sort"], contact_rows)
    return [{"id": r["id"], "customer_class": rows[i][1]} for i, r in enumerate(ids)]


async def _insert_contracts(rng: random.Random, customers: list[dict], today: dt.date, demo: bool) -> dict[int, int]:
    """Contracts of every type; returns {customer_id: warranty contract id} for device links."""
    specs = []
    for index, c in enumerate(customers):
        kinds = ["warranty"] if rng.random() < 0.7 else []
        kinds.append(rng.choice(["annual", "annual", "per_visit", "liaison"]) if c["customer_class"] == "key" or rng.random() < 0.5 else "per_visit")
        if not demo:
            kinds = ["annual"]
        for kind in kinds:
            if demo and index % 15 == 0 and kind != "warranty":
                end = today + dt.timedelta(days=rng.randint(0, 9))  # ending within the reminder window
                start = end - dt.timedelta(days=364)
            elif demo and index % 11 == 0:
                end = today - dt.timedelta(days=rng.randint(5, 300))  # expired
                start = end - dt.timedelta(days=364)
            elif kind == "warranty":
                start = today - dt.timedelta(days=rng.randint(30, 1000))
                end = svc.engine.add_months(start, 36)
            else:
                start = today - dt.timedelta(days=rng.randint(0, 330))
                end = start + dt.timedelta(days=364)
            status = "terminated" if demo and index == 7 and kind != "warranty" else "active"
            stage = "S" if end < today + dt.timedelta(days=10) else rng.choice(["Y", "B", "B", "B"]) if kind != "liaison" else "Q"
            sla = (1, 2, 12) if kind in ("warranty", "annual") else (2, 4, 24)
            policy = {"warranty": "warranty_free", "annual": "annual_included", "per_visit": "standard",
                      "liaison": "standard"}[kind]
            if c["customer_class"] == "key" and kind != "warranty":
                policy = "key_account"
            amount = {"annual": rng.randint(30, 400) * 10000, "per_visit": 0, "warranty": 0, "liaison": 0}[kind]
            title = {"warranty": "工程质保", "annual": "年度维保合同", "per_visit": "按次服务合同", "liaison": "联络函服务"}[kind]
            specs.append((c["id"], kind, title, start, end, status, stage, sla, policy, amount,
                          rng.choice([36, 36, 36, 12, 24]) if kind == "warranty" else 36))
    numbers = await _reserve_numbers("contract", len(specs), today.year)
    now = utcnow()
    rows = [(numbers[i], s[0], s[1], s[2], s[3], s[4], s[5], s[6], s[7][0], s[7][1], s[7][2], s[10], s[8], s[9], "", 1, now, now)
            for i, s in enumerate(specs)]
    ids = await _bulk("contract", ["number", "customer_id", "contract_type", "title", "start_date", "end_date", "status",
                                   "stage", "response_hours", "onsite_hours_city", "onsite_hours_suburb", "warranty_months",
                                   "tariff_policy", "amount_fen", "notes", "version", "created_at", "updated_at"],
                      rows, returning=True)
    history = []
    order = "QYBS"
    for row, spec in zip(ids, specs):
        stage = spec[6]
        previous = ""
        for code in order[: order.index(stage) + 1]:
            history.append((row["id"], previous, code, "", None, "seed", now))
            previous = code
    await _bulk("contract_stage_change", ["contract_id", "from_stage", "to_stage", "note", "user_id", "username", "changed_at"],
                history)
    warranty = {}
    for row, spec in zip(ids, specs):
        if spec[1] == "warranty":
            warranty[spec[0]] = (row["id"], spec[10])
    return warranty


async def _insert_devices(rng: random.Random, customer_ids: list[int], warranty: dict, count: int, today: dt.date,
                          serials: set[str], quiet: bool, demo: bool) -> None:
    now = utcnow()
    bar = tqdm(total=count, desc="devices", unit="rows", disable=quiet, file=sys.stderr)
    done = 0
    columns = ["serial", "brand", "product_name", "model", "system", "kind", "capacity", "customer_id", "contract_id", "site",
               "install_date", "acceptance_date", "warranty_months", "warranty_end", "extension_events",
               "replacement_proposed", "notes", "version", "created_at", "updated_at"]
    while done < count:
        n = min(2000, count - done)
        rows, histories = [], []
        for _ in range(n):
            brand, product, models, system, kind, prefix, caps, _w = rng.choices(PRODUCTS, weights=PRODUCT_WEIGHTS)[0]
            while True:
                serial = f"{prefix}{rng.randint(2016, 2026)}{rng.randint(10**8, 10**9 - 1)}"
                if serial not in serials:
                    serials.add(serial)
                    break
            customer_id = rng.choice(customer_ids)
            contract = warranty.get(customer_id)
            if rng.random() < 0.04:
                acceptance = None
                install = today - dt.timedelta(days=rng.randint(0, 40))
            else:
                if demo and rng.random() < 0.01:
                    # ends within the reminder window: accepted `term` months before a day in the next 9 days
                    term_years = (contract[1] if contract else 36) // 12
                    end = today + dt.timedelta(days=rng.randint(0, 9))
                    acceptance = dt.date(end.year - term_years, end.month, min(end.day, 28))
                else:
                    acceptance = today - dt.timedelta(days=rng.randint(10, 365 * 6))
                install = acceptance - dt.timedelta(days=rng.randint(0, 30))
            term = contract[1] if contract else 36
            events = []
            if demo and rng.random() < 0.03 and acceptance:
                fault = rng.choice(FAULTS)
                for k in range(rng.choice([1, 1, 2, 3])):
                    day = acceptance + dt.timedelta(days=rng.randint(5, 700))
                    if day >= today:
                        break
                    events.append((day, fault if rng.random() < 0.7 else rng.choice(FAULTS), rng.random() < 0.3))
                events.sort()
            w = compute_warranty(acceptance, term, [d for d, _f, u in events if u])
            check = replacement_check([Event("failure", f, d, u) for d, f, u in events])
            rows.append((serial, brand, product, rng.choice(models), system, kind, rng.choice(caps) if caps else None,
                         customer_id, contract[0] if contract else None, rng.choice(SITES) + (f"{rng.randint(1, 40)}号" if rng.random() < 0.5 else ""),
                         install, acceptance, None, w.end, len(w.counted), check.due, "", 1, now, now))
            histories.append(events)
        async with write_transaction():
            # --scale on a data set grown before: a serial drawn twice is skipped, never an error
            ids = await _bulk("device", columns, rows, returning=any(histories),
                              suffix="" if demo else " ON CONFLICT (serial) DO NOTHING")
            if any(histories):
                event_rows = []
                for row, events in zip(ids, histories):
                    for day, fault, unresolvable in events:
                        event_rows.append((row["id"], "failure", fault, unresolvable, day,
                                           "无法排除，影响客户使用" if unresolvable else "现场处理恢复", "ticket", "", None, "seed", now))
                await _bulk("device_event", ["device_id", "event_type", "fault_code", "unresolvable", "occurred_on",
                                             "description", "source_type", "source_id", "user_id", "username", "created_at"],
                            event_rows)
        done += n
        bar.update(n)
    bar.close()


async def _refresh_counts() -> None:
    async with write_transaction():
        await fetch("UPDATE customer SET device_count = (SELECT COUNT(*) FROM device d WHERE d.customer_id = customer.id)")


async def seed_customers(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    today = svc.today()
    if scale:
        await seed_scale(rng, scale, quiet)
        return
    async with write_transaction():
        for code, name, city in OFFICES:
            await fetch("INSERT INTO service_office (code, name, city, address, phone, is_active) VALUES ({}, {}, {}, {}, {}, true) "
                        "ON CONFLICT (code) DO NOTHING", code, name, city, fake.street_address(),
                        f"400-{rng.randint(100, 999)}-{rng.randint(1000, 9999)}")
        offices = [r["id"] for r in await fetch("SELECT id FROM service_office ORDER BY id")]
        customers = await _insert_customers(rng, offices, 300, today)
        warranty = await _insert_contracts(rng, customers, today, demo=True)
    serials = {r["serial"] for r in await fetch("SELECT serial FROM device")}
    await _insert_devices(rng, [c["id"] for c in customers], warranty, 5000, today, serials, quiet, demo=True)
    await _refresh_counts()
    # A few notices already sent, so the reminder list shows both states.
    from app.customers import renewals

    due = await renewals.due_renewals(today, limit=50)
    for item in due[:3]:
        await renewals.mark_notice_sent(SYSTEM, kind=item.kind,
                                        subject_id=item.contract_id if item.kind == "contract" else item.customer_id,
                                        sent_on=today, method="letter", note="演示数据")
    async with write_transaction():
        await record(SYSTEM, "seed.customers", "customer", "", after={"offices": len(OFFICES), "customers": 300,
                                                                      "devices": 5000})


# --------------------------------------------------------------------------- --scale N (issue #15)

class _Pools:
    """Faker is slow: names, phones, addresses and companies drawn once, rows pick from them."""

    def __init__(self, rng: random.Random) -> None:
        self.companies = [_company(rng) for _ in range(4000)]
        self.addresses = [fake.address().rsplit(" ", 1)[0] for _ in range(3000)]
        self.names = [fake.name() for _ in range(2000)]
        self.phones = [fake.phone_number() for _ in range(3000)]


async def seed_scale(rng: random.Random, scale: int, quiet: bool) -> None:
    """`--scale N`: N/20 customers (contacts, an annual contract with its number and QYBS history) and N
    devices, built in chunks and loaded in bulk (seed.bulk: executemany on SQLite, COPY on PostgreSQL)."""
    today = svc.today()
    offices = [r["id"] for r in await fetch("SELECT id FROM service_office ORDER BY id")]
    if not offices:
        return
    meter = bulk.Meter("customers (customer, contract, device)", quiet)
    pools = _Pools(rng)
    rand, randint = rng.random, rng.randint
    now = utcnow()
    new_customers = scale // 20
    customer_cols = ["id", "name", "customer_class", "office_id", "address", "area", "distance_km", "phone", "notes",
                     "search_text", "device_count", "is_active", "version", "created_at", "updated_at"]
    contract_cols = ["id", "number", "customer_id", "contract_type", "title", "start_date", "end_date", "status", "stage",
                     "response_hours", "onsite_hours_city", "onsite_hours_suburb", "warranty_months", "tariff_policy",
                     "amount_fen", "notes", "version", "created_at", "updated_at"]
    done = 0
    while done < new_customers:
        n = min(bulk.CHUNK // 4, new_customers - done)
        async with write_transaction():
            cid = await bulk.reserve_ids("customer", n)
            kid = await bulk.reserve_ids("contract", n)
            numbers = bulk.Numbers("contract", "contract")
            await numbers.reserve({today.year: n})
            customers, contacts, contracts, stages = [], [], [], []
            for k in range(n):
                name = pools.companies[int(rand() * len(pools.companies))]
                distance = Decimal(str(round(rng.choice([rng.uniform(0.5, 8), rng.uniform(8, 25), rng.uniform(25, 80)]), 1)))
                cls = "key" if rand() < 0.25 else "retail"
                phone = pools.phones[int(rand() * len(pools.phones))] if rand() < 0.5 else \
                    f"0{randint(10, 99)}-{randint(60000000, 89999999)}"
                address = pools.addresses[int(rand() * len(pools.addresses))]
                people = [(pools.names[int(rand() * len(pools.names))], pools.phones[int(rand() * len(pools.phones))],
                           CONTACT_ROLES[int(rand() * len(CONTACT_ROLES))]) for _ in range(rng.choice([1, 1, 2, 2, 3]))]
                search = " ".join([name, phone, address] + [f"{a} {b} {c}" for a, b, c in people]).lower()
                customers.append((cid + k, name, cls, offices[int(rand() * len(offices))], address,
                                  "suburb" if distance > 20 else "city", distance, phone, "", search, 0, True, 1, now, now))
                contacts += [(cid + k, a, b, c, sort) for sort, (a, b, c) in enumerate(people)]
                start = today - dt.timedelta(days=randint(0, 330))
                end = start + dt.timedelta(days=364)
                stage = "S" if end < today + dt.timedelta(days=10) else rng.choice(["Y", "B", "B", "B"])
                contracts.append((kid + k, numbers.take(today.year, kid + k), cid + k, "annual", "年度维保合同", start, end,
                                  "active", stage, 1, 2, 12, 36, "key_account" if cls == "key" else "annual_included",
                                  randint(30, 400) * 10000, "", 1, now, now))
                previous = ""
                for code in "QYBS"[: "QYBS".index(stage) + 1]:
                    stages.append((kid + k, previous, code, "", None, "seed", now))
                    previous = code
            meter.add("customer", await bulk.insert("customer", customer_cols, customers))
            meter.add("customer_contact", await bulk.insert("customer_contact", ["customer_id", "name", "phone", "role", "sort"],
                                                            contacts))
            meter.add("contract", await bulk.insert("contract", contract_cols, contracts))
            meter.add("doc_number", len(numbers.rows))
            await numbers.flush()
            meter.add("contract_stage_change", await bulk.insert(
                "contract_stage_change", ["contract_id", "from_stage", "to_stage", "note", "user_id", "username", "changed_at"],
                stages))
        done += n
    customer_ids = [r["id"] for r in await fetch("SELECT id FROM customer ORDER BY id")]
    serials = {r["serial"].upper() for r in await fetch("SELECT serial FROM device")}  # COPY cannot skip a duplicate
    columns = ["serial", "brand", "product_name", "model", "system", "kind", "capacity", "customer_id", "contract_id", "site",
               "install_date", "acceptance_date", "warranty_months", "warranty_end", "extension_events",
               "replacement_proposed", "notes", "version", "created_at", "updated_at"]
    ends: dict[dt.date, dt.date | None] = {}
    no_replacement = bool(replacement_check([]).due)
    cum = list(itertools.accumulate(PRODUCT_WEIGHTS))
    total_weight = cum[-1]
    bar = tqdm(total=scale, desc="devices", unit="rows", disable=quiet, file=sys.stderr)
    done = 0
    while done < scale:
        n = min(bulk.CHUNK, scale - done)
        rows = []
        for _ in range(n):
            brand, product, models, system, kind, prefix, caps, _w = PRODUCTS[bisect.bisect(cum, rand() * total_weight)]
            while True:
                serial = f"{prefix}{randint(2016, 2026)}{randint(10**8, 10**9 - 1)}"
                if serial not in serials:
                    serials.add(serial)
                    break
            if rand() < 0.04:
                acceptance = None
                install = today - dt.timedelta(days=randint(0, 40))
            else:
                acceptance = today - dt.timedelta(days=randint(10, 365 * 6))
                install = acceptance - dt.timedelta(days=randint(0, 30))
            if acceptance not in ends:
                ends[acceptance] = compute_warranty(acceptance, 36, []).end  # R-CUS-05, no failures yet
            site = SITES[int(rand() * len(SITES))] + (f"{randint(1, 40)}号" if rand() < 0.5 else "")
            rows.append((serial, brand, product, models[int(rand() * len(models))], system, kind,
                         caps[int(rand() * len(caps))] if caps else None, customer_ids[int(rand() * len(customer_ids))],
                         None, site, install, acceptance, None, ends[acceptance], 0, no_replacement, "", 1, now, now))
        async with write_transaction():
            meter.add("device", await bulk.insert("device", columns, rows))
        done += n
        bar.update(n)
    bar.close()
    await _refresh_counts()
    meter.done()

"""Ledger demo data (issue #7).

Demo (scale 0): 200 slip books (196 regular, 4 backup) = 10,000 numbered slips over the last year,
held by the demo repairers in turn: used slips with their jobs and amounts, voids with hand-in dates,
transfers to backup slips, delay slips, one leaver's hand-back, and a few deliberate gaps and
out-of-order uses for the reconciliation to find. One year of receivables (every charged slip, ~250
sales confirmations), monthly statements through every workflow state, payments (part payments too),
extension requests and weekly ledger checks.

`--scale N` (any N > 0): the benchmark set — 20,000 slips used this month by 40 more repairers (series
SC) and receivables up to 100,000 lines over a year for ~1,000 customers.
"""

from __future__ import annotations

import datetime as dt
import random
import sys
from typing import Any, Sequence

from tqdm import tqdm

from app.core.audit.services import Actor
from app.core.numbers import next_number
from app.core.db import fetch, utcnow, write_transaction
from app.core.dates import as_date, today
from app.ledger import workdays
from app.ledger.common import bump_rev, ledger_setting
from seed.factories import fake

SEED_ACTOR = Actor(user_id=None, username="seed", roles=frozenset({"finance", "desk", "manager"}))
AMOUNTS = [30, 50, 50, 80, 110, 150, 150, 200, 260, 380, 520, 800, 1250]
BATCH = 500


async def bulk(table: str, cols: Sequence[str], rows: list[Sequence[Any]], bar: Any = None) -> None:
    """Multi-row INSERTs of ≤ 500 rows, each batch its own write transaction."""
    for start in range(0, len(rows), BATCH):
        chunk = rows[start:start + BATCH]
        marks = "(" + ", ".join("{}" for _c in cols) + ")"
        sql = f"INSERT INTO {table} ({', '.join(cols)}) VALUES " + ", ".join(marks for _r in chunk)
        async with write_transaction():
            await fetch(sql, *[v for row in chunk for v in row])
        if bar is not None:
            bar.update(len(chunk))


def _at(day: dt.date, rng: random.Random, hour: int | None = None) -> dt.datetime:
    """A time on `day` in business hours (Asia/Shanghai 09–17 = UTC 01–09)."""
    return dt.datetime.combine(day, dt.time(hour if hour is not None else rng.randint(1, 9), rng.randint(0, 59)),
                               tzinfo=dt.timezone.utc)


def _seq_at(day: dt.date, k: int) -> dt.datetime:
    """Use times that grow with the number within a book (so only the deliberate swaps are out of order)."""
    return dt.datetime.combine(day, dt.time(1), tzinfo=dt.timezone.utc) + dt.timedelta(minutes=9 * k)


async def _holidays() -> dict[dt.date, bool]:
    return {as_date(r["day"]): bool(r["is_working"]) for r in await fetch("SELECT day, is_working FROM work_calendar")}


def _add_working(start: dt.date, n: int, overrides: dict[dt.date, bool]) -> dt.date:
    """The same count the app uses (official calendar + work_calendar overrides), never Monday–Friday alone."""
    return workdays.add_working(start, n, overrides)


async def number_jobs(rows: list[list[Any]]) -> None:
    """Give seeded slip rows ([book_id, series, number, state, holder, state_on, used_at, job_type, job_id, …])
    their job numbers from the live counters (#12.7) — service slips for tickets, the RMA series for repairs —
    in date order, so a document created later (by the RMA seed or a user) never gets a number they name."""
    async with write_transaction():
        for row in sorted(rows, key=lambda r: (r[5], r[6])):
            series = "service_slip" if row[7] == "ticket" else "rma"
            row[8] = (await next_number(series, entity_type="slip", today=row[5])).formatted


def _customers(rng: random.Random, n: int, monthly_share: float) -> list[tuple[str, str]]:
    names: set[str] = set()
    tries = 0
    while len(names) < n:
        tries += 1
        name = fake.company()
        if tries > n * 3:  # faker's zh_CN company names run out: prefix a city
            name = fake.city_name() + name
        names.add(name)
    return [(name, "monthly" if rng.random() < monthly_share else "retail") for name in sorted(names)]


def _amount(rng: random.Random) -> int:
    """Fen; 35 % of jobs are free (warranty)."""
    if rng.random() < 0.35:
        return 0
    return rng.choice(AMOUNTS) * 100 + (rng.choice([0, 0, 0, 50]))


async def seed_ledger(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    if scale:
        await seed_scale(rng, quiet)
        return
    if await fetch("SELECT 1 FROM slip_book WHERE series = 'WX' LIMIT 1"):
        return
    await seed_demo(rng, quiet)


# ---------------------------------------------------------------------------- demo

async def seed_demo(rng: random.Random, quiet: bool) -> None:
    now = utcnow()
    end = today()
    start = end - dt.timedelta(days=365)
    users = await fetch("SELECT id, username, full_name, roles FROM app_user WHERE is_active = true ORDER BY id")
    reps = [u for u in users if {"field", "bench"} & set(u["roles"].split())]
    if not reps:
        return
    reps = reps[:9]
    finance = next((u["id"] for u in users if "finance" in u["roles"].split()), None)
    desk = next((u["id"] for u in users if "desk" in u["roles"].split()), None)
    manager = next((u["id"] for u in users if "manager" in u["roles"].split()), None)
    overrides = await _holidays()
    retail_days = await ledger_setting("ledger.retail_due_working_days")
    customers = _customers(rng, 60, 0.35)

    # ---- books: 4 backup (the office), then 196 regular, handed out in turn.
    book_rows, plans = [], []
    base = 100001
    for i in range(4):
        first = base + i * 50
        book_rows.append(("WX", first, first + 49, "backup", "issued", None, "", start, None, "备用维修单", 1, now, now))
        plans.append(None)
    per_rep = 20
    leaver = reps[-1]
    next_book = 4
    for r_idx, rep in enumerate(reps):
        n_books = 16 if rep is leaver else per_rep
        span = 330 / n_books if rep is leaver else 365 / n_books
        for j in range(n_books):
            first = base + next_book * 50
            next_book += 1
            issued = start + dt.timedelta(days=int(j * span))
            last_book = j == n_books - 1
            closed = None if last_book and rep is not leaver else issued + dt.timedelta(days=int(span))
            status = "issued" if closed is None else "closed"
            name = rep["full_name"] or rep["username"]
            book_rows.append(("WX", first, first + 49, "regular", status, rep["id"], name, issued, closed, "", 1, now, now))
            plans.append({"rep": rep, "issued": issued, "closed": closed, "last": last_book, "leaver": rep is leaver and last_book})
    while next_book < 200:
        first = base + next_book * 50
        next_book += 1
        book_rows.append(("WX", first, first + 49, "regular", "stock", None, "", None, None, "", 1, now, now))
        plans.append(None)
    await bulk("slip_book", ["series", "first_number", "last_number", "kind", "status", "holder_user_id", "holder_name",
                             "issued_on", "closed_on", "note", "version", "created_at", "updated_at"], book_rows)
    book_ids = {r["first_number"]: r["id"] for r in await fetch("SELECT id, first_number FROM slip_book WHERE series = 'WX'")}

    # ---- slips, number by number
    slip_rows: list[list[Any]] = []
    voids: list[tuple[int, str, dt.date]] = []          # (number, reason, handed_in_on)
    transfers: list[tuple[int, int, str, dt.date]] = []  # (from number, to number, signed_by, on)
    delays: list[tuple[int, str, str, dt.date]] = []
    handbacks: list[tuple[int, int, int, int, dt.date]] = []
    backup_next = base  # backup numbers 100001–100200
    jobs: list[list[Any]] = []  # the used/transferred rows; their job numbers are drawn below
    reasons = ["写错客户名称", "金额涂改", "复写不清", "撕坏", "填错日期", "客户取消服务"]
    signers = ["王经理", "李主管", "陈会计"]
    for b_idx, (book, plan) in enumerate(zip(book_rows, plans)):
        first = book[1]
        book_id = book_ids[first]
        if plan is None:
            for n in range(first, first + 50):
                slip_rows.append([book_id, "WX", n, "unused", book[5], None, None, "", "", 0, False, 1, now])
            continue
        rep = plan["rep"]
        issued, closed = plan["issued"], plan["closed"] or end
        days = max((closed - issued).days, 1)
        if plan["leaver"]:
            used_upto = first + 29           # 20 numbers handed back when the repairer left
        elif plan["last"]:
            used_upto = first + rng.randint(15, 49)
        else:
            used_upto = first + 49
        gap = first + rng.randint(3, 20) if rng.random() < 0.05 else None
        swap = first + rng.randint(5, 40) if rng.random() < 0.06 else None
        rows_here = []
        for k, n in enumerate(range(first, first + 50)):
            day = issued + dt.timedelta(days=min(days - 1, int(k * days / 50)))
            if day > end:
                day = end
            if n > used_upto:
                if plan["leaver"]:
                    rows_here.append([book_id, "WX", n, "returned", rep["id"], closed, None, "", "", 0, False, 1, now])
                else:
                    rows_here.append([book_id, "WX", n, "unused", rep["id"], None, None, "", "", 0, False, 1, now])
                continue
            if n == gap:
                rows_here.append([book_id, "WX", n, "unused", rep["id"], None, None, "", "", 0, False, 1, now])
                continue
            roll = rng.random()
            if roll < 0.035:
                voids.append((n, rng.choice(reasons), min(closed, end) if plan["closed"] else (day if rng.random() < 0.5 else None)))
                rows_here.append([book_id, "WX", n, "void", rep["id"], day, None, "", "", 0, False, 1, now])
                continue
            job_type = "ticket" if rng.random() < 0.7 else "rma"
            amount = _amount(rng)
            if roll < 0.05 and backup_next < base + 200:
                transfers.append((n, backup_next, rng.choice(signers), min(end, day + dt.timedelta(days=2))))
                row = [book_id, "WX", n, "transferred", rep["id"], day, _seq_at(day, k), job_type, "", amount, False, 1, now]
                rows_here.append(row)
                jobs.append(row)
                backup_next += 1
                continue
            has_delay = rng.random() < 0.02
            if has_delay:
                delays.append((n, rng.choice(["等待厂家配件", "客户现场不具备条件", "需返厂检测"]), f"YS-{n}", day + dt.timedelta(days=5)))
            row = [book_id, "WX", n, "used", rep["id"], day, _seq_at(day, k), job_type, "", amount, has_delay, 1, now]
            rows_here.append(row)
            jobs.append(row)
        if swap:
            a = next((r for r in rows_here if r[2] == swap and r[3] == "used"), None)
            b = next((r for r in rows_here if r[2] == swap + 1 and r[3] == "used"), None)
            if a and b:
                a[6], b[6] = b[6] + dt.timedelta(hours=1), a[6]   # the higher number was used first
        if plan["leaver"]:
            handbacks.append((book_id, rep["id"], used_upto + 1, first + 49, closed))
        slip_rows += rows_here
    # Job numbers come from the live counters (#12.7), in date order: an RMA or service slip created later in the
    # demo (or by a user) gets the next number, never one a seeded slip or receivable already names.
    await number_jobs(jobs)
    # backup slips: the transferred jobs continue there
    by_number = {r[2]: r for r in slip_rows}
    backup_book_of = {}
    for i in range(4):
        for n in range(base + i * 50, base + i * 50 + 50):
            backup_book_of[n] = book_ids[base + i * 50]
    for frm, to, _who, on in transfers:
        src = by_number[frm]
        row = by_number[to]
        row[3], row[4], row[5], row[6], row[7], row[8], row[9] = "used", src[4], on, _at(on, rng), src[7], src[8], src[9]
    bar = tqdm(total=len(slip_rows), desc="slips", unit="rows", disable=quiet, file=sys.stderr)
    await bulk("slip", ["book_id", "series", "number", "state", "holder_user_id", "state_on", "used_at", "job_type", "job_id",
                        "amount_fen", "has_delay", "version", "updated_at"], slip_rows, bar)
    bar.close()
    ids = {r["number"]: r["id"] for r in await fetch("SELECT id, number FROM slip WHERE series = 'WX'")}
    await bulk("slip_void", ["slip_id", "reason", "handed_in_on", "recorded_by", "created_at"],
               [(ids[n], reason, on, finance, now) for n, reason, on in voids])
    await bulk("slip_transfer", ["from_slip_id", "to_slip_id", "reason", "signed_by", "signed_on", "recorded_by", "created_at"],
               [(ids[f], ids[t], "维修未能按时完成", who, on, finance, now) for f, t, who, on in transfers])
    await bulk("slip_delay", ["slip_id", "reason", "delay_ref", "new_due_on", "recorded_by", "created_at"],
               [(ids[n], reason, ref, on, finance, now) for n, reason, ref, on in delays])
    await bulk("slip_handback", ["book_id", "user_id", "from_number", "to_number", "count", "reason", "handed_on",
                                 "recorded_by", "created_at"],
               [(b, u, f, t, t - f + 1, "离职交回未用维修单", on, finance, now) for b, u, f, t, on in handbacks])

    # ---- receivables: every charged job (a few deliberately off), and sales confirmations
    lines: list[dict] = []
    for row in slip_rows:
        if row[3] != "used" or not row[9]:
            continue
        if rng.random() < 0.004:
            continue  # deliberately missing receivable: the reconciliation shows the difference
        cust, cls = rng.choice(customers)
        amount = row[9] + (rng.choice([-500, 1000, 2]) if rng.random() < 0.006 else 0)
        lines.append({"source_type": row[7], "source_id": row[8], "customer": cust, "cls": cls, "tech": row[4],
                      "desc": "上门维修服务费" if row[7] == "ticket" else "返修维修费", "fen": amount, "posted": row[5]})
    async with write_transaction():
        for _i in range(250):
            sold = start + dt.timedelta(days=rng.randint(0, 364))
            cust, cls = rng.choice(customers)
            tech = rng.choice(reps)["id"]
            number = await next_number("sales_confirmation", entity_type="sales_confirmation", today=sold)
            fen_amt = rng.choice([380, 650, 1200, 2400, 5600, 12800]) * 100
            desc = rng.choice(["硬盘录像机", "网络摄像机", "交换机", "UPS电源", "报警主机", "门禁控制器"])
            rows = await fetch(
                "INSERT INTO sales_confirmation (number, customer_name, account_class, technician_user_id, description, "
                "amount_fen, sold_on, registered_by, created_at) VALUES ({}, {}, {}, {}, {}, {}, {}, {}, {}) RETURNING id",
                number.formatted, cust, cls, tech, desc, fen_amt, sold, desk, now)
            await fetch("UPDATE doc_number SET entity_id = {} WHERE series = 'sales_confirmation' AND formatted = {}",
                        str(rows[0]["id"]), number.formatted)
            lines.append({"source_type": "sales_confirmation", "source_id": number.formatted, "customer": cust, "cls": cls,
                          "tech": tech, "desc": desc, "fen": fen_amt, "posted": sold})
    lines.sort(key=lambda ln: (ln["posted"], ln["source_id"]))
    for ln in lines:
        ln["due"] = _add_working(ln["posted"], retail_days, overrides) if ln["cls"] == "retail" else None
        ln["paid"] = 0
        ln["stmt"] = None
        ln["extended"] = False
    # ---- monthly statements per customer and month
    statements = []
    cur_month = end.replace(day=1)
    prev_month = (cur_month - dt.timedelta(days=1)).replace(day=1)
    by_key: dict[tuple[str, dt.date], list[dict]] = {}
    for ln in lines:
        if ln["cls"] == "monthly" and ln["posted"] < cur_month:
            by_key.setdefault((ln["customer"], ln["posted"].replace(day=1)), []).append(ln)
    async with write_transaction():
        for (cust, month), group in sorted(by_key.items(), key=lambda kv: (kv[0][1], kv[0][0])):
            period_end = (month + dt.timedelta(days=32)).replace(day=1) - dt.timedelta(days=1)
            number = await next_number("statement", entity_type="statement", today=period_end)
            total = sum(ln["fen"] for ln in group)
            if month == prev_month:
                status = rng.choice(["draft", "draft", "reviewed", "reviewed", "checked", "sent"])
            else:
                status = "sent"
            sent_on = period_end + dt.timedelta(days=rng.randint(3, 8))
            due_on = sent_on + dt.timedelta(days=30) if status == "sent" else None
            paid = 0
            if status == "sent" and due_on and due_on < end:
                roll = rng.random()
                paid = total if roll < 0.85 else (total // 2 if roll < 0.93 else 0)
            elif status == "sent":
                paid = total if rng.random() < 0.3 else 0
            st = {"number": number.formatted, "customer": cust, "start": month, "end": period_end, "status": status,
                  "total": total, "paid": paid, "due": due_on, "sent_on": sent_on, "lines": group}
            if paid >= total and total:
                st["status"] = "settled"
            statements.append(st)
    st_rows = []
    for st in statements:
        s = st["status"]
        reviewed = s in ("reviewed", "checked", "sent", "settled")
        checked = s in ("checked", "sent", "settled")
        sent = s in ("sent", "settled")
        drafted_at = _at(st["end"] + dt.timedelta(days=1), rng)
        st_rows.append((st["number"], st["customer"], st["start"], st["end"], s, st["total"], st["paid"], st["due"],
                        desk, drafted_at, manager if reviewed else None, drafted_at + dt.timedelta(days=1) if reviewed else None,
                        finance if checked else None, drafted_at + dt.timedelta(days=2) if checked else None,
                        finance if sent else None, _at(st["sent_on"], rng) if sent else None, 1, now, now))
    await bulk("ar_statement", ["number", "customer_name", "period_start", "period_end", "status", "total_fen", "paid_fen",
                                "due_on", "drafted_by", "drafted_at", "reviewed_by", "reviewed_at", "checked_by", "checked_at",
                                "sent_by", "sent_at", "version", "created_at", "updated_at"], st_rows)
    st_ids = {r["number"]: r["id"] for r in await fetch("SELECT id, number FROM ar_statement")}
    await fetch("SELECT 1")  # (ids read above)
    payments: list[dict] = []
    for st in statements:
        sid = st_ids[st["number"]]
        left = st["paid"]
        for ln in st["lines"]:
            ln["stmt"] = sid
            ln["due"] = st["due"]
            x = min(left, ln["fen"])
            ln["paid"] = x
            left -= x
        if st["paid"]:
            payments.append({"stmt": sid, "line": None, "customer": st["customer"], "fen": st["paid"],
                             "on": min(end, (st["due"] or end) - dt.timedelta(days=rng.randint(0, 20))),
                             "alloc": [(ln, ln["paid"]) for ln in st["lines"] if ln["paid"]]})
    # ---- retail payments: most lines older than two weeks are paid, some in part
    for ln in lines:
        if ln["cls"] != "retail" or (end - ln["posted"]).days < 3:
            continue
        age = (end - ln["posted"]).days
        roll = rng.random()
        if roll < (0.9 if age > 30 else 0.5):
            ln["paid"] = ln["fen"]
        elif roll < 0.95 and ln["fen"] >= 200:
            ln["paid"] = ln["fen"] // 2
        if ln["paid"]:
            on = min(end, ln["posted"] + dt.timedelta(days=rng.randint(0, 9)))
            payments.append({"stmt": None, "line": ln, "customer": ln["customer"], "fen": ln["paid"], "on": on,
                             "alloc": [(ln, ln["paid"])]})
    rec_rows = [(ln["source_type"], ln["source_id"], ln["customer"], ln["cls"], ln["tech"], ln["desc"], ln["fen"], ln["paid"],
                 ln["paid"] < ln["fen"], ln["posted"], ln["due"], False, ln["stmt"], desk, 1, now, now) for ln in lines]
    bar = tqdm(total=len(rec_rows), desc="receivables", unit="rows", disable=quiet, file=sys.stderr)
    await bulk("receivable", ["source_type", "source_id", "customer_name", "account_class", "technician_user_id", "description",
                              "amount_fen", "paid_fen", "is_open", "posted_on", "due_date", "extended", "statement_id",
                              "created_by", "version", "created_at", "updated_at"], rec_rows, bar)
    bar.close()
    rec_ids = {(r["source_type"], r["source_id"]): r["id"] for r in await fetch(
        "SELECT id, source_type, source_id FROM receivable WHERE source_type IN ('ticket', 'rma', 'sales_confirmation')")}
    for ln in lines:
        ln["id"] = rec_ids[(ln["source_type"], ln["source_id"])]
    await bulk("ar_statement_line", ["statement_id", "receivable_id", "amount_fen", "description", "posted_on"],
               [(ln["stmt"], ln["id"], ln["fen"], ln["desc"], ln["posted"]) for ln in lines if ln["stmt"]])
    pay_rows = [(f"seed-{i}", p["customer"], p["stmt"], p["line"]["id"] if p["line"] else None, p["fen"], p["on"],
                 "transfer" if p["stmt"] else rng.choice(["cash", "transfer", "transfer"]), "", finance, now)
                for i, p in enumerate(payments)]
    await bulk("ar_payment", ["token", "customer_name", "statement_id", "receivable_id", "amount_fen", "received_on", "method",
                              "reference", "recorded_by", "created_at"], pay_rows)
    pay_ids = {r["token"]: r["id"] for r in await fetch("SELECT id, token FROM ar_payment WHERE token LIKE 'seed-%'")}
    await bulk("ar_allocation", ["payment_id", "receivable_id", "amount_fen"],
               [(pay_ids[f"seed-{i}"], ln["id"], x) for i, p in enumerate(payments) for ln, x in p["alloc"]])
    # ---- extension requests: pending on a few overdue retail lines, some decided
    overdue = [ln for ln in lines if ln["cls"] == "retail" and ln["paid"] < ln["fen"] and ln["due"] and ln["due"] < end]
    rng.shuffle(overdue)
    ext_rows = []
    for i, ln in enumerate(overdue[:10]):
        status = "pending" if i < 5 else rng.choice(["approved", "rejected"])
        ext_rows.append((ln["id"], rng.choice(["客户财务月底统一付款", "客户负责人出差，签字延后", "等待客户预算审批"]), ln["due"],
                         ln["due"] + dt.timedelta(days=30), status, desk, manager if status != "pending" else None,
                         now if status != "pending" else None, "", 1, now))
    await bulk("ar_extension", ["receivable_id", "reason", "old_due_date", "requested_due_date", "status", "requested_by",
                                "decided_by", "decided_at", "decision_note", "version", "created_at"], ext_rows)
    # ---- weekly ledger checks for the last eight finished weeks
    monday = end - dt.timedelta(days=end.weekday())
    checks = []
    for rep in reps:
        for w in range(1, 9):
            ws = monday - dt.timedelta(days=7 * w)
            week_lines = [ln for ln in lines if ln["tech"] == rep["id"] and ws <= ln["posted"] <= ws + dt.timedelta(days=6)]
            checks.append((rep["id"], ws, len(week_lines), sum(ln["fen"] for ln in week_lines), desk, "", now))
    await bulk("ar_week_check", ["technician_user_id", "week_start", "line_count", "total_fen", "checked_by", "note", "created_at"], checks)
    async with write_transaction():
        await fetch("INSERT INTO audit_event (created_at, user_id, username, roles, action, entity_type, entity_id, before, after, "
                    "request_id, ip) VALUES ({}, NULL, 'system', '', 'seed.ledger', 'slip_book', '', NULL, NULL, '', '')", now)
        await bump_rev()  # cached reports recompute


# ---------------------------------------------------------------------------- scale (benchmark)

async def seed_scale(rng: random.Random, quiet: bool) -> None:
    """20,000 slips used this month (series SC, 40 repairers × 10 books) and 100,000 receivable lines."""
    if await fetch("SELECT 1 FROM slip_book WHERE series = 'SC' LIMIT 1"):
        return
    now = utcnow()
    end = today()
    month_start = end.replace(day=1)
    month_days = max((end - month_start).days + 1, 1)
    overrides = await _holidays()
    retail_days = await ledger_setting("ledger.retail_due_working_days")
    customers = _customers(rng, 1000, 0.3)  # before any insert: a failure here leaves nothing half-written
    await bulk("app_user", ["username", "full_name", "phone", "password_hash", "roles", "is_active", "lang", "version",
                            "created_at", "updated_at"],
               [(f"lg_tech{n:03d}", fake.name(), fake.phone_number(), "", "field", True, "", 1, now, now) for n in range(40)
                if not await fetch("SELECT 1 FROM app_user WHERE username = {}", f"lg_tech{n:03d}")])
    techs = [r["id"] for r in await fetch("SELECT id FROM app_user WHERE username LIKE 'lg_tech%' ORDER BY username")]
    names = {r["id"]: r["full_name"] for r in await fetch("SELECT id, full_name FROM app_user WHERE username LIKE 'lg_tech%'")}
    books = []
    first = 1
    for t in techs:
        for j in range(10):
            status = "issued" if j == 9 else "closed"
            books.append(("SC", first, first + 49, "regular", status, t, names[t], month_start, None if j == 9 else end, "", 1, now, now))
            first += 50
    await bulk("slip_book", ["series", "first_number", "last_number", "kind", "status", "holder_user_id", "holder_name",
                             "issued_on", "closed_on", "note", "version", "created_at", "updated_at"], books)
    book_ids = {r["first_number"]: r["id"] for r in await fetch("SELECT id, first_number FROM slip_book WHERE series = 'SC'")}
    slips, lines = [], []
    seq = 0
    for b in books:
        book_id, t = book_ids[b[1]], b[5]
        t_index = techs.index(t)
        j = (b[1] - 1) // 50 % 10
        for k in range(50):
            n = b[1] + k
            day = month_start + dt.timedelta(days=min(month_days - 1, (j * 50 + k) * month_days // 500))
            roll = rng.random()
            if roll < 0.002:
                slips.append((book_id, "SC", n, "unused", t, None, None, "", "", 0, False, 1, now))
            elif roll < 0.03:
                slips.append((book_id, "SC", n, "void", t, day, None, "", "", 0, False, 1, now))
            else:
                seq += 1
                job_id = f"FW-S{t_index:02d}-{seq:06d}"
                amount = _amount(rng)
                slips.append((book_id, "SC", n, "used", t, day, _seq_at(day, k), "ticket", job_id, amount, False, 1, now))
                if amount:
                    cust, cls = rng.choice(customers)
                    lines.append(("ticket", job_id, cust, cls, t, "上门维修服务费", amount, 0, True, day,
                                  _add_working(day, retail_days, overrides) if cls == "retail" else None))
    bar = tqdm(total=len(slips), desc="scale slips", unit="rows", disable=quiet, file=sys.stderr)
    await bulk("slip", ["book_id", "series", "number", "state", "holder_user_id", "state_on", "used_at", "job_type", "job_id",
                        "amount_fen", "has_delay", "version", "updated_at"], slips, bar)
    bar.close()
    start = end - dt.timedelta(days=365)
    while len(lines) < 100_000:
        posted = start + dt.timedelta(days=rng.randint(0, 364))
        cust, cls = rng.choice(customers)
        fen_amt = rng.choice(AMOUNTS) * 100
        age = (end - posted).days
        paid = fen_amt if rng.random() < (0.85 if age > 60 else 0.4) else 0
        lines.append(("sales_confirmation" if rng.random() < 0.1 else "ticket", f"BX{len(lines):07d}", cust, cls,
                      rng.choice(techs), "服务费", fen_amt, paid, paid < fen_amt, posted,
                      _add_working(posted, retail_days, overrides) if cls == "retail" else posted + dt.timedelta(days=40)))
    bar = tqdm(total=len(lines), desc="scale receivables", unit="rows", disable=quiet, file=sys.stderr)
    await bulk("receivable", ["source_type", "source_id", "customer_name", "account_class", "technician_user_id", "description",
                              "amount_fen", "paid_fen", "is_open", "posted_on", "due_date", "extended", "created_by", "version",
                              "created_at", "updated_at"],
               [(*ln, False, None, 1, now, now) for ln in lines], bar)
    bar.close()
    async with write_transaction():
        await bump_rev()  # cached reports recompute

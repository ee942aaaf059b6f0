"""Loaner demo data (issue #6): 200 loaner units in the pool, 600 historical loans with their
spare-replacement notices, some still out, some overdue, a few finished cases with the loaner
still out, and open desk requests.

Consistent with the parts ledger (R-INV-03): every unit is received into LOANER, each loan is a
`loan_out` + `loan_back` pair (a failed check-in goes to BENCH / QUARANTINE, then a transfer back
after repair), and on-hand changes once per (part, location) by the sum of those movements.
Notice numbers are drawn per year in order (doc_counter / doc_number stay gapless, X-02).

`--scale N`: N more returned historical loans (capped at 500,000) for the overdue / list benchmark.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys
from typing import Any

from tqdm import tqdm

from app.core.db import fetch, utcnow, write_transaction
from seed import bulk
from seed.factories import fake

UNITS = 200
LOANS = 600
MAX_SCALE = 500_000
LOANER_STEMS = ("硬盘录像机", "网络摄像机", "交换机", "报警主机", "门禁控制器", "球型摄像机", "解码器", "考勤机")
CONDITIONS_OUT = ["外观完好，通电测试正常", "外观轻微划痕，功能正常", "外观完好，配电源适配器", "外观完好，已恢复出厂设置"]
CONDITIONS_IN = ["外观完好", "外壳轻微划痕", "缺电源适配器", "外观完好，有灰尘", "外壳裂纹"]
FAIL_NOTES = ["无法开机", "网口不通", "硬盘报错", "图像异常", "按键失灵"]
REASONS = ["客户临时借用，等待采购新设备", "展会临时使用", "项目验收前临时替代", "客户机房搬迁期间替代"]
RULES = ["not_fixed_on_site", "cannot_solve", "long_maintenance", ""]

# keepers and desks with the name pages show; the ledger rows keep the username
_PEOPLE = "SELECT id, username, COALESCE(NULLIF(full_name, ''), username) AS name FROM app_user"


async def _insert_many(head: str, row: str, rows: list[list[Any]], returning: str = "") -> list[dict]:
    out: list[dict] = []
    for i in range(0, len(rows), 500):
        chunk = rows[i:i + 500]
        out += await fetch(head + ", ".join([row] * len(chunk)) + returning, *[a for r in chunk for a in r])
    return out


async def _locations() -> dict[str, int]:
    return {r["code"]: int(r["id"]) for r in await fetch("SELECT id, code FROM stock_location WHERE code IN "
                                                         "('LOANER', 'CUSTOMER', 'BENCH', 'QUARANTINE')")}


async def _loaner_parts(rng: random.Random) -> list[dict]:
    """Serialised device models used as loaners: from the parts catalogue, or made here."""
    parts: list[dict] = []
    for stem in LOANER_STEMS:
        rows = await fetch("SELECT id, part_no, name, model FROM part WHERE serialised = true AND discontinued = false "
                           "AND name LIKE {} ORDER BY id LIMIT 2", f"{stem}%")
        parts += rows
    if len(parts) >= 6:
        return parts
    from app.parts import services as parts_services
    from seed.parts import KEEPER

    for i, (stem, model) in enumerate([("硬盘录像机", "DS-7808N-K2"), ("网络摄像机", "DS-2CD3T46"), ("交换机", "S1720-28GWR"),
                                       ("报警主机", "DS-19A08"), ("门禁控制器", "DS-K2604"), ("考勤机", "DS-K1T804")]):
        no = f"LN-{i + 1:03d}"
        if not await parts_services.part_by_no(no):
            await parts_services.create_part(KEEPER, parts_services.PartInput(
                part_no=no, name=f"{stem} {model}", model=model, category="device", unit="台", cost="800.00",
                supplier="海康威视", serialised=True))
    return await fetch("SELECT id, part_no, name, model FROM part WHERE part_no LIKE 'LN-%' ORDER BY id")


async def _customers() -> list[dict]:
    rows = await fetch("SELECT id, name FROM customer ORDER BY id LIMIT 400")
    if rows:
        return rows
    from tests.customers.factories import make_customer  # demo without the customers step

    for _ in range(20):
        await make_customer(fake.company())
    return await fetch("SELECT id, name FROM customer ORDER BY id LIMIT 400")


async def _numbers(years: list[int]) -> list[str]:
    """Notice numbers for loans whose out dates fall in `years` (in order): drawn like next_number()."""
    spec = (await fetch("SELECT prefix, format FROM doc_series WHERE code = 'loaner_notice'"))[0]
    counts: dict[int, int] = {}
    for y in years:
        counts[y] = counts.get(y, 0) + 1
    start: dict[int, int] = {}
    for y, n in counts.items():
        await fetch("INSERT INTO doc_counter (series, period, last_value) VALUES ('loaner_notice', {}, 0) "
                    "ON CONFLICT (series, period) DO NOTHING", y)
        bumped = await fetch("UPDATE doc_counter SET last_value = last_value + {} WHERE series = 'loaner_notice' "
                             "AND period = {} RETURNING last_value", n, y)
        start[y] = int(bumped[0]["last_value"]) - n
    out = []
    for y in years:
        start[y] += 1
        out.append(spec["format"].format(prefix=spec["prefix"], year=y, n=start[y]))
    return out


async def seed_loaners(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    if scale:
        await seed_history(rng, min(scale, MAX_SCALE), quiet)
        return
    if int((await fetch("SELECT COUNT(*) AS n FROM loan"))[0]["n"]) >= LOANS:
        return
    loc = await _locations()
    parts = await _loaner_parts(rng)
    customers = await _customers()
    rmas = await fetch("SELECT id, number, customer_id, customer_name, serial, status FROM rma "
                       "WHERE customer_id IS NOT NULL ORDER BY id LIMIT 300")
    keepers = await fetch(_PEOPLE + " WHERE roles LIKE '%warehouse%' ORDER BY id") or \
        await fetch(_PEOPLE + " ORDER BY id LIMIT 1") or [{"id": None, "username": "seed", "name": "seed"}]
    desks = await fetch(_PEOPLE + " WHERE roles LIKE '%desk%' ORDER BY id") or keepers
    now = utcnow()
    today = now.date()
    year_ago = now - dt.timedelta(days=365)

    # ---- 200 units received into the pool a year ago
    unit_rows = []
    for i in range(UNITS):
        p = parts[i % len(parts)]
        unit_rows.append([p["id"], f"LN{p['part_no'][-4:]}{i + 1:05d}", loc["LOANER"], year_ago, year_ago])
    moves: list[list[Any]] = []
    async with write_transaction():
        units = await _insert_many(
            "INSERT INTO serial_unit (part_id, serial, location_id, status, version, created_at, updated_at) VALUES ",
            "({}, {}, {}, 'in_stock', 1, {}, {})", unit_rows, returning=" RETURNING id, part_id, serial")
    keeper = keepers[0]
    for u in units:
        moves.append([year_ago, "receive", u["part_id"], u["id"], u["serial"], 1, None, loc["LOANER"], "purchase_request",
                      "", keeper["id"], keeper["username"], "备品池入库"])

    # ---- 600 loans: ~3 per unit, one after the other; the last loan of some units is still out
    per_unit = [LOANS // UNITS] * UNITS
    for i in range(LOANS - sum(per_unit)):
        per_unit[i] += 1
    loans: list[dict] = []
    final_location: dict[int, int] = {}
    for u, n in zip(units, per_unit):
        slot = 300 // n  # one loan per slot of the year: loans of a unit never overlap
        still_out = rng.random() < 0.22
        location = loc["LOANER"]
        for k in range(n):
            last = k == n - 1
            days = rng.randint(3, 21)
            out_at = year_ago + dt.timedelta(days=k * slot + rng.randint(1, slot // 3), hours=rng.randint(0, 9))
            if last and still_out:
                # recent: overdue for about a third of these
                out_at = now - dt.timedelta(days=rng.randint(1, 40), hours=rng.randint(0, 8))
            if location != loc["LOANER"]:  # repaired after a failed check-in: back to the pool first
                moves.append([out_at - dt.timedelta(days=1), "transfer", u["part_id"], u["id"], u["serial"], 1, location,
                              loc["LOANER"], "", "", keeper["id"], keeper["username"], "修复后回备品池"])
                location = loc["LOANER"]
            expected = (out_at + dt.timedelta(days=days)).date()
            c = customers[rng.randrange(len(customers))]
            kind = rng.random()
            case = {"case_type": "ticket", "case_id": None, "case_ref": f"FW-{out_at.year}-{rng.randint(1, 99999):05d}",
                    "reason": ""}
            if rmas and kind < 0.45:
                r = rmas[rng.randrange(len(rmas))]
                case = {"case_type": "rma", "case_id": r["id"], "case_ref": r["number"], "reason": ""}
                c = {"id": r["customer_id"], "name": r["customer_name"]}
            elif kind > 0.9:
                case = {"case_type": "standalone", "case_id": None, "case_ref": "", "reason": REASONS[rng.randrange(len(REASONS))]}
            k_user = keepers[rng.randrange(len(keepers))]
            loan = {"unit": u, "customer": c, **case, "out_at": out_at, "expected": expected,
                    "condition_out": CONDITIONS_OUT[rng.randrange(len(CONDITIONS_OUT))], "keeper": k_user,
                    "device_serial": "", "status": "out"}
            moves.append([out_at, "loan_out", u["part_id"], u["id"], u["serial"], 1, loc["LOANER"], loc["CUSTOMER"], "loan",
                          None, k_user["id"], k_user["username"], "备品借出"])
            loan["out_move"] = len(moves) - 1
            if not (last and still_out):
                back = out_at + dt.timedelta(days=rng.randint(2, days + 6), hours=rng.randint(1, 6))
                failed = rng.random() < 0.08
                dest = "pool" if not failed else ("bench" if rng.random() < 0.7 else "quarantine")
                to = {"pool": loc["LOANER"], "bench": loc["BENCH"], "quarantine": loc["QUARANTINE"]}[dest]
                loan.update(status="returned", returned_at=back, condition_in=CONDITIONS_IN[rng.randrange(4 if not failed else 5)],
                            test_result="fail" if failed else "pass", test_note=FAIL_NOTES[rng.randrange(len(FAIL_NOTES))] if failed else "",
                            returned_to=dest, recall_ref=f"PG-{back.year}-{rng.randint(1, 99999):06d}" if rng.random() < 0.8 else "",
                            in_user=keepers[rng.randrange(len(keepers))])
                moves.append([back, "loan_back", u["part_id"], u["id"], u["serial"], 1, loc["CUSTOMER"], to, "loan", None,
                              loan["in_user"]["id"], loan["in_user"]["username"], loan["test_note"] or loan["condition_in"]])
                loan["back_move"] = len(moves) - 1
                location = to
            else:
                location = loc["CUSTOMER"]
                if case["case_type"] == "rma" and rng.random() < 0.3:
                    loan["case_finished_at"] = now - dt.timedelta(days=rng.randint(0, 5))
            loans.append(loan)
        final_location[u["id"]] = location

    # numbers in out-date order (gapless per year)
    loans.sort(key=lambda ln: ln["out_at"])
    async with write_transaction():
        numbers = await _numbers([ln["out_at"].year for ln in loans])
        for ln, number in zip(loans, numbers):
            ln["number"] = number
            moves[ln["out_move"]][9] = number
            if "back_move" in ln:
                moves[ln["back_move"]][9] = number
        rows = []
        for ln in loans:
            u = ln["unit"]
            rows.append([
                ln["number"], ln["status"], u["id"], u["part_id"], u["serial"],
                next(p["model"] or p["part_no"] for p in parts if p["id"] == u["part_id"])[:100],
                ln["customer"]["id"], ln["customer"]["name"][:200], ln["case_type"], ln["case_id"], ln["case_ref"],
                ln["reason"], ln["out_at"], ln["expected"], ln["condition_out"], ln["keeper"]["id"], ln["keeper"]["name"][:60],
                ln.get("returned_at"), ln.get("condition_in", ""), ln.get("test_result", ""), ln.get("test_note", ""),
                ln.get("returned_to", ""), (ln.get("in_user") or {}).get("id"), (ln.get("in_user") or {}).get("name", "")[:60],
                ln.get("case_finished_at"), ln.get("recall_ref", ""), ln.get("returned_at") if ln.get("recall_ref") else None,
                ln["out_at"], ln.get("returned_at") or ln["out_at"]])
        created = await _insert_many(
            "INSERT INTO loan (number, status, serial_unit_id, part_id, serial, model, customer_id, customer_name, case_type, "
            "case_id, case_ref, reason, out_at, expected_return, condition_out, out_by, out_by_name, returned_at, condition_in, "
            "test_result, test_note, returned_to, in_by, in_by_name, case_finished_at, recall_ref, recalled_at, version, "
            "created_at, updated_at) VALUES ",
            "(" + ", ".join(["{}"] * 27) + ", 1, {}, {})", rows, returning=" RETURNING id, number, out_at")
        await _insert_many(
            "INSERT INTO doc_number (series, period, number, formatted, entity_type, entity_id, created_at) VALUES ",
            "('loaner_notice', {}, {}, {}, 'loan', {}, {})",
            [[int(r["number"].split("-")[1]), int(r["number"].split("-")[2]), r["number"], str(r["id"]), now] for r in created])
        moves.sort(key=lambda m: m[0])
        await _insert_many(
            "INSERT INTO stock_move (created_at, kind, part_id, serial_unit_id, serial, qty, from_location_id, to_location_id, "
            "document_type, document_id, user_id, username, reason) VALUES ",
            "({}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {}, {})", [[*m[:9], m[9] or "", *m[10:]] for m in moves])
        # unit locations and on-hand (= ledger sum): every unit was received into LOANER, then moved
        status = {loc["LOANER"]: "in_stock", loc["CUSTOMER"]: "at_customer", loc["BENCH"]: "in_stock",
                  loc["QUARANTINE"]: "quarantine"}
        level: dict[tuple[int, int], int] = {}
        for u in units:
            where = final_location[u["id"]]
            level[(u["part_id"], where)] = level.get((u["part_id"], where), 0) + 1
            if where != loc["LOANER"]:
                await fetch("UPDATE serial_unit SET location_id = {}, status = {} WHERE id = {}", where, status[where], u["id"])
        for (pid, lid), n in level.items():
            await fetch("INSERT INTO stock_level (part_id, location_id, on_hand, updated_at) VALUES ({}, {}, {}, {}) "
                        "ON CONFLICT (part_id, location_id) DO UPDATE SET on_hand = stock_level.on_hand + excluded.on_hand, "
                        "updated_at = excluded.updated_at", pid, lid, n, now)
        # a few open requests from the desk, with the rule that entitled them (R-LOAN-02)
        for i in range(6):
            c = customers[rng.randrange(len(customers))]
            d = desks[rng.randrange(len(desks))]
            rule = RULES[i % len(RULES)]
            ref = f"FW-{today.year}-{rng.randint(1, 99999):05d}"
            p = parts[rng.randrange(len(parts))]
            await fetch(
                "INSERT INTO loan_request (status, customer_id, case_type, case_id, case_ref, part_id, model, trigger_rule, "
                "reason, needed_by, requested_by, requested_by_name, version, created_at, updated_at) VALUES "
                "('open', {}, 'ticket', NULL, {}, {}, {}, {}, {}, {}, {}, {}, 1, {}, {})",
                c["id"], ref, p["id"], p["model"] or p["part_no"], rule, "现场故障，客户要求备品",
                today + dt.timedelta(days=rng.randint(0, 3)), d["id"], d["name"][:60], now, now)
            if rule:
                await fetch("INSERT INTO loan_trigger (case_type, case_id, case_ref, rule, fired_at, due_at, detail, customer_id, "
                            "recorded_by, recorded_by_name, created_at) VALUES ('ticket', NULL, {}, {}, {}, NULL, {}, {}, {}, "
                            "{}, {}) ON CONFLICT (case_type, case_ref, rule) DO NOTHING",
                            ref, rule, now - dt.timedelta(hours=rng.randint(1, 30)), json.dumps({"seed": True}), c["id"],
                            d["id"], d["name"][:60], now)


async def seed_history(rng: random.Random, rows: int, quiet: bool) -> None:
    """`rows` more returned loans over the last years on the existing units (each a balanced
    loan_out + loan_back pair into the pool, so on-hand does not change)."""
    loc = await _locations()
    units = await fetch("SELECT su.id, su.part_id, su.serial, p.model, p.part_no FROM serial_unit su JOIN part p ON p.id = su.part_id "
                        "WHERE su.id IN (SELECT DISTINCT serial_unit_id FROM loan) ORDER BY su.id")
    if not units:
        return
    customers = await _customers()
    keepers = await fetch(_PEOPLE + " WHERE roles LIKE '%warehouse%' ORDER BY id") or \
        await fetch(_PEOPLE + " ORDER BY id LIMIT 1") or [{"id": None, "username": "seed", "name": "seed"}]
    now = utcnow()
    span = dt.timedelta(days=3 * 365)
    start = now - span - dt.timedelta(days=400)
    meter = bulk.Meter("loaners (loan, stock_move)", quiet)
    loan_cols = ["id", "number", "status", "serial_unit_id", "part_id", "serial", "model", "customer_id", "customer_name",
                 "case_type", "case_ref", "out_at", "expected_return", "condition_out", "out_by", "out_by_name", "returned_at",
                 "condition_in", "test_result", "returned_to", "in_by", "in_by_name", "version", "created_at", "updated_at"]
    move_cols = ["created_at", "kind", "part_id", "serial_unit_id", "serial", "qty", "from_location_id", "to_location_id",
                 "document_type", "document_id", "user_id", "username", "reason"]
    people = [(k["id"], k["name"][:60], k["username"]) for k in keepers]
    stock = [(u["id"], u["part_id"], u["serial"], (u["model"] or u["part_no"])[:100]) for u in units]
    clients = [(c["id"], c["name"][:200]) for c in customers]
    pool, out_to = loc["LOANER"], loc["CUSTOMER"]
    rand, randint = rng.random, rng.randint
    # every out date drawn first and sorted: ids and the per-year notice numbers follow the time
    outs = sorted(start + span * rand() for _ in range(rows))
    bar = tqdm(total=rows, desc="historical loans", unit="rows", disable=quiet, file=sys.stderr)
    done = 0
    while done < rows:
        n = min(bulk.CHUNK, rows - done)
        chunk = outs[done:done + n]
        per_year: dict[int, int] = {}
        for out_at in chunk:
            per_year[out_at.year] = per_year.get(out_at.year, 0) + 1
        async with write_transaction():
            first = await bulk.reserve_ids("loan", n)
            numbers = bulk.Numbers("loaner_notice", "loan")
            await numbers.reserve(per_year)
            loan_rows, move_rows = [], []
            for k, out_at in enumerate(chunk):
                uid, pid, serial, model = stock[int(rand() * len(stock))]
                cid, cname = clients[int(rand() * len(clients))]
                kid, kname, kuser = people[int(rand() * len(people))]
                days = randint(3, 14)
                back = out_at + dt.timedelta(days=days - 1)
                number = numbers.take(out_at.year, first + k)
                loan_rows.append((first + k, number, "returned", uid, pid, serial, model, cid, cname, "ticket",
                                  f"FW-{out_at.year}-{randint(1, 99999):05d}", out_at, (out_at + dt.timedelta(days=days)).date(),
                                  CONDITIONS_OUT[0], kid, kname, back, CONDITIONS_IN[0], "pass", "pool", kid, kname, 1, out_at,
                                  back))
                move_rows.append((out_at, "loan_out", pid, uid, serial, 1, pool, out_to, "loan", number, kid, kuser, "备品借出"))
                move_rows.append((back, "loan_back", pid, uid, serial, 1, out_to, pool, "loan", number, kid, kuser,
                                  CONDITIONS_IN[0]))
            meter.add("loan", await bulk.insert("loan", loan_cols, loan_rows))
            meter.add("doc_number", len(numbers.rows))
            await numbers.flush()
            move_rows.sort(key=lambda m: m[0])
            meter.add("stock_move", await bulk.insert("stock_move", move_cols, move_rows))
        done += n
        bar.update(n)
    bar.close()
    meter.done()

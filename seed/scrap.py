"""Scrap demo data (issue #14): 150 scrap records (报废品处理记录) in every state, made through the real
services so that the stock ledger, the BF counter (gapless, X-02), the audit log and the status history
agree: units and quantities are quarantined from the central warehouse, appraised by demo bench/QC
staff, approved by the demo manager and GM, disposed with a method and a date in the last six months.
A few disposed records make a loaner at a customer a permanent replacement (R-SCR-01); one month's
quality defects are gathered into a batch (R-SCR-02). Deterministic (random.Random(seed)); idempotent
(the demo step marker, and nothing is made when records exist already)."""

from __future__ import annotations

import datetime as dt
import random
import sys
from decimal import Decimal

from tqdm import tqdm

from app.core.actor import Actor
from app.core.dates import today
from app.core.db import fetch, write_transaction
from app.core.errors import DomainError
from seed.factories import fake

RECORDS = 150
SKIPPED: list[str] = []  # why a demo unit was passed over (read by the seed test when a count is off)
# state → how many of the 150 end there
PLAN = [("draft", 15), ("appraising", 18), ("appraised", 14), ("manager_approved", 14), ("gm_approved", 9),
        ("rejected", 20), ("disposed", 60)]
NOTES = {
    "obsolete": ["产品换代，已停产无配件", "旧型号，客户已全部升级"],
    "repair_failed": ["返厂维修无效，厂家出具不可修复证明", "主板烧毁，返厂两次未修复"],
    "quality_defect": ["批次性花屏", "电源模块早期失效", "外壳开裂，来料不良", "硬盘坏道，质保期内多次故障"],
    "customer_damage": ["客户现场进水", "雷击损坏", "跌落摔坏"],
    "other": ["盘点发现损坏，原因不明", "仓库受潮霉变"],
}


async def _actor(username: str) -> Actor | None:
    rows = await fetch("SELECT id, username, full_name, roles FROM app_user WHERE username = {}", username)
    if not rows:
        return None
    r = rows[0]
    return Actor(user_id=r["id"], username=r["username"], roles=frozenset((r["roles"] or "").split()), name=r["full_name"])


async def seed_scrap(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    """150 records through the services (scale is ignored: the scrap list stays small)."""
    if scale:
        return
    # outside the app (python -m seed) the shell has not installed the manifests: permissions and settings
    from app.core.manifest import install
    from app.scrap import batches, services
    from app.scrap.manifest import MANIFEST
    from app.scrap.schemas import BatchInput, ConveneInput, DecisionInput, DisposeInput, OpinionInput, RaiseInput

    install(MANIFEST)

    keeper = await _actor("warehouse")
    manager = await _actor("manager")
    gm = await _actor("gm")
    judges = [a for a in [await _actor(u) for u in ("bench", "qc", "li.na", "zhao.lei", "zhou.min")] if a]
    if not (keeper and manager and gm and len(judges) >= 3):
        return  # no demo staff (the users step did not run): nothing to appraise with
    if await fetch("SELECT id FROM scrap_request WHERE requested_by = {} LIMIT 1", keeper.user_id):
        return  # idempotent: the demo keeper's records exist already
    units = await fetch(
        "SELECT su.serial, su.part_id, p.cost_fen FROM serial_unit su JOIN part p ON p.id = su.part_id "
        "JOIN stock_location l ON l.id = su.location_id WHERE l.code = 'CENTRAL' ORDER BY su.id LIMIT 400")
    bulk = await fetch(
        "SELECT p.id, p.part_no, p.cost_fen, sl.on_hand FROM stock_level sl JOIN part p ON p.id = sl.part_id "
        "JOIN stock_location l ON l.id = sl.location_id WHERE l.code = 'CENTRAL' AND p.serialised = false "
        "AND sl.on_hand >= 4 AND p.cost_fen > 0 ORDER BY p.id LIMIT 200")
    loans = [r["number"] for r in await fetch("SELECT number FROM loan WHERE status = 'out' ORDER BY id LIMIT 4")]
    rng.shuffle(units)
    rng.shuffle(bulk)
    states = [state for state, n in PLAN for _ in range(n)]
    rng.shuffle(states)
    threshold = await services.gm_threshold()
    bar = tqdm(total=RECORDS, desc="scrap records", unit="rec", disable=quiet, file=sys.stderr)
    day = today()
    for state in states:
        reason = rng.choice(["quality_defect", "quality_defect", "repair_failed", "obsolete", "customer_damage", "other"])
        source = rng.choice(["rma", "rma", "loaner", "stocktake", "manual"])
        ref = {"rma": f"RMA-{day.year}-{rng.randint(1, 900):06d}", "loaner": f"BP-{day.year}-{rng.randint(1, 500):06d}",
               "stocktake": f"PD-{day.year}-{rng.randint(1, 40):06d}", "manual": ""}[source]
        gm_case = state == "gm_approved" or (state in ("manager_approved", "disposed") and rng.random() < 0.3)
        data = dict(reason=reason, note=rng.choice(NOTES[reason]), source_type=source, source_ref=ref)
        if gm_case:
            data.update(value=(threshold + Decimal(rng.randint(100, 20000))).quantize(Decimal("0.01")),
                        value_reason="按整机采购价计")
        if state == "disposed" and loans and rng.random() < 0.15:
            data["loan_number"] = loans.pop()
        rid = None
        for _attempt in range(6):  # a demo unit or part the ledger refuses (e.g. a serial two parts share): next one
            try:
                rid = await _raise_one(rng, services, keeper, units, bulk, dict(data), ref, RaiseInput)
                break
            except DomainError as exc:
                SKIPPED.append(exc.message)
        if rid is None:
            break
        try:
            await _advance(rng, services, rid, state, keeper, manager, gm, judges, day,
                           ConveneInput, OpinionInput, DecisionInput, DisposeInput)
        except DomainError as exc:  # the record stays where it got to
            SKIPPED.append(exc.message)
        await _backdate(rng, rid, state, day)
        bar.update(1)
    bar.close()
    month = day.strftime("%Y-%m")
    try:
        await batches.gather(keeper, BatchInput(month=month, note="本月质量问题配件集中报废"))
    except DomainError:
        pass  # no quality-defect draft this month


async def _raise_one(rng, services, keeper, units, bulk, data, ref, RaiseInput) -> int | None:
    import app.parts.api as parts

    if units and (rng.random() < 0.6 or not bulk):
        unit = units.pop()
        if unit["cost_fen"] <= 0 and "value" not in data:
            data.update(value=Decimal(rng.randint(50, 800)), value_reason="按残值估算")
        return await services.raise_request(keeper, RaiseInput(serial=unit["serial"], **data))
    if bulk:
        part = bulk.pop()
        qty = rng.randint(1, min(5, int(part["on_hand"]) // 2 or 1))
        await parts.quarantine(keeper, part["id"], qty, "CENTRAL", reason=data["note"], document_type="stocktake",
                               document_id=ref or "seed")
        return await services.raise_request(keeper, RaiseInput(part_no=part["part_no"], qty=qty, **data))
    raise DomainError("no stock left for the demo")


async def _advance(rng, services, rid, state, keeper, manager, gm, judges, day, ConveneInput, OpinionInput, DecisionInput,
                   DisposeInput) -> None:
    if state == "draft":
        return
    row = await services.get_request(rid)
    group = rng.sample(judges, 3 if rng.random() < 0.3 else 2)
    await services.convene(keeper, rid, ConveneInput(version=row["version"], appraisers=[a.user_id for a in group]))
    if state == "appraising":
        if rng.random() < 0.6:
            await services.give_opinion(group[0], rid, OpinionInput(opinion="scrap", note="同意报废"))
        return
    rejected_at_appraisal = state == "rejected" and rng.random() < 0.4
    verdict = "repair" if rejected_at_appraisal else ("return_supplier" if rng.random() < 0.2 else "scrap")
    for judge in group[:2]:
        await services.give_opinion(judge, rid, OpinionInput(opinion=verdict, note=rng.choice(
            ["经测试确认无法修复", "外观及功能均不可恢复", "维修成本高于残值", "可更换元件修复"
             if verdict == "repair" else "建议报废"])))
    if state == "appraised" or rejected_at_appraisal:
        return
    row = await services.get_request(rid)
    if state == "rejected":
        await services.decide(manager, rid, DecisionInput(version=row["version"], decision="reject", note="仍有使用价值，退回",
                                                          returned_to=rng.choice(["CENTRAL", "BENCH"])), level="manager")
        return
    row = await services.decide(manager, rid, DecisionInput(version=row["version"], decision="approve", note="同意"),
                                level="manager")
    if row["gm_needed"]:
        if state == "manager_approved":
            return
        row = await services.decide(gm, rid, DecisionInput(version=row["version"], decision="approve", note="同意报废"),
                                    level="gm")
    if state in ("manager_approved", "gm_approved"):
        return
    method = "return_supplier" if (await services.get_request(rid))["appraisal_result"] == "return_supplier" else \
        rng.choice(["destroy", "recycle", "sell_scrap"])
    await services.dispose(keeper, rid, DisposeInput(version=row["version"], method=method,
                                                     disposed_on=day - dt.timedelta(days=rng.randint(0, 170)),
                                                     note=fake.sentence(nb_words=6)[:100]))


async def _backdate(rng, rid, state, day) -> None:
    """Spread the demo history over the months before its disposal date (own table only; the ledger and the
    audit log keep their real times)."""
    rows = await fetch("SELECT disposed_on FROM scrap_request WHERE id = {}", rid)
    disposed = rows[0]["disposed_on"]
    from app.core.dates import as_date

    end = as_date(disposed) or day
    created = dt.datetime.combine(end - dt.timedelta(days=rng.randint(3, 20)), dt.time(9 + rng.randint(0, 8)),
                                  dt.timezone(dt.timedelta(hours=8)))
    async with write_transaction():
        await fetch("UPDATE scrap_request SET created_at = {} WHERE id = {}", created, rid)

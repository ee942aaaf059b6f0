"""Demo data: the issuing company on every printout's letterhead (company.* settings, issue #12).

Only keys nobody has set are written: an operator's own letterhead survives a re-seed."""

from __future__ import annotations

import json
import random

from app.core.db import fetch, utcnow, write_transaction

DEMO_COMPANY = {
    "company.name": "杭州安视达安防技术服务有限公司",
    "company.address": "浙江省杭州市滨江区江南大道 3888 号 安视达大厦 5 楼 售后服务部",
    "company.phone": "0571-8896 5200",
    "company.bank_name": "中国工商银行杭州高新支行",
    "company.bank_account": "1202 0217 0990 0123 456",
    "company.tax_id": "91330108MA2H7K5X3Q",
}


async def seed_company(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    if scale:
        return
    async with write_transaction():
        for key, value in DEMO_COMPANY.items():
            if not await fetch("SELECT 1 FROM app_setting WHERE key = {}", key):
                await fetch("INSERT INTO app_setting (key, value, updated_at) VALUES ({}, {}, {})",
                            key, json.dumps(value, ensure_ascii=False), utcnow())

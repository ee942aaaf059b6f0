"""Demo data: one user per role (username = role, password `demo`) and a lived-in history.

Runs once: a marker row in app_setting (`demo.loaded`) makes later runs a no-op.
Later domains add a `seed_<domain>(rng, scale)` step to STEPS.
"""

from __future__ import annotations

import datetime as dt
import json
import random
import sys

from tqdm import tqdm

from app.accounts import services as accounts
from app.accounts.roles import ROLES
from app.audit.services import SYSTEM, to_json
from app.db import fetch, utcnow, write_transaction
from seed.factories import fake, reseed

DEMO_PASSWORD = "demo"


async def _already_loaded() -> bool:
    return bool(await fetch("SELECT 1 FROM app_setting WHERE key = {}", "demo.loaded"))


async def seed_users(rng: random.Random) -> None:
    # Demo password is shorter than the policy allows for real users: set the hash directly.
    password_hash = await accounts.hash_password(DEMO_PASSWORD)
    async with write_transaction():
        now = utcnow()
        for role in ROLES:
            await fetch(
                "INSERT INTO app_user (username, full_name, phone, password_hash, roles, is_active, lang, version, "
                "created_at, updated_at) VALUES ({}, {}, {}, {}, {}, true, '', 1, {}, {})",
                role, fake.name(), fake.phone_number(), password_hash, role, now, now,
            )
        # A few more staff with several roles, as in a real department.
        for username, roles in [("zhang.wei", "field desk"), ("li.na", "bench qc"), ("wang.fang", "warehouse"),
                                ("chen.jie", "finance"), ("liu.yang", "field"), ("zhao.lei", "bench")]:
            await fetch(
                "INSERT INTO app_user (username, full_name, phone, password_hash, roles, is_active, lang, version, "
                "created_at, updated_at) VALUES ({}, {}, {}, {}, {}, true, '', 1, {}, {})",
                username, fake.name(), fake.phone_number(), password_hash, roles, now, now,
            )
        await fetch(
            "INSERT INTO audit_event (created_at, user_id, username, roles, action, entity_type, entity_id, before, after, request_id, ip) "
            "VALUES ({}, NULL, 'system', '', 'seed.demo_users', 'user', '', NULL, {}, '', '')",
            now, to_json({"users": list(ROLES)}),
        )


ACTIONS = ["auth.login", "user.updated", "auth.logout", "user.language_set", "auth.login_failed"]


async def seed_history(rng: random.Random, rows: int, quiet: bool) -> None:
    """`rows` audit events spread over the last year (the big list for benchmarks)."""
    users = await fetch("SELECT id, username, roles FROM app_user ORDER BY id")
    start = utcnow() - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / max(rows, 1)
    batch = 2000
    bar = tqdm(total=rows, desc="audit history", unit="rows", disable=quiet, file=sys.stderr)
    done = 0
    while done < rows:
        n = min(batch, rows - done)
        values, args = [], []
        for i in range(n):
            user = users[rng.randrange(len(users))]
            when = start + step * (done + i)
            action = ACTIONS[rng.randrange(len(ACTIONS))]
            values.append("({}, {}, {}, {}, {}, 'user', {}, NULL, {}, {}, {})")
            args += [when, user["id"], user["username"], user["roles"], action, str(user["id"]),
                     json.dumps({"n": done + i}), f"seed{done + i}", fake.ipv4_private()]
        async with write_transaction():
            await fetch(
                "INSERT INTO audit_event (created_at, user_id, username, roles, action, entity_type, entity_id, "
                "before, after, request_id, ip) VALUES " + ", ".join(values),
                *args,
            )
        done += n
        bar.update(n)
    bar.close()


async def run(scale: int = 0, quiet: bool = False) -> None:
    rng = reseed()
    if not await _already_loaded():
        await seed_users(rng)
        await seed_history(rng, 500, quiet=True)
        async with write_transaction():
            await fetch("INSERT INTO app_setting (key, value, updated_at) VALUES ({}, {}, {})",
                        "demo.loaded", json.dumps({"at": utcnow().isoformat()}), utcnow())
        if not quiet:
            print("demo data loaded: users " + ", ".join(ROLES) + f" (password '{DEMO_PASSWORD}')")
    elif not quiet:
        print("demo data already loaded")
    if scale:
        await seed_history(rng, scale, quiet=quiet)

"""Demo data: one user per role (username = role, password `demo`) and a lived-in history.

Each domain is one STEP with its own marker row in app_setting (`demo.<name>`), so
`python -m seed` is idempotent and a domain added later is seeded on the next run
of an existing database. A domain lists its steps in its manifest
(`seed=[SeedStep("parts", "seed.parts:seed_parts", order=20)]`); `load_steps()` reads them from
`app.domains`, in `order`.
"""

from __future__ import annotations

import datetime as dt
import importlib
import json
import random
import sys
import zlib
from typing import Awaitable, Callable

from tqdm import tqdm

from app.core.accounts import services as accounts
from app.core.roles import ROLES
from app.core.audit.services import to_json
from app.core.db import fetch, utcnow, write_transaction
from seed import bulk
from seed.factories import fake, reseed

DEMO_PASSWORD = "demo"

# (name, fn(rng, scale, quiet)); scale=0 means demo size.
Step = Callable[[random.Random, int, bool], Awaitable[None]]
STEPS: list[tuple[str, Step]] = []

# Every domain's demo data is declared in its manifest (SeedStep); nothing is listed here any more.
DOMAIN_MODULES: list[str] = []


def register_step(name: str, fn: Step) -> None:
    if all(existing != name for existing, _ in STEPS):
        STEPS.append((name, fn))


def load_steps() -> None:
    from app.domains import manifests

    declared = sorted((step for manifest in manifests() for step in manifest.seed), key=lambda step: step.order)
    resolved = []
    for step in declared:
        module, _sep, function = step.target.partition(":")
        resolved.append((step.name, getattr(importlib.import_module(module), function)))
    # the manifests' order wins over whatever a seed module registered while being imported
    STEPS[:] = [entry for entry in STEPS if entry[0] == "users"] + resolved


async def _marker(name: str) -> bool:
    return bool(await fetch("SELECT 1 FROM app_setting WHERE key = {}", f"demo.{name}"))


async def _set_marker(name: str) -> None:
    async with write_transaction():
        await fetch("INSERT INTO app_setting (key, value, updated_at) VALUES ({}, {}, {})",
                    f"demo.{name}", json.dumps({"at": utcnow().isoformat()}), utcnow())


async def seed_users(rng: random.Random, scale: int = 0, quiet: bool = False) -> None:
    if scale:
        await seed_history(rng, scale, quiet=quiet)  # --scale N: N audit events (the big list)
        return
    # The demo password is shorter than the policy allows for real users: set the hash directly.
    password_hash = await accounts.hash_password(DEMO_PASSWORD)
    staff = [(role, role) for role in ROLES] + [
        # More staff with one or several roles, as in a real department.
        ("zhang.wei", "field desk"), ("li.na", "bench qc"), ("wang.fang", "warehouse"), ("chen.jie", "finance"),
        ("liu.yang", "field"), ("zhao.lei", "bench"), ("sun.li", "field"), ("zhou.min", "bench"),
        ("wu.gang", "field"), ("xu.jing", "desk"),
    ]
    async with write_transaction():
        now = utcnow()
        for username, roles in staff:
            await fetch(
                "INSERT INTO app_user (username, full_name, phone, password_hash, roles, is_active, lang, version, "
                "created_at, updated_at) VALUES ({}, {}, {}, {}, {}, true, '', 1, {}, {}) "
                "ON CONFLICT (username) DO NOTHING",
                username, fake.name(), fake.phone_number(), password_hash, roles, now, now,
            )
        await fetch(
            "INSERT INTO audit_event (created_at, user_id, username, roles, action, entity_type, entity_id, before, after, "
            "request_id, ip) VALUES ({}, NULL, 'system', '', 'seed.demo_users', 'user', '', NULL, {}, '', '')",
            now, to_json({"users": [name for name, _ in staff]}),
        )
    await seed_history(rng, 500, quiet=True)


ACTIONS = ["auth.login", "user.updated", "auth.logout", "user.language_set", "auth.login_failed"]


async def seed_history(rng: random.Random, rows: int, quiet: bool) -> None:
    """`rows` audit events spread over the last year (the big list for benchmarks): built in chunks and
    appended in bulk (seed.bulk; the append-only triggers guard UPDATE/DELETE, inserts pass)."""
    users = await fetch("SELECT id, username, roles FROM app_user ORDER BY id")
    start = utcnow() - dt.timedelta(days=365)
    step = dt.timedelta(days=365) / max(rows, 1)
    ips = [fake.ipv4_private() for _ in range(997)]  # Faker once; rows draw from the pool
    people = [(u["id"], u["username"], u["roles"], str(u["id"])) for u in users]
    columns = ["created_at", "user_id", "username", "roles", "action", "entity_type", "entity_id", "before", "after",
               "request_id", "ip"]
    meter = bulk.Meter("users (audit_event)", quiet)
    bar = tqdm(total=rows, desc="audit history", unit="rows", disable=quiet, file=sys.stderr)
    done = 0
    rand, n_users, n_actions, n_ips = rng.random, len(people), len(ACTIONS), len(ips)
    while done < rows:
        n = min(bulk.CHUNK, rows - done)
        batch = []
        for k in range(done, done + n):
            uid, username, roles, entity = people[int(rand() * n_users)]
            batch.append((start + step * k, uid, username, roles, ACTIONS[int(rand() * n_actions)], "user", entity,
                          None, f'{{"n": {k}}}', f"seed{k}", ips[int(rand() * n_ips)]))
        async with write_transaction():
            meter.add("audit_event", await bulk.insert("audit_event", columns, batch))
        done += n
        bar.update(n)
    bar.close()
    meter.done()


register_step("users", seed_users)


async def run(scale: int = 0, quiet: bool = False, steps: set[str] | None = None) -> None:
    load_steps()
    for name, fn in STEPS:
        if await _marker(name):
            if not quiet:
                print(f"demo {name}: already loaded")
            continue
        await fn(reseed(zlib.crc32(name.encode())), 0, quiet)
        await _set_marker(name)
        if not quiet:
            print(f"demo {name}: loaded")
    if scale:
        async with bulk.tuned():  # SQLite pragmas for the bulk load only (seed.bulk)
            for name, fn in STEPS:
                if steps and name not in steps:
                    continue
                await fn(reseed(zlib.crc32(name.encode()) + scale), scale, quiet)
    if not quiet:
        print(f"demo users: {', '.join(ROLES)} (password '{DEMO_PASSWORD}')")

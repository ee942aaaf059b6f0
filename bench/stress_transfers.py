"""PostgreSQL stress test of the stock ledger (issue #11 item 3): opposite-direction transfers and mixed movements
of a few parts from several processes at once, for a few seconds.

    DATABASE_URL=postgresql://postgres@127.0.0.1:5432/test .venv/bin/python -m bench.stress_transfers \
        [--processes 4] [--concurrency 8] [--seconds 5] [--parts 2]

It makes a database of its own (`shouhou_stress_<random>` next to the one named by DATABASE_URL), migrates it,
stocks CENTRAL and BENCH, lets every process run `--concurrency` coroutines that each book movements in a loop
through the parts services (transfers CENTRAL→BENCH and BENCH→CENTRAL, issues, returns, adjustments; the same path
the movement form takes), then prints the requests, the outcomes (booked, refused for stock, 409 conflict after the
retries, any other exception — a 500 in the app) and whether every (part, location) on-hand equals its ledger sum.
The database is dropped at the end. Exit status 1 on any exception or ledger mismatch.
"""

from __future__ import annotations

import argparse
import asyncio
import multiprocessing as mp
import os
import random
import sys
import time
import uuid
from collections import Counter
from urllib.parse import urlsplit, urlunsplit

LOCATIONS = ("CENTRAL", "BENCH")


def _worker(url: str, part_ids: list[int], seconds: float, concurrency: int, seed: int, out: "mp.Queue") -> None:
    os.environ["DATABASE_URL"] = url
    out.put(asyncio.run(_work(part_ids, seconds, concurrency, seed)))


async def _work(part_ids: list[int], seconds: float, concurrency: int, seed: int) -> dict:
    from app.core import db
    from app.core.audit.services import Actor
    from app.core.errors import DomainError
    from app.parts import services

    await db.startup()
    actor = Actor(user_id=None, username="stress", roles=frozenset({"warehouse"}))
    counts: Counter = Counter()
    errors: Counter = Counter()
    deadline = time.monotonic() + seconds

    async def one(rng: random.Random) -> None:
        while time.monotonic() < deadline:
            part = rng.choice(part_ids)
            frm, to = LOCATIONS if rng.random() < 0.5 else LOCATIONS[::-1]
            roll = rng.random()
            counts["requests"] += 1
            try:
                if roll < 0.7:  # mostly the case that deadlocked: one part, both directions
                    await services.transfer(actor, part, rng.randint(1, 3), frm, to)
                elif roll < 0.8:
                    await services.issue_to(actor, part, 1, frm, "ticket", rng.randint(1, 10**6))
                elif roll < 0.9:
                    await services.return_stock(actor, part, 1, to, document_type="ticket", document_id=1)
                else:
                    await services.adjust(actor, part, frm, rng.choice((-1, 1)), "stress count")
                counts["booked"] += 1
            except DomainError as exc:
                if services.is_not_enough_stock(exc):
                    counts["refused_not_enough_stock"] += 1
                elif (exc.current or {}).get("kind") == "conflict":
                    counts["conflict_409"] += 1
                else:
                    counts[f"refused_{exc.status}"] += 1
            except Exception as exc:  # noqa: BLE001 - what the app would answer with a 500
                counts["exceptions_5xx"] += 1
                errors[type(exc).__name__] += 1

    await asyncio.gather(*[one(random.Random(seed * 1000 + n)) for n in range(concurrency)])
    await db.shutdown()
    return {"counts": dict(counts), "errors": dict(errors)}


async def _admin(url: str, sql: str) -> None:
    import asyncpg

    conn = await asyncpg.connect(url)
    try:
        await conn.execute(sql)
    finally:
        await conn.close()


async def _prepare(n_parts: int) -> list[int]:
    from app.core import db
    from app.core.manage import migrate
    from seed.parts import make_part, stock

    await migrate(quiet=True)
    await db.startup()
    ids = []
    for _ in range(n_parts):
        part = await make_part()
        for loc in LOCATIONS:
            await stock(part, loc, 200)
        ids.append(part)
    await db.shutdown()
    return ids


async def _check(part_ids: list[int]) -> tuple[bool, int, list]:
    from app.core import db
    from app.core.db import fetch
    from app.parts import services

    await db.startup()
    mismatches = []
    for part in part_ids:
        mismatches += (await services.reconcile(part))["mismatches"]
    moves = await fetch("SELECT COUNT(*) AS n FROM stock_move")
    await db.shutdown()
    return not mismatches, int(moves[0]["n"]), mismatches


def main(argv: list[str] | None = None) -> int:
    ap = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    ap.add_argument("--processes", type=int, default=4)
    ap.add_argument("--concurrency", type=int, default=8, help="coroutines per process")
    ap.add_argument("--seconds", type=float, default=5.0)
    ap.add_argument("--parts", type=int, default=2)
    args = ap.parse_args(argv)
    base = os.environ.get("DATABASE_URL", "")
    if not base.startswith(("postgresql://", "postgres://")):
        print("Set DATABASE_URL to a PostgreSQL server (the test makes and drops a database of its own).")
        return 2
    name = f"shouhou_stress_{uuid.uuid4().hex[:8]}"
    url = urlunsplit(urlsplit(base)._replace(path="/" + name))
    asyncio.run(_admin(base, f'CREATE DATABASE "{name}"'))
    try:
        os.environ["DATABASE_URL"] = url
        part_ids = asyncio.run(_prepare(args.parts))
        ctx = mp.get_context("spawn")
        out = ctx.Queue()
        procs = [ctx.Process(target=_worker, args=(url, part_ids, args.seconds, args.concurrency, n, out))
                 for n in range(args.processes)]
        started = time.monotonic()
        for p in procs:
            p.start()
        results = [out.get() for _ in procs]
        for p in procs:
            p.join()
        elapsed = time.monotonic() - started
        counts: Counter = Counter()
        errors: Counter = Counter()
        for r in results:
            counts.update(r["counts"])
            errors.update(r["errors"])
        ok, moves, mismatches = asyncio.run(_check(part_ids))
    finally:
        asyncio.run(_admin(base, f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)'))
    print(f"processes={args.processes} coroutines/process={args.concurrency} seconds={args.seconds} parts={args.parts} "
          f"(wall {elapsed:.1f}s)")
    print(f"requests={counts['requests']} booked={counts['booked']} "
          f"refused_not_enough_stock={counts['refused_not_enough_stock']} conflicts_409={counts['conflict_409']} "
          f"other_refusals={sum(v for k, v in counts.items() if k.startswith('refused_') and k != 'refused_not_enough_stock')} "
          f"exceptions_5xx={counts['exceptions_5xx']} {dict(errors) if errors else ''}")
    print(f"ledger rows={moves} ledger == on-hand: {'yes' if ok else 'NO ' + repr(mismatches[:5])}")
    return 0 if ok and not counts["exceptions_5xx"] else 1


if __name__ == "__main__":
    sys.exit(main())

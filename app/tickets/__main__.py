"""`python -m app.tickets sweep`: record the SLA breaches of running tickets whose deadline has passed (R-TKT-05).

While the app runs, every worker process already sweeps every `tickets.sweep_seconds` (a periodic job the
tickets manifest declares; app.core.periodic). Recording is idempotent (one row per ticket and clock, stamped
with the deadline), so several workers sweeping side by side is harmless. A deployment that prefers one sweeper
sets SHOUHOU_PERIODIC=0 on the workers and runs this from cron instead, e.g.

    */2 * * * *  cd /srv/shouhou && .venv/bin/python -m app.tickets sweep

Every ticket action also records its own breaches as it happens.
"""

from __future__ import annotations

import asyncio
import sys


async def _sweep() -> int:
    from app.core import db
    from app.core.manifest import install_all
    from app.domains import manifests
    from app.tickets.services import sweep_breaches

    install_all(manifests())
    await db.startup()
    try:
        return await sweep_breaches()
    finally:
        await db.shutdown()


def main() -> None:
    if sys.argv[1:] != ["sweep"]:
        raise SystemExit("usage: python -m app.tickets sweep")
    print(f"breaches recorded: {asyncio.run(_sweep())}")


if __name__ == "__main__":
    import app  # noqa: F401  (PICCOLO_CONF)

    main()

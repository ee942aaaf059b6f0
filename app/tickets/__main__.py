"""`python -m app.tickets sweep`: record the SLA breaches of running tickets whose deadline has passed
(R-TKT-05; run it from cron every few minutes — every ticket action also records its own)."""

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

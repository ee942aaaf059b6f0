"""`python -m app.parts reconcile`: prove on-hand = ledger sum for every (part, location) (R-INV-03).

Exit status 0 when everything matches, 1 when a mismatch is found (listed).
"""

from __future__ import annotations

import asyncio
import sys

import app  # noqa: F401  (PICCOLO_CONF)


async def _reconcile() -> int:
    from app.core import db
    from app.parts.services import reconcile

    await db.startup()
    try:
        report = await reconcile()
    finally:
        await db.shutdown()
    for m in report["mismatches"]:
        print(f"MISMATCH part {m.get('part_no') or m['part_id']} at {m.get('location_name') or m['location_id']}: "
              f"on_hand={m['on_hand']} ledger={m['ledger']} units={m['units']}")
    print(f"checked {report['checked']} stock positions, {len(report['mismatches'])} mismatches")
    return 1 if report["mismatches"] else 0


def main(argv: list[str]) -> int:
    command = argv[0] if argv else "reconcile"
    if command != "reconcile":
        print(f"unknown command {command!r}; try: reconcile", file=sys.stderr)
        return 2
    return asyncio.run(_reconcile())


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))

"""The scrap demo seed (issue #14): 150 records in every state, through the real services, idempotent."""

from __future__ import annotations

import random

from app.core.db import fetch
from app.parts import services as ledger
from app.scrap.status import ScrapStatus
from seed import demo


async def test_seed_makes_150_records_in_every_state_with_gapless_numbers():
    """150 demo records by the demo keeper, every state present, BF numbers 1..N, ledger consistent, idempotent."""
    await demo.run(quiet=True)
    keeper = (await fetch("SELECT id FROM app_user WHERE username = 'warehouse'"))[0]["id"]
    rows = await fetch("SELECT status, COUNT(*) AS n FROM scrap_request WHERE requested_by = {} GROUP BY status", keeper)
    counts = {r["status"]: int(r["n"]) for r in rows}
    from seed import scrap as scrap_seed

    assert sum(counts.values()) == 150 and set(counts) == {str(s) for s in ScrapStatus}, scrap_seed.SKIPPED
    for row in await fetch("SELECT period, COUNT(*) AS n, MAX(number) AS top FROM doc_number WHERE series = 'scrap' "
                           "GROUP BY period"):
        assert int(row["n"]) == int(row["top"]), row
    for pid in [r["part_id"] for r in await fetch("SELECT DISTINCT part_id FROM scrap_request WHERE requested_by = {} "
                                                  "LIMIT 15", keeper)]:
        assert (await ledger.reconcile(pid))["mismatches"] == [], pid
    disposed = await fetch("SELECT COUNT(*) AS n FROM scrap_request r JOIN stock_move m ON m.id = r.disposal_move_id "
                           "WHERE r.status = 'disposed' AND m.kind = 'scrap' AND r.requested_by = {}", keeper)
    assert int(disposed[0]["n"]) == counts["disposed"]
    await scrap_seed.seed_scrap(random.Random(1), 0, True)  # idempotent (imported after demo.run: order matters)
    again = await fetch("SELECT COUNT(*) AS n FROM scrap_request WHERE requested_by = {}", keeper)
    assert int(again[0]["n"]) == 150

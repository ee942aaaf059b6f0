"""The loaner demo seed: 200 units, 600 loans, some overdue, consistent with the parts ledger."""

from __future__ import annotations

import random

from app.core.db import fetch
from app.loaners import services as loans
from app.parts import services as parts
from seed.loaners import seed_loaners


async def test_seed_loaners_is_ledger_consistent_and_numbers_are_gapless():
    """seed_loaners: ≥ 600 loans, some out and overdue, on-hand = ledger, notice numbers 1..N per year."""
    before = int((await fetch("SELECT COUNT(*) AS n FROM loan"))[0]["n"])
    await seed_loaners(random.Random(6), 0, True)
    after = int((await fetch("SELECT COUNT(*) AS n FROM loan"))[0]["n"])
    assert after >= 600 or before >= 600
    if before < 600:
        assert after - before == 600
        assert await loans.overdue_count() > 0 and await loans.out_count() > 0
    part_ids = [r["part_id"] for r in await fetch("SELECT DISTINCT part_id FROM loan")]
    for pid in part_ids[:20]:
        assert (await parts.reconcile(pid))["mismatches"] == [], pid
    for row in await fetch("SELECT period, COUNT(*) AS n, MAX(number) AS top FROM doc_number "
                           "WHERE series = 'loaner_notice' GROUP BY period"):
        assert int(row["n"]) == int(row["top"]), row
    # every open loan's unit is at the customer; never two open loans of one unit
    rows = await fetch("SELECT l.id FROM loan l JOIN serial_unit su ON su.id = l.serial_unit_id "
                       "JOIN stock_location sl ON sl.id = su.location_id WHERE l.status = 'out' AND sl.code <> 'CUSTOMER'")
    assert rows == []
    await seed_loaners(random.Random(6), 0, True)  # idempotent
    assert int((await fetch("SELECT COUNT(*) AS n FROM loan"))[0]["n"]) == max(after, before)

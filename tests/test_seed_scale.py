"""`python -m seed --scale N` (issue #15): bulk loading keeps the row counts, the parts ledger and the
gapless document numbers — and the app's own next number follows the last seeded one (both engines)."""

from __future__ import annotations

from app.core.dates import today
from app.core.db import fetch, write_transaction
from app.core.numbers import next_number
from seed import demo
from seed.customers import make_customer

SCALE = 2000
STEPS = {"users", "parts", "customers", "tickets", "loaners", "rma"}  # ledger/scrap: fixed sizes, not --scale
TABLES = ["audit_event", "stock_move", "serial_unit", "customer", "contract", "device", "ticket", "ticket_visit", "loan",
          "rma"]
SERIES = ["contract", "service_slip", "dispatch", "loaner_notice", "rma"]


async def _counts() -> dict[str, int]:
    return {t: int((await fetch(f"SELECT COUNT(*) AS n FROM {t}"))[0]["n"]) for t in TABLES}


async def _gapless() -> None:
    counters = {(r["series"], int(r["period"])): int(r["last_value"])
                for r in await fetch("SELECT series, period, last_value FROM doc_counter")}
    for row in await fetch("SELECT series, period, COUNT(*) AS n, MIN(number) AS lo, MAX(number) AS hi FROM doc_number "
                           "GROUP BY series, period"):
        key = (row["series"], int(row["period"]))
        assert (int(row["lo"]), int(row["hi"])) == (1, int(row["n"])), row  # 1..N, no gap, no duplicate
        assert counters[key] == int(row["hi"]), (key, counters[key], row)  # the counter = the last number written


async def test_scale_2000_per_step_counts_ledger_and_next_numbers():
    """Each step at --scale 2000 adds its rows (customers N/20 with a contract each, loans as out+back moves),
    on-hand = ledger sum, doc numbers 1..N per (series, year) = counter, and next_number() continues."""
    await demo.run(quiet=True)
    before = await _counts()
    last_ids = {t: int((await fetch(f"SELECT COALESCE(MAX(id), 0) AS m FROM {t}"))[0]["m"]) for t in ("ticket", "loan", "contract")}
    await demo.run(scale=SCALE, quiet=True, steps=STEPS)
    after = await _counts()
    grown = {t: after[t] - before[t] for t in TABLES}
    assert grown["audit_event"] == SCALE
    assert grown["device"] == SCALE
    assert grown["customer"] == SCALE // 20 and grown["contract"] == SCALE // 20
    assert grown["ticket"] == SCALE and 0 < grown["ticket_visit"] <= SCALE
    assert grown["loan"] == SCALE
    assert grown["stock_move"] == SCALE + 2 * SCALE  # parts history + each loan's loan_out and loan_back
    assert grown["rma"] == SCALE
    # every seeded ticket / loan / contract has its document number row pointing at it
    for table, series in (("ticket", "service_slip"), ("loan", "loaner_notice"), ("contract", "contract")):
        missing = await fetch(f"SELECT COUNT(*) AS n FROM {table} t WHERE t.id > {{}} AND NOT EXISTS (SELECT 1 FROM doc_number d "
                              f"WHERE d.series = '{series}' AND d.formatted = t.number AND d.entity_id = CAST(t.id AS TEXT))",
                              last_ids[table])
        assert int(missing[0]["n"]) == 0, table
    from app.parts.api import reconcile

    report = await reconcile()
    assert report["mismatches"] == [], report["mismatches"][:5]
    await _gapless()
    # the app draws the next number of each series right after the seeded ones
    year = today().year
    for series in SERIES:
        top = int((await fetch("SELECT COALESCE(MAX(number), 0) AS n FROM doc_number WHERE series = {} AND period = {}",
                               series, year))[0]["n"])
        async with write_transaction():
            drawn = await next_number(series)
        assert (drawn.period, drawn.number) == (year, top + 1), series
    await _gapless()
    # ids given explicitly while seeding: the app's own inserts continue after them (PostgreSQL: the sequences)
    last_customer = int((await fetch("SELECT MAX(id) AS m FROM customer"))[0]["m"])
    assert await make_customer() > last_customer

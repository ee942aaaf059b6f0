"""Slip ledger and receivables (issue #7): the month's reconciliation over 20,000 slips and the ageing
report over 100,000 receivable lines (target: p99 under 1 s, measured against /healthz).

`--scale N` (any N > 0) adds 20,000 slips used this month by 40 repairers and receivables up to
100,000 lines (seed/ledger.py:seed_scale).
"""

SEED_STEP = "ledger"

PAGES = [
    ("slip reconciliation, this month, every repairer", "/slips/reconcile", "finance"),
    ("slip reconciliation, one repairer's numbers", "/slips/reconcile?holder={lg_holder}", "finance"),
    ("slip books, issued", "/slips", "finance", "list"),
    ("ageing report", "/receivables/ageing", "finance"),
    ("receivables, open lines", "/receivables", "finance", "list"),
    ("receivables, overdue lines", "/receivables?status=overdue", "finance", "list"),
    ("Monday overdue review", "/receivables/overdue", "manager"),
]


async def params() -> dict:
    from app.core.db import fetch

    rows = await fetch("SELECT holder_user_id AS h FROM slip_book WHERE status = 'issued' AND kind = 'regular' "
                       "ORDER BY series DESC, id LIMIT 1")
    return {"lg_holder": rows[0]["h"] if rows else 0}

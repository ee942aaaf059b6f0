"""Bench pages (issue #5): the board with ~500 open units (one query set, whatever the card count),
the board filtered by technician, an RMA detail with its timeline, the monthly report.
The card advance is a POST (a compare-and-set UPDATE); its speed is the detail page's plus one write."""

SEED_STEP = "rma"  # --scale N → N more RMAs, the board topped up to 500 open units

PAGES = [
    ("bench board, all open units", "/bench", "bench", "board"),
    ("bench board, one technician", "/bench?tech={tech_id}", "bench", "board"),
    ("RMA detail with timeline", "/bench/{rma_id}", "bench"),
    ("RMA monthly report", "/bench/report", "manager"),
]


async def params() -> dict:
    from app.core.db import fetch

    rma = await fetch("SELECT id, technician_id FROM rma WHERE status = 'repairing' ORDER BY id LIMIT 1")
    if not rma:
        rma = await fetch("SELECT id, technician_id FROM rma ORDER BY id DESC LIMIT 1")
    tech = rma[0]["technician_id"] if rma and rma[0]["technician_id"] else ""
    return {"rma_id": rma[0]["id"] if rma else 1, "tech_id": tech}

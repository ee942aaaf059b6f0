"""Home-page panels of the parts domain (listed in app/parts/manifest.py)."""

from __future__ import annotations

from app.core.db import fetch
from app.parts import emergency, services, stocktake
from app.parts.status import PurchaseStatus, StocktakeStatus


async def warehouse_panel(user) -> dict | None:
    counts = await emergency.open_counts()
    receipts = await fetch("SELECT COUNT(*) AS n FROM purchase_request WHERE status = {}", PurchaseStatus.APPROVED.value)
    counting = await fetch("SELECT COUNT(*) AS n FROM stocktake WHERE status = {}", StocktakeStatus.COUNTING.value)
    return {"reorder": await services.reorder_count(), "to_issue": counts["approved"], "waiting_gm": counts["requested"],
            "receipts": int(receipts[0]["n"]), "counting": int(counting[0]["n"])}


async def gm_panel(user) -> dict | None:
    rows, _cursor = await emergency.list_requests("requested", limit=5)
    counts = await emergency.open_counts()
    # #11 R-INV-05: count differences in the emergency store wait for the general manager too
    counts_waiting = await fetch(
        "SELECT s.id, s.number, l.name AS location_name FROM stocktake s JOIN stock_location l ON l.id = s.location_id "
        "WHERE s.status = {} AND l.kind = 'emergency' ORDER BY s.id LIMIT 5", StocktakeStatus.SUBMITTED.value)
    return {"rows": rows, "waiting": counts["requested"], "stocktakes": counts_waiting}


async def manager_panel(user) -> dict | None:
    prs = await fetch("SELECT COUNT(*) AS n FROM purchase_request WHERE status = {}", PurchaseStatus.REQUESTED.value)
    return {"purchases": int(prs[0]["n"]), "stocktakes": await stocktake.submitted_count()}

"""The bench's home-page panels (listed in the manifest)."""

from __future__ import annotations

from app.core.db import fetch
from app.rma import services as svc


async def bench_panel(user) -> dict | None:
    board_rows = await svc.overdue_repairs(10, technician_id=user.id)
    mine = await fetch("SELECT id, number, serial, status, received_at FROM rma WHERE technician_id = {} AND status IN "
                       "('waiting', 'repairing', 'repaired', 'burn_in') ORDER BY received_at, id LIMIT 8", user.id)
    for row in mine:
        row["status_label"] = str(svc.STATUSES.get(row["status"], row["status"]))
    return {"mine": mine, "overdue": board_rows}


async def qc_panel(user) -> dict | None:
    return {"registered": await svc.count_of("registered"), "received": await svc.count_of("received"),
            "burn_in": await svc.count_of("burn_in"), "repaired": await svc.count_of("repaired")}


async def manager_panel(user) -> dict | None:
    await svc.sweep_if_due()
    rows = await svc.list_replacements("pending", limit=8)
    return {"rows": rows}


async def desk_panel(user) -> dict | None:
    return {"quotes": await svc.quotes_to_send(5), "late": await svc.overdue_shipments(5),
            "callbacks": await svc.callbacks_due(5), "long": await svc.overdue_repairs(3)}

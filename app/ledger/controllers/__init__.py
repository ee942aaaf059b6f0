"""Slip ledger (/slips) and receivables (/receivables) handlers, and the ledger's home panels."""

from __future__ import annotations

from app.ledger import labels
from app.ledger import receivables as ar
from app.ledger import services as slip_services
from app.ledger.controllers.receivables import ReceivableController, SalesLedgerController
from app.ledger.controllers.slips import SlipController


async def finance_panel(user) -> dict | None:
    counts = await ar.panel_counts()
    return {"exchange": await slip_services.books_to_exchange(5), "counts": counts, "fen": labels.fen}


async def manager_panel(user) -> dict | None:
    counts = await ar.panel_counts()
    return {"counts": counts, "extensions": await ar.list_extensions("pending", 5), "fen": labels.fen}


CONTROLLERS = [SlipController, ReceivableController, SalesLedgerController]

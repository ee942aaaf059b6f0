"""Bits shared by the ledger's handlers."""

from __future__ import annotations

from typing import Any

from app.core.dates import today
from app.ledger import labels
from app.ledger import receivables as ar
from app.ledger.common import month_bounds


def int_or_none(value: Any) -> int | None:
    """A filter value from the query string (not a form): junk reads as 'no filter'."""
    try:
        return int(str(value).strip())
    except (TypeError, ValueError):
        return None


def month_or_current(value: str) -> str:
    try:
        month_bounds(value)
        return value[:7]
    except (ValueError, TypeError, IndexError):
        return today().strftime("%Y-%m")


def ctx(**extra: Any) -> dict:
    out = labels.context()
    out.update(extra)
    return out


def pay_form() -> dict:
    return {"token": ar.new_token(), "received_on": today().isoformat(), "method": "transfer", "amount": ""}


def rerender(exc: Exception, *statuses: int) -> bool:
    """Does this refusal go back onto the handler's own form (400 field errors, 409 …)? Else the core handler shows it."""
    return getattr(exc, "status", 500) in (statuses or (400, 409))

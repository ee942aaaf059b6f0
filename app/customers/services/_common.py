"""Constants and helpers shared by the customers services (issue #10: services split by subject)."""

from __future__ import annotations

import re
from typing import Any

from app.core.errors import DomainError, Stale
from app.core.forms import FieldError, clean_text
from app.core.i18n import lazy_gettext as _l
from app.core.status import update_versioned
from app.customers.status import CONTRACT_STATUS_LABELS, STAGE_LABELS


CLASSES = {"key": _l("Key account (monthly-settled)"), "retail": _l("Retail")}
AREAS = {"city": _l("City"), "suburb": _l("Suburb")}
CONTRACT_TYPES = {
    "warranty": _l("In warranty"),
    "annual": _l("Annual maintenance"),
    "per_visit": _l("Per-visit"),
    "liaison": _l("Liaison letter"),
}
# Which contract decides billing first when a customer holds several (R-TKT-02).
ENTITLEMENT_ORDER = ("warranty", "annual", "per_visit", "liaison")
STAGES = STAGE_LABELS
CONTRACT_STATUSES = CONTRACT_STATUS_LABELS
CONTRACT_STATES = {"pending": _l("Not started"), "active": _l("Active"), "expired": _l("Expired"),
                   "terminated": _l("Terminated")}
# Billing policies the ticket and ledger domains apply (R-TKT-11, R-TKT-12, 003 #11).
TARIFF_POLICIES = {
    "standard": _l("Standard tariff (visit fee by distance, parts and repairs per price formulas)"),
    "warranty_free": _l("In warranty: labour and parts free"),
    "key_account": _l("Key account: labour free, parts charged"),
    "out_of_warranty": _l("Out of warranty: labour free, parts at cost"),
    "retail": _l("Retail: visit and install fees added"),
    "annual_included": _l("Annual contract: visits included, parts charged"),
}
SYSTEMS = {
    "cctv": _l("CCTV"), "intrusion": _l("Intrusion alarm"), "network": _l("Network"), "telephone": _l("Telephone"),
    "broadcast": _l("Broadcast"), "onecard": _l("One-card / access"), "other": _l("Other"),
}
EVENT_TYPES = {"failure": _l("Failure"), "repair": _l("Repair"), "replacement": _l("Replacement"), "note": _l("Note")}
NOTICE_METHODS = {"letter": _l("Letter"), "fax": _l("Fax"), "email": _l("E-mail"), "phone": _l("Phone"),
                  "visit": _l("Visit")}
SERIAL_RE = re.compile(r"^[A-Z0-9][A-Z0-9\-_./#:]{0,79}$")
MAX_CONTACTS = 10




async def _edit(table: str, row_id: int, version: int | None, sets: dict[str, Any], stale: str) -> dict:
    """A versioned edit (core `update_versioned`), keeping this domain's own 409 message."""
    try:
        return await update_versioned(table, row_id, version, sets)
    except Stale as exc:
        raise Stale(exc.current, stale) from exc


def plain_text_errors(obj: Any, names: tuple[str, ...], multiline: tuple[str, ...] = ()) -> dict[str, str]:
    """Issue #11.4: the text fields of an input (form, import row or another domain's call) hold no
    control characters, NUL or lone surrogates (tab and newline only in the multi-line `multiline`
    fields). Returns {field: message}; valid fields are left as typed (each `clean()` strips them)."""
    errors: dict[str, str] = {}
    for name in names:
        try:
            clean_text(getattr(obj, name), multiline=name in multiline)
        except FieldError as exc:
            errors[name] = str(exc)
    return errors


def normalize_serial(serial: Any) -> str:
    return re.sub(r"\s+", "", str(serial or "")).upper()

def _like_escape(text: str) -> str:
    return text.replace("%", "").replace("_", "").replace("\\", "")

"""Helpers shared by the customers pages (lookups, query-string filters, the edit permission, form versions)."""

from __future__ import annotations

from litestar import Request

from app.core.forms import parse_or_raise, strip_control
from app.core.permissions import can
from app.customers import documents as docs
from app.customers import services as svc
from app.customers.schemas import VersionForm



def _lookups() -> dict:
    return {"classes": svc.CLASSES, "areas": svc.AREAS, "contract_types": svc.CONTRACT_TYPES, "stages": svc.STAGES,
            "statuses": svc.CONTRACT_STATUSES, "states": svc.CONTRACT_STATES, "tariffs": svc.TARIFF_POLICIES,
            "systems": svc.SYSTEMS, "event_types": svc.EVENT_TYPES, "methods": svc.NOTICE_METHODS, "kinds": docs.KINDS}


def _plain(text: str, limit: int = 100) -> str:
    """A search box or filter from the query string: control characters and NUL dropped (a NUL is an
    error on PostgreSQL), at most `limit` characters (issue #11.4). Filters search, they never refuse."""
    return strip_control(text or "").strip()[:limit]


def _can_edit(request: Request) -> bool:
    return can(request.scope["user"], "customers.edit")


def _version(raw: dict) -> int:
    """The hidden version of an edit form; a missing or unreadable one is a 400 (never "no check")."""
    return parse_or_raise(VersionForm, {"version": raw.get("version")}).version


# --------------------------------------------------------------------------- customers

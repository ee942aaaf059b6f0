"""Helpers shared by the customers pages (lookups, query-string filters, the edit permission, form versions)."""

from __future__ import annotations

# ruff: noqa: F401  (one import block shared by the split modules)

import datetime as dt
from urllib.parse import quote, urlencode

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import UploadFile
from litestar.params import FromPath, FromQuery

from app.core.dates import parse_date, today
from app.core.errors import DomainError, not_found
from app.core.forms import parse_or_raise, strip_control
from app.core.i18n import _
from app.core.permissions import can, perm
from app.core.sections import render_sections, sections_for
from app.core.settings import set_setting, setting
from app.core.web import actor, form_data, redirect, render
from app.core.xlsx import xlsx_response
from app.customers import documents as docs
from app.customers import importer, pricing, renewals
from app.customers import services as svc
from app.customers.schemas import (ContractForm, CustomerForm, DeviceForm, DocumentForm, EventForm, NoticeForm, OfficeForm,
                                   RenewalDaysForm, StageForm, TierForm, VersionForm, checked, contract_input,
                                   customer_input, device_input, opt_id)



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

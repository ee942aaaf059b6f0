"""Shared pieces of the loaners services: constants, refusals, settings, the RMA domain's api (one seam)."""

from __future__ import annotations

import datetime as dt
from typing import Any

import app.rma.api as rma_api
from app.core.audit.services import Actor
from app.core.dates import today
from app.core.errors import DomainError, refused
from app.core.i18n import _, tz
from app.core.permissions import can
from app.core.settings import setting
from app.loaners import triggers

CASE_TYPES = ("rma", "ticket", "standalone")
POOL = "LOANER"
AT_CUSTOMER = "CUSTOMER"
FAIL_DESTINATIONS = {"bench": "BENCH", "quarantine": "QUARANTINE"}
DUPLICATE = "duplicate-checkout"  # DomainError.current["kind"] of a double-submitted check-out form


def _duplicate(loan_id: int | None) -> DomainError:
    """The one-time form token was used: the check-out was booked once (the controller opens that loan)."""
    return DomainError(_("This form was already submitted; the loan was booked once."), status=409,
                       link=f"/loaners/{loan_id}" if loan_id else "/loaners/out",
                       current={"kind": DUPLICATE, "loan_id": loan_id})


def _allow(actor: Actor, perm: str) -> None:
    """`require()` with the domain's own wording of the 403."""
    if not can(actor, perm):
        raise refused(_("Your roles do not allow this loaner action."))


def _invalid(errors: dict[str, str]) -> DomainError:
    """400 with the field messages; one field: its message is the page's message too."""
    return DomainError(next(iter(errors.values())) if len(errors) == 1 else _("Check the highlighted fields."),
                       errors=errors)


def _local(value: Any) -> str:
    if isinstance(value, str):
        try:
            value = dt.datetime.fromisoformat(value)
        except ValueError:
            return value
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        return value.astimezone(tz()).strftime("%Y-%m-%d %H:%M")
    return str(value or "")


# --------------------------------------------------------------------------- settings (thresholds are data)

async def thresholds() -> triggers.Thresholds:
    """R-LOAN-02 thresholds from app_setting (SPEC defaults 2 h / 72 h / 12 h, declared in the manifest)."""
    return triggers.Thresholds(
        fix_hours=await setting("loaners.fix_hours"),
        same_model_hours=await setting("loaners.same_model_hours"),
        maintenance_hours=await setting("loaners.maintenance_hours"),
    )


async def default_return_date() -> dt.date:
    return today() + dt.timedelta(days=int(await setting("loaners.default_days")))


# --------------------------------------------------------------------------- the return-repair domain (its api)

def _rma_services():
    """The RMA domain's api (tests replace this seam with a fake or None: RMAs linked by number only)."""
    return rma_api


async def get_rma(rma_id: int) -> dict | None:
    module = _rma_services()
    if module is None:
        return None
    rma = await module.get_rma(int(rma_id))
    if rma is None:
        return None
    return rma if isinstance(rma, dict) else dict(getattr(rma, "__dict__", {}) or {})


async def _find_rma(ref: str) -> dict | None:
    """A typed RMA number or the customer's serial → that open repair (exact match), via the picker's read."""
    module = _rma_services()
    if module is None or not hasattr(module, "rma_options_for_loan"):
        return None
    ref = ref.strip().upper()
    for option in await module.rma_options_for_loan(ref):
        row = option if isinstance(option, dict) else dict(getattr(option, "__dict__", {}))
        if ref in (str(row.get("number") or "").upper(), str(row.get("serial") or row.get("device_serial") or "").upper()):
            return row
    return None


def case_label(case_type: str, case_id: Any, case_ref: str) -> str:
    if case_type == "rma":
        if not case_ref or case_ref.startswith("RMA #"):  # rows booked before: "RMA #12" was stored as the ref
            return _("Return repair #%(id)s", id=case_id)
        return case_ref
    if case_type == "ticket":
        return case_ref
    return _("Standalone")


def case_url(case_type: str, case_id: Any) -> str:
    if case_type == "rma" and case_id and _rma_services() is not None:
        return f"/rma/{case_id}"
    return ""

"""Readable names for audit actions (X-04: a Chinese page never shows `rma.moved` or `user #6`).

An action is `<entity>.<verb>`; its label is "<entity>: <verb>" from the two tables below, both translated.
Unknown parts fall back to a plain word, never to the code. A domain whose actions need a better label than
the composed one adds it to ACTION_LABELS through its manifest (`audit_labels=`).
"""

from __future__ import annotations

from typing import Any

from app.core.i18n import _, lazy_gettext as _l

ENTITIES: dict[str, Any] = {
    "auth": _l("Sign-in"), "setting": _l("Setting"), "user": _l("User"), "contract": _l("Contract"),
    "customer": _l("Customer"), "device": _l("Device"), "document": _l("Document"), "office": _l("Service office"),
    "price_tier": _l("Price list"), "renewal": _l("Renewal"), "import": _l("Import"), "emergency": _l("Emergency store"),
    "part": _l("Part"), "purchase": _l("Purchase request"), "stock": _l("Stock"), "stock_location": _l("Stock location"),
    "stocktake": _l("Stocktake"), "rma": _l("Return repair"), "loan": _l("Loaner"), "loan_request": _l("Loaner request"),
    "loan_trigger": _l("Loaner entitlement"), "calendar": _l("Working-day calendar"), "extension": _l("Extension"),
    "payment": _l("Payment"), "receivable": _l("Receivable"), "sales_confirmation": _l("Sales confirmation"),
    "sales_ledger": _l("Sales ledger"), "slip": _l("Repair slip"), "statement": _l("Statement"), "seed": _l("Demo data"),
    "ticket": _l("Service ticket"), "visit": _l("Visit"), "scrap": _l("Scrap"), "login_throttle": _l("Sign-in throttle"),
}

VERBS: dict[str, Any] = {
    "login": _l("signed in"), "logout": _l("signed out"), "login_failed": _l("failed sign-in"),
    "login_throttled": _l("slowed down"), "throttle_cleared": _l("throttle cleared"), "created": _l("created"),
    "updated": _l("changed"), "enabled": _l("enabled"), "disabled": _l("disabled"), "language_set": _l("language chosen"),
    "password_reset": _l("password reset"), "stage_changed": _l("stage changed"), "failure_recorded": _l("failure recorded"),
    "repair_recorded": _l("repair recorded"), "deleted": _l("removed"), "uploaded": _l("uploaded"),
    "notice_sent": _l("notice sent"), "requested": _l("requested"), "approved": _l("approved"), "rejected": _l("refused"),
    "issued": _l("issued"), "cancelled": _l("cancelled"), "minimum_set": _l("minimum set"),
    "minimums_recomputed": _l("minimums recomputed"), "keeper_set": _l("keeper set"), "counted": _l("counted"),
    "line_added": _l("line added"), "started": _l("started"), "decided": _l("decided"), "burn_in_set": _l("burn-in hours set"),
    "consulted": _l("consultation recorded"), "costed": _l("costed"), "exception_opened": _l("exception slip opened"),
    "handed_over": _l("handed over"), "moved": _l("moved to the next stage"), "part_used": _l("part used"),
    "payment_recorded": _l("payment recorded"), "photo_added": _l("photo added"), "quote_accepted": _l("quote decided"),
    "quoted": _l("quoted"), "received": _l("received"), "replacement_raised": _l("replacement applied for"),
    "case_finished": _l("case finished"), "checked_in": _l("checked in"), "checked_out": _l("checked out"),
    "converted": _l("made a permanent replacement"), "notice_recalled": _l("notice recalled"), "recorded": _l("recorded"),
    "removed": _l("removed"), "set": _l("set"), "followup": _l("follow-up noted"), "posted": _l("posted"),
    "registered": _l("registered"), "week_checked": _l("week checked"), "book_created": _l("books created"),
    "book_exchanged": _l("book exchanged"), "book_issued": _l("book issued"), "delayed": _l("delay recorded"),
    "handed_back": _l("handed back"), "stubs_received": _l("stubs received"), "transferred": _l("transferred"),
    "used": _l("used"), "voided": _l("voided"), "drafted": _l("drafted"), "sent": _l("sent"), "checked": _l("checked"),
    "reviewed": _l("reviewed"), "assigned": _l("assigned"), "dispatched": _l("dispatched"), "paused": _l("paused"),
    "resumed": _l("resumed"), "signed": _l("signed"), "closed": _l("closed"), "disposed": _l("disposed"),
    "appraised": _l("appraised"), "receipt": _l("received"), "issue": _l("issued"), "transfer": _l("transferred"),
    "adjust": _l("adjusted"), "scrap": _l("scrapped"), "quarantine": _l("quarantined"), "return": _l("returned"),
}

ACTION_LABELS: dict[str, Any] = {}  # whole-action overrides from the manifests


def action_label(action: str) -> str:
    """`rma.moved` → "返修：转入下一环节" (in the current language)."""
    if action in ACTION_LABELS:
        return str(ACTION_LABELS[action])
    entity, _sep, verb = (action or "").partition(".")
    head = ENTITIES.get(entity)
    tail = VERBS.get(verb) or VERBS.get(verb.split("_")[-1]) if verb else None
    if head is None and tail is None:
        return _("Change")
    return f"{head or _('Record')}: {tail or _('changed')}"


def entity_label(entity_type: str) -> str:
    value = ENTITIES.get(entity_type or "")
    return str(value) if value is not None else (_("Record") if entity_type else "")

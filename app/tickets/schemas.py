"""Ticket forms (typed, app.core.forms) and the code → label maps pages show (never the codes, X-04)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from app.core.forms import Flag, FormVersion, Line, LongNote, Note, RowId  # shared field types
from app.core.forms import Bool, Choice, Int, ListOf, Money, Text, Version
from app.core.i18n import _
from app.core.i18n import lazy_gettext as _l

# R-TKT-01: how the request came in
CHANNELS = {"phone": _l("Phone"), "fax": _l("Fax"), "email": _l("E-mail"), "web": _l("Web"),
            "onsite": _l("On site"), "remote": _l("Remote")}
# 003 §16(3): nature and category of the fault
NATURES = {"hardware": _l("Hardware fault"), "software": _l("Software fault"), "network": _l("Line / network"),
           "operation": _l("Operating error"), "environment": _l("Power / environment"), "request": _l("Service request")}
CATEGORIES = {"cctv": _l("CCTV"), "intrusion": _l("Intrusion alarm"), "network": _l("Network"),
              "telephone": _l("Telephone"), "broadcast": _l("Broadcast"), "onecard": _l("One-card / access"),
              "other": _l("Other")}
IMPACTS = {"stopped": _l("Stopped the customer's work"), "partial": _l("Partly working"), "minor": _l("Minor")}
SERVICE_MODES = {"mobile": _l("Mobile service"), "resident": _l("Resident (on-site post)")}
ENTITLEMENTS = {"warranty": _l("In warranty"), "annual": _l("Annual maintenance"), "per_visit": _l("Per-visit"),
                "liaison": _l("Liaison letter"), "none": _l("No contract")}
BILLING = {"free": _l("Free of charge"), "contract": _l("Covered by the contract"), "chargeable": _l("Chargeable")}
# R-TKT-06: the result of a visit
RESULTS = {"done": _l("Completed"), "return_repair": _l("Not done: needs return repair"),
           "replacement": _l("Not done: needs device replacement"), "recontact": _l("Not done: re-contact")}
# R-TKT-06/08: satisfaction with its score (the scores are settings)
SATISFACTION = {"very": _l("Very satisfied"), "satisfied": _l("Satisfied"), "average": _l("Average"),
                "unhappy": _l("Unhappy")}
UNHAPPY_REASONS = {"attitude": _l("Attitude"), "skill": _l("Skill"), "speed": _l("Response speed")}
ACCESSORIES = {"yes": _l("Yes"), "no": _l("No"), "none": _l("None")}
PAUSE_REASONS = {"customer": _l("Waiting for the customer"), "parts": _l("Waiting for parts")}
# R-LOAN-02 rules as the ticket page states them (%(h)s: the hours of the rule)
LOANER_RULES = {"not_fixed_on_site": _l("Not fixed within %(h)s h after arrival: a spare unit is lent free"),
                "cannot_solve": _l("Cannot be solved: a same-model loaner within %(h)s h"),
                "long_maintenance": _l("Maintenance longer than %(h)s h: a spare unit is lent free")}
CLOCKS = {"respond": _l("Response"), "depart": _l("Departure"), "onsite": _l("On site"), "fix": _l("Fix after arrival")}


RESERVATION_LABELS = {"open": _l("reserved"), "consumed": _l("used on the visit"), "released": _l("released")}


def labels() -> dict:
    """Every label map, for templates."""
    from app.tickets.status import LABELS, TONES, VISIT_LABELS

    return {"channels": CHANNELS, "natures": NATURES, "categories": CATEGORIES, "impacts": IMPACTS,
            "service_modes": SERVICE_MODES, "entitlements": ENTITLEMENTS, "billing_labels": BILLING,
            "results": RESULTS, "satisfaction": SATISFACTION, "unhappy_reasons": UNHAPPY_REASONS,
            "accessories": ACCESSORIES, "pause_reasons": PAUSE_REASONS, "clocks": CLOCKS, "loaner_rules": LOANER_RULES,
            "status_labels": LABELS, "status_tones": TONES, "visit_labels": VISIT_LABELS,
            "reservation_labels": RESERVATION_LABELS}


def parse_when(text: str) -> dt.datetime | None:
    """`2026-11-29T10:30` (a datetime-local input, business time) → aware UTC; '' → None; ValueError if unreadable."""
    from app.core.i18n import tz

    text = (text or "").strip()
    if not text:
        return None
    value = dt.datetime.fromisoformat(text)
    if value.tzinfo is None:
        value = value.replace(tzinfo=tz())
    if not dt.datetime(2000, 1, 1, tzinfo=dt.timezone.utc) <= value <= dt.datetime(2100, 1, 1, tzinfo=dt.timezone.utc):
        raise ValueError("out of range")
    return value.astimezone(dt.timezone.utc)


@dataclass
class IntakeForm:
    """R-TKT-01: every field of the intake."""

    customer_id: Annotated[int | None, Int(min=1, required=True)] = None
    device_id: RowId = None
    channel: Annotated[str, Choice(CHANNELS, required=True)] = "phone"
    contact_name: Annotated[str, Text(max_len=100, required=True)] = ""
    contact_phone: Annotated[str, Text(max_len=40, required=True)] = ""
    requested_service: Annotated[str, Text(max_len=2000, required=True, multiline=True)] = ""
    current_state: LongNote = ""
    fault_at: Annotated[str, Text(max_len=30)] = ""
    nature: Annotated[str, Choice(NATURES, required=True)] = ""
    category: Annotated[str, Choice(CATEGORIES, required=True)] = ""
    fault_code: Annotated[str, Text(max_len=60)] = ""
    location: Annotated[str, Text(max_len=200)] = ""
    impact: Annotated[str, Choice(IMPACTS, required=True)] = "partial"
    tried: LongNote = ""
    service_mode: Annotated[str, Choice(SERVICE_MODES)] = "mobile"
    technician_id: RowId = None  # dispatch at once (R-TKT-03), optional
    token: Annotated[str, Text(max_len=60)] = ""

    def validate(self) -> dict[str, str]:
        try:
            when = parse_when(self.fault_at)
        except ValueError:
            return {"fault_at": _("Enter a time such as 2026-03-01 09:30.")}
        if when is not None and when > dt.datetime.now(dt.timezone.utc) + dt.timedelta(minutes=5):
            return {"fault_at": _("The fault cannot be in the future.")}
        return {}


@dataclass
class DispatchForm:
    """R-TKT-03: to a technician (with what to bring), or to the engineering manager's queue."""

    version: FormVersion = 0
    technician_id: RowId = None
    to_queue: Flag = False
    cause: Note = ""
    spares: Note = ""
    tools: Note = ""
    # R-TKT-04: parts to bring, reserved at dispatch: "location_id:part_id" per line with its quantity
    res_item: Annotated[list, ListOf(Text(max_len=30), max_items=10)] = None  # type: ignore[assignment]
    res_qty: Annotated[list, ListOf(Int(min=1, max=999), max_items=10)] = None  # type: ignore[assignment]

    def __post_init__(self) -> None:
        self.res_item = list(self.res_item or [])
        self.res_qty = list(self.res_qty or [])

    def validate(self) -> dict[str, str]:
        if not self.to_queue and not self.technician_id:
            return {"technician_id": _("Choose a technician, or send the ticket to the engineering manager.")}
        # an unused row sends "-" and its quantity, so items and quantities stay paired by position
        real = [i for i in self.res_item if i != "-"]
        if real and len(self.res_qty) not in (0, len(self.res_item)):
            return {"res_item": _("Give a quantity for every part.")}
        for item in real:
            loc, _sep, part = item.partition(":")
            if not (loc.isdigit() and part.isdigit() and len(loc) < 10 and len(part) < 10):
                return {"res_item": _("Choose a part from the list.")}
        return {}

    def reservations(self) -> list[tuple[int, int, int]]:
        """(location id, part id, quantity) per line."""
        qty = self.res_qty or [1] * len(self.res_item)
        out = []
        for item, n in zip(self.res_item, qty):
            if item == "-":
                continue
            loc, _sep, part = item.partition(":")
            out.append((int(loc), int(part), int(n)))
        return out


@dataclass
class CallForm:
    """R-TKT-04: the pre-departure call and the agreed arrival time."""

    eta: Annotated[str, Text(max_len=30, required=True)] = ""
    note: Line = ""
    version: FormVersion = 0

    def validate(self) -> dict[str, str]:
        try:
            parse_when(self.eta)
        except ValueError:
            return {"eta": _("Enter a time such as 2026-03-01 09:30.")}
        return {}


@dataclass
class StepForm:
    """Depart / arrive: one tap (now), or a time typed in afterwards."""

    version: FormVersion = 0
    at: Annotated[str, Text(max_len=30)] = ""
    token: Annotated[str, Text(max_len=60)] = ""

    def validate(self) -> dict[str, str]:
        try:
            parse_when(self.at)
        except ValueError:
            return {"at": _("Enter a time such as 2026-03-01 09:30.")}
        return {}


@dataclass
class FinishForm:
    """R-TKT-06: work done, parts used (from the technician's own stock), result, paper slip number (R-SLIP-02)."""

    version: FormVersion = 0
    at: Annotated[str, Text(max_len=30)] = ""
    work_done: Annotated[str, Text(max_len=4000, required=True, multiline=True)] = ""
    result: Annotated[str, Choice(RESULTS, required=True)] = ""
    work_stopped: Flag = False
    part_no: Annotated[list, ListOf(Text(max_len=60), max_items=20)] = None  # type: ignore[assignment]
    qty: Annotated[list, ListOf(Int(min=1, max=999), max_items=20)] = None  # type: ignore[assignment]
    serial: Annotated[list, ListOf(Text(max_len=100), max_items=20)] = None  # type: ignore[assignment]
    slip_number: RowId = None
    amount: Annotated[Decimal | None, Money(min=0, max=10_000_000)] = None
    token: Annotated[str, Text(max_len=60)] = ""

    def __post_init__(self) -> None:
        self.part_no = list(self.part_no or [])
        self.qty = list(self.qty or [])
        self.serial = list(self.serial or [])

    def validate(self) -> dict[str, str]:
        try:
            parse_when(self.at)
        except ValueError:
            return {"at": _("Enter a time such as 2026-03-01 09:30.")}
        if self.part_no and len(self.qty) not in (0, len(self.part_no)):
            return {"part_no": _("Give a quantity for every part.")}
        return {}

    def parts(self) -> list[tuple[str, int, str]]:
        """(part number, quantity, serial) per line; a serialised part names its unit's serial."""
        qty = self.qty or [1] * len(self.part_no)
        serials = self.serial + [""] * (len(self.part_no) - len(self.serial))
        return list(zip(self.part_no, qty, serials))


@dataclass
class SignForm:
    """R-TKT-06/08: the customer's part of the slip."""

    version: FormVersion = 0
    signer: Annotated[str, Text(max_len=100, required=True)] = ""
    satisfaction: Annotated[str, Choice(SATISFACTION, required=True)] = ""
    unhappy_reason: Annotated[str, Choice(UNHAPPY_REASONS)] = ""
    comment: LongNote = ""
    accessories: Annotated[str, Choice(ACCESSORIES, required=True)] = ""
    accepted: Flag = False
    signature: Annotated[str, Text(max_len=700_000)] = ""  # data:image/png;base64,… from the canvas

    def validate(self) -> dict[str, str]:
        if self.satisfaction == "unhappy" and not self.unhappy_reason:
            return {"unhappy_reason": _("Say why the customer is unhappy.")}
        if not self.signature:
            return {"signature": _("The customer signs in the box.")}
        return {}


@dataclass
class PauseForm:
    """R-TKT-05: stop the clocks while waiting for the customer or parts."""

    version: FormVersion = 0
    reason: Annotated[str, Choice(PAUSE_REASONS, required=True)] = ""
    note: Line = ""


@dataclass
class VersionForm:
    version: FormVersion = 0

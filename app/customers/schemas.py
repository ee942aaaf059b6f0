"""Form input of the customers pages (issue #10, item 4): what each form accepts.

The customer, contract and device forms are read into the services' `CustomerInput` /
`ContractInput` / `DeviceInput` (their rules live there, shared with the importer and other
domains); the small forms are schemas here. Every form that edits a row carries `Version()`.
"""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from app.core.forms import Bool, Date, FieldError, Int, Text, Version
from app.core.i18n import _

EVENT_KINDS = ("failure", "repair", "replacement")


def opt_id(value: Any) -> int | None:
    """An optional id from a filter or hidden field: a positive whole number, else none (filters ignore junk)."""
    try:
        return Int(min=1, max=2**63 - 1).parse(value)
    except FieldError:
        return None


@dataclass
class VersionForm:
    """The hidden `version` of an edit form (customer, contract, device): missing or unreadable → 400."""

    version: Annotated[int, Version()] = 0


@dataclass
class EventForm:
    """A failure, repair or replacement recorded from the device page (R-CUS-05/06)."""

    event_type: Annotated[str, Text(max_len=20)] = "failure"
    fault_code: Annotated[str, Text(max_len=200)] = ""
    unresolvable: Annotated[bool, Bool()] = False
    occurred_on: Annotated[dt.date | None, Date(not_future=True)] = None
    description: Annotated[str, Text(max_len=10000, multiline=True)] = ""

    def validate(self) -> dict[str, str]:
        if self.event_type not in EVENT_KINDS:
            return {"event_type": _("Choose what happened.")}
        return {}


@dataclass
class StageForm:
    stage: Annotated[str, Text(max_len=10)] = ""
    note: Annotated[str, Text(max_len=10000, multiline=True)] = ""
    version: Annotated[int, Version()] = 0


@dataclass
class NoticeForm:
    """"Notice sent" on the renewals page (R-CUS-07); the service checks method and date."""

    kind: Annotated[str, Text(max_len=20)] = ""
    subject_id: Annotated[int | None, Int(min=0, max=2**63 - 1)] = None
    sent_on: Annotated[str, Text(max_len=40)] = ""
    method: Annotated[str, Text(max_len=20)] = ""
    note: Annotated[str, Text(max_len=10000, multiline=True)] = ""


@dataclass
class RenewalDaysForm:
    days: Annotated[int, Int(min=1, max=365, required=True)] = 0


@dataclass
class TierForm:
    """One price tier (admin); the service checks the amount and the tier start."""

    price: Annotated[str, Text(max_len=40)] = ""
    min_value: Annotated[str, Text(max_len=40)] = ""
    note: Annotated[str, Text(max_len=10000, multiline=True)] = ""
    version: Annotated[int, Version()] = 0


@dataclass
class OfficeForm:
    office_id: Annotated[int | None, Int(min=1, max=2**63 - 1)] = None
    code: Annotated[str, Text(max_len=200)] = ""
    name: Annotated[str, Text(max_len=1000)] = ""
    city: Annotated[str, Text(max_len=1000)] = ""
    address: Annotated[str, Text(max_len=1000)] = ""
    phone: Annotated[str, Text(max_len=1000)] = ""
    is_active: Annotated[bool, Bool()] = True


@dataclass
class DocumentForm:
    kind: Annotated[str, Text(max_len=40)] = "other"
    title: Annotated[str, Text(max_len=10000)] = ""
    contract_id: Annotated[int | None, Int(min=1, max=2**63 - 1)] = None

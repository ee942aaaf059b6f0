"""The ledger's form inputs (issue #10, item 4): what each form accepts, read by app.core.forms.parse().

Fields the service checks with its own wording (a missing reason, a missing date the service names)
are optional here; the schema refuses what cannot be read (junk numbers and dates, >2 decimals,
control characters) and a missing `version` (400, never "no check")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from app.core.forms import Bool, Choice, Date, Int, Money, Text, Version
from app.core.i18n import _

MAX_AMOUNT = Decimal("99999999.99")
CLASSES = ("monthly", "retail")


@dataclass
class CreateBooksForm:
    series: Annotated[str, Text(max_len=20)] = ""
    first_number: Annotated[int | None, Int(min=None)] = None
    per_book: Annotated[int | None, Int(min=None)] = None
    count: Annotated[int | None, Int(min=None)] = None
    kind: Annotated[str, Text(max_len=20)] = "regular"
    note: Annotated[str, Text(max_len=200)] = ""


@dataclass
class IssueForm:
    version: Annotated[int, Version()]
    holder_user_id: Annotated[int | None, Int()] = None


@dataclass
class ExchangeForm:
    holder_user_id: Annotated[int | None, Int()] = None
    new_book_id: Annotated[int | None, Int()] = None


@dataclass
class VoidForm:
    version: Annotated[int, Version()]
    reason: Annotated[str, Text(max_len=300)] = ""
    handed_in_on: Annotated[dt.date | None, Date()] = None


@dataclass
class TransferForm:
    version: Annotated[int, Version()]
    to_number: Annotated[int | None, Int(min=1)] = None
    signed_by: Annotated[str, Text(max_len=100)] = ""
    signed_on: Annotated[dt.date | None, Date(required=True)] = None
    reason: Annotated[str, Text(max_len=300)] = ""


@dataclass
class DelayForm:
    reason: Annotated[str, Text(max_len=300)] = ""
    delay_ref: Annotated[str, Text(max_len=40)] = ""
    new_due_on: Annotated[dt.date | None, Date()] = None


@dataclass
class UseForm:
    """R-SLIP-02: the amount written on the slip (0 when free of charge)."""

    amount: Annotated[Decimal | None, Money(min=0, max=MAX_AMOUNT, required=True)] = None
    number: Annotated[int | None, Int(min=None)] = None
    # By hand a slip names a return repair (checked by number) or "other" with a note (#12.5); ticket slips
    # are recorded by the tickets domain itself, which knows its ticket.
    job_type: Annotated[str, Choice(("rma", "other"), required=True)] = ""
    job_id: Annotated[str, Text(max_len=40)] = ""
    job_note: Annotated[str, Text(max_len=200)] = ""


@dataclass
class HandbackForm:
    version: Annotated[int, Version()]
    reason: Annotated[str, Text(max_len=300)] = ""
    handed_on: Annotated[dt.date | None, Date(required=True)] = None


@dataclass
class ManualLineForm:
    amount: Annotated[Decimal | None, Money(positive=True, max=MAX_AMOUNT, required=True)] = None
    posted_on: Annotated[dt.date | None, Date(required=True)] = None
    due_date: Annotated[dt.date | None, Date()] = None
    source_id: Annotated[str, Text(max_len=40)] = ""
    customer_name: Annotated[str, Text(max_len=200)] = ""
    account_class: Annotated[str, Text(max_len=20)] = ""
    description: Annotated[str, Text(max_len=300)] = ""
    technician_user_id: Annotated[int | None, Int()] = None


@dataclass
class SaleForm:
    """R-AR-01: every field is checked at once, so the form shows all its mistakes together."""

    customer_name: Annotated[str, Text(max_len=200, required=True)] = ""
    account_class: Annotated[str, Choice(CLASSES, required=True)] = ""
    amount: Annotated[Decimal | None, Money(positive=True, max=MAX_AMOUNT, required=True)] = None
    sold_on: Annotated[dt.date | None, Date(required=True, not_future=True)] = None
    technician_user_id: Annotated[int | None, Int()] = None
    description: Annotated[str, Text(max_len=300)] = ""

    def validate(self) -> dict[str, str]:
        if not self.technician_user_id:
            return {"technician_user_id": _("Choose the technician who made the sale.")}
        return {}


@dataclass
class DraftForm:
    customer_name: Annotated[str, Text(max_len=200)] = ""
    month: Annotated[str, Text(max_len=10)] = ""


@dataclass
class MoveForm:
    version: Annotated[int, Version()]
    verb: Annotated[str, Text(max_len=20)] = ""
    note: Annotated[str, Text(max_len=300, multiline=True)] = ""


@dataclass
class PaymentForm:
    token: Annotated[str, Text(max_len=64)] = ""
    amount: Annotated[Decimal | None, Money(positive=True, max=MAX_AMOUNT, required=True)] = None
    received_on: Annotated[dt.date | None, Date(required=True)] = None
    method: Annotated[str, Text(max_len=20)] = ""
    reference: Annotated[str, Text(max_len=100)] = ""


@dataclass
class ExtensionForm:
    reason: Annotated[str, Text(max_len=300, multiline=True)] = ""
    requested_due_date: Annotated[dt.date | None, Date()] = None


@dataclass
class FollowupForm:
    note: Annotated[str, Text(max_len=300, multiline=True)] = ""
    back: Annotated[str, Text(max_len=300)] = ""


@dataclass
class CalendarForm:
    day: Annotated[dt.date | None, Date(required=True)] = None
    is_working: Annotated[bool, Bool()] = False
    name: Annotated[str, Text(max_len=100)] = ""
    remove: Annotated[bool, Bool()] = False


@dataclass
class DecideForm:
    version: Annotated[int, Version()]
    decision: Annotated[str, Choice(("approve", "reject"))] = ""  # anything but approve rejects (as before)
    note: Annotated[str, Text(max_len=300)] = ""


@dataclass
class WeekCheckForm:
    week: Annotated[dt.date | None, Date(required=True)] = None
    tech: Annotated[int | None, Int()] = None
    note: Annotated[str, Text(max_len=300)] = ""

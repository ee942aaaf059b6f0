"""The ledger's form inputs (issue #10, item 4): what each form accepts, read by app.core.forms.parse().

Fields the service checks with its own wording (a missing reason, a missing date the service names)
are optional here; the schema refuses what cannot be read (junk numbers and dates, >2 decimals,
control characters) and a missing `version` (400, never "no check")."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass
from decimal import Decimal
from typing import Annotated

from app.core.forms import Flag, FormVersion, Line, OptDate, ReqDate, RowId, Token  # shared field types
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
    version: FormVersion
    holder_user_id: Annotated[int | None, Int()] = None


@dataclass
class ExchangeForm:
    holder_user_id: Annotated[int | None, Int()] = None
    new_book_id: Annotated[int | None, Int()] = None


@dataclass
class VoidForm:
    version: FormVersion
    reason: Line = ""
    handed_in_on: OptDate = None


@dataclass
class TransferForm:
    version: FormVersion
    to_number: RowId = None
    signed_by: Annotated[str, Text(max_len=100)] = ""
    signed_on: ReqDate = None
    reason: Line = ""


@dataclass
class DelayForm:
    reason: Line = ""
    delay_ref: Annotated[str, Text(max_len=40)] = ""
    new_due_on: OptDate = None


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
    version: FormVersion
    reason: Line = ""
    handed_on: ReqDate = None


@dataclass
class ManualLineForm:
    amount: Annotated[Decimal | None, Money(positive=True, max=MAX_AMOUNT, required=True)] = None
    posted_on: ReqDate = None
    due_date: OptDate = None
    source_id: Annotated[str, Text(max_len=40)] = ""
    customer_name: Annotated[str, Text(max_len=200)] = ""
    account_class: Annotated[str, Text(max_len=20)] = ""
    description: Line = ""
    technician_user_id: Annotated[int | None, Int()] = None


@dataclass
class SaleForm:
    """R-AR-01: every field is checked at once, so the form shows all its mistakes together."""

    customer_name: Annotated[str, Text(max_len=200, required=True)] = ""
    account_class: Annotated[str, Choice(CLASSES, required=True)] = ""
    amount: Annotated[Decimal | None, Money(positive=True, max=MAX_AMOUNT, required=True)] = None
    sold_on: Annotated[dt.date | None, Date(required=True, not_future=True)] = None
    technician_user_id: Annotated[int | None, Int()] = None
    description: Line = ""

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
    version: FormVersion
    verb: Annotated[str, Text(max_len=20)] = ""
    note: Annotated[str, Text(max_len=300, multiline=True)] = ""


@dataclass
class PaymentForm:
    token: Token = ""
    amount: Annotated[Decimal | None, Money(positive=True, max=MAX_AMOUNT, required=True)] = None
    received_on: ReqDate = None
    method: Annotated[str, Text(max_len=20)] = ""
    reference: Annotated[str, Text(max_len=100)] = ""


@dataclass
class ExtensionForm:
    reason: Annotated[str, Text(max_len=300, multiline=True)] = ""
    requested_due_date: OptDate = None


@dataclass
class FollowupForm:
    note: Annotated[str, Text(max_len=300, multiline=True)] = ""
    back: Line = ""


@dataclass
class CalendarForm:
    day: ReqDate = None
    is_working: Flag = False
    name: Annotated[str, Text(max_len=100)] = ""
    remove: Flag = False


@dataclass
class DecideForm:
    version: FormVersion
    decision: Annotated[str, Choice(("approve", "reject"))] = ""  # anything but approve rejects (as before)
    note: Line = ""


@dataclass
class WeekCheckForm:
    week: ReqDate = None
    tech: Annotated[int | None, Int()] = None
    note: Line = ""

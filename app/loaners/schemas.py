"""The loaners domain's form inputs (issue #10, item 4): what each form accepts.

The fields stay text where the page re-renders what was typed (serials, ids picked by the search
box, dates typed by hand); the service checks what needs the database (a unit in the pool, the
customer, the case) and the date rules, and refuses with field errors. The specs here refuse
control characters, NUL and over-long text for every field, and a missing or unreadable version.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from app.core.forms import FormVersion, LongNote, RowId, Serial, Token  # shared field types
from app.core.forms import Int, Text, Version


@dataclass
class CheckoutInput:
    serial: Serial = ""
    customer_id: Annotated[str, Text(max_len=20)] = ""
    case_type: Annotated[str, Text(max_len=20)] = "rma"
    case_id: Annotated[str, Text(max_len=20)] = ""
    case_ref: Annotated[str, Text(max_len=200)] = ""
    reason: Annotated[str, Text(max_len=2000)] = ""
    device_serial: Annotated[str, Text(max_len=200)] = ""
    expected_return: Annotated[str, Text(max_len=40)] = ""
    condition_out: Annotated[str, Text(max_len=2000)] = ""
    request_id: Annotated[str, Text(max_len=20)] = ""
    trigger_rule: Annotated[str, Text(max_len=40)] = ""
    token: Token = ""


@dataclass
class CheckinInput:
    serial: Serial = ""
    condition_in: Annotated[str, Text(max_len=2000)] = ""
    test_result: Annotated[str, Text(max_len=10)] = ""  # pass / fail
    destination: Annotated[str, Text(max_len=20)] = ""  # bench / quarantine when the test fails
    test_note: Annotated[str, Text(max_len=2000)] = ""
    recall_ref: Annotated[str, Text(max_len=200)] = ""  # dispatch slip that reinstalled the customer's unit (R-LOAN-01)
    # the scan page's form carries no version (None: the loan as it is now); the loan page's does (VersionForm)
    version: RowId = None


@dataclass
class VersionForm:
    """The hidden version every form on the loan page carries: missing or unreadable → 400."""

    version: FormVersion = 0


@dataclass
class RecallForm:
    recall_ref: Annotated[str, Text(max_len=200)] = ""
    version: FormVersion = 0


@dataclass
class ConvertForm:
    approval_ref: Annotated[str, Text(max_len=200)] = ""
    conversion_note: LongNote = ""
    version: FormVersion = 0


@dataclass
class RequestInput:
    customer_id: Annotated[str, Text(max_len=20)] = ""
    case_type: Annotated[str, Text(max_len=20)] = "rma"
    case_id: Annotated[str, Text(max_len=20)] = ""
    case_ref: Annotated[str, Text(max_len=200)] = ""
    model: Annotated[str, Text(max_len=200)] = ""
    trigger_rule: Annotated[str, Text(max_len=40)] = ""
    reason: Annotated[str, Text(max_len=2000)] = ""
    needed_by: Annotated[str, Text(max_len=40)] = ""

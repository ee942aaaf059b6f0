"""Form inputs of the scrap pages (typed by app.core.forms; X-05: bad input is a field message)."""

from __future__ import annotations

import datetime as dt
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Annotated

from app.core.forms import FormVersion, LongNote, Note, Reason, Serial  # shared field types
from app.core.forms import Choice, Date, Int, ListOf, Money, Text, Version
from app.core.i18n import _
from app.scrap.status import METHOD_LABELS, OPINION_LABELS, REASON_LABELS, RETURN_LABELS, SOURCE_LABELS


@dataclass
class RaiseInput:
    """A scrap request: a serialised unit (serial) or a quantity of a part (part_no + qty) in quarantine."""

    reason: Annotated[str, Choice(REASON_LABELS, required=True)] = ""
    serial: Serial = ""
    part_no: Annotated[str, Text(max_len=60)] = ""
    qty: Annotated[int | None, Int(min=1, max=100000)] = None
    note: LongNote = ""
    source_type: Annotated[str, Choice(SOURCE_LABELS)] = "manual"
    source_ref: Annotated[str, Text(max_len=60)] = ""
    loan_number: Annotated[str, Text(max_len=40)] = ""
    value: Annotated[Decimal | None, Money(min=None, max=Decimal("100000000"))] = None
    value_reason: Annotated[str, Text(max_len=500)] = ""

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if not self.serial and not self.part_no:
            errors["serial"] = _("Scan the unit's serial, or give the part number and a quantity.")
        if self.part_no and not self.serial and self.qty is None:
            errors["qty"] = _("Required.")
        if self.value is not None and self.value <= 0:
            errors["value"] = _("The book value must be more than zero.")
        if self.value is not None and not self.value_reason:
            errors["value_reason"] = _("Give the reason for overriding the part's cost.")
        if self.reason == "other" and not self.note:
            errors["note"] = _("Describe the reason.")
        if self.source_type != "manual" and not self.source_ref:
            errors["source_ref"] = _("Give the document the request comes from.")
        return errors


@dataclass
class ConveneInput:
    version: FormVersion = 0
    appraisers: Annotated[list[int], ListOf(Int(min=1), max_items=20)] = field(default_factory=list)


@dataclass
class OpinionInput:
    opinion: Annotated[str, Choice(OPINION_LABELS, required=True)] = ""
    note: Note = ""


@dataclass
class DecisionInput:
    version: FormVersion = 0
    decision: Annotated[str, Choice(("approve", "reject"), required=True)] = ""
    note: Reason = ""
    returned_to: Annotated[str, Choice(RETURN_LABELS)] = ""

    def validate(self) -> dict[str, str]:
        errors: dict[str, str] = {}
        if self.decision == "reject":
            if not self.note:
                errors["note"] = _("Give the reason for the refusal.")
            if not self.returned_to:
                errors["returned_to"] = _("Choose where the item goes back to.")
        return errors


@dataclass
class WithdrawInput:
    version: FormVersion = 0
    note: Annotated[str, Text(max_len=500, required=True, multiline=True)] = ""
    returned_to: Annotated[str, Choice(RETURN_LABELS, required=True)] = ""


@dataclass
class DisposeInput:
    version: FormVersion = 0
    method: Annotated[str, Choice(METHOD_LABELS, required=True)] = ""
    disposed_on: Annotated[dt.date | None, Date(required=True, not_future=True)] = None
    note: Reason = ""


@dataclass
class BatchInput:
    month: Annotated[str, Text(max_len=7, required=True)] = ""
    note: Note = ""

    def validate(self) -> dict[str, str]:
        import re

        if not re.fullmatch(r"20\d\d-(0[1-9]|1[0-2])", self.month):
            return {"month": _("Enter a month such as 2026-11.")}
        return {}

"""The parts domain's form inputs (issue #10, item 7): what each form accepts, read with core.forms.

Fields are read as text where the service owns the rule and its message (a quantity "must be a whole
number greater than zero", a movement kind, a location code or id): the schema refuses what no field
may hold (control characters, NUL, over-long text, a missing or unreadable version); the service
refuses what the stock rules forbid, with the same messages the pages always showed.
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import Annotated

from app.core.forms import Flag, FormVersion, LongNote, Note, Reason, Serial, Token  # shared field types
from app.core.forms import Bool, Choice, Int, Text, Version

DECISIONS = ("approve", "reject")
UNIT_MOVE_KINDS = ("transfer", "quarantine", "issue", "return")


@dataclass
class MoveInput:
    """The movement form on the part page (one form, `kind` chooses)."""

    kind: Annotated[str, Text(max_len=20)] = "issue"
    qty: Annotated[str, Text(max_len=20)] = "1"
    serial: Serial = ""
    from_location: Annotated[str, Text(max_len=40)] = ""
    to_location: Annotated[str, Text(max_len=40)] = ""
    document_type: Annotated[str, Text(max_len=40)] = ""
    document_id: Annotated[str, Text(max_len=60)] = ""
    pr_number: Annotated[str, Text(max_len=60)] = ""
    reason: Reason = ""
    token: Token = ""
    errors: dict = field(default_factory=dict, init=False)

    def __post_init__(self) -> None:
        if self.kind == "receive" and self.pr_number:
            self.document_id = self.pr_number  # receive names the purchase request in its own field


@dataclass
class PartInput:
    part_no: Annotated[str, Text(max_len=60)] = ""
    name: Annotated[str, Text(max_len=200)] = ""
    model: Annotated[str, Text(max_len=100)] = ""
    category: Annotated[str, Text(max_len=20)] = "part"
    unit: Annotated[str, Text(max_len=20)] = "个"
    cost: Annotated[str, Text(max_len=30)] = "0"
    supplier: Annotated[str, Text(max_len=200)] = ""
    serialised: Flag = False
    discontinued: Flag = False
    note: Annotated[str, Text(max_len=4000, multiline=True)] = ""
    substitutes: Annotated[str, Text(max_len=2000)] = ""  # part numbers, comma or space separated


@dataclass
class PartEdit(PartInput):
    """Editing a part: the version the form showed (missing or unreadable → 400, never "no check")."""

    version: FormVersion = 0


@dataclass
class MinimumForm:
    location: Annotated[str, Text(max_len=40)] = ""
    min_qty: Annotated[str, Text(max_len=20)] = ""
    installed_qty: Annotated[str, Text(max_len=20)] = ""


@dataclass
class UnitMoveForm:
    to_location: Annotated[str, Text(max_len=40)] = ""
    kind: Annotated[str, Text(max_len=20)] = "transfer"
    document_type: Annotated[str, Text(max_len=40)] = ""
    document_id: Annotated[str, Text(max_len=60)] = ""
    reason: Reason = ""
    token: Token = ""

    def __post_init__(self) -> None:
        if self.kind not in UNIT_MOVE_KINDS:
            self.kind = "transfer"

    def validate(self) -> dict[str, str]:
        from app.core.i18n import _

        if not self.to_location:
            return {"to_location": _("Choose where the unit goes.")}
        if self.kind == "quarantine" and not self.reason:
            return {"reason": _("Give a reason.")}
        return {}


@dataclass
class LocationForm:
    code: Annotated[str, Text(max_len=40)] = ""
    name: Annotated[str, Text(max_len=100)] = ""
    kind: Annotated[str, Text(max_len=20)] = ""
    keeper: Annotated[str, Text(max_len=100)] = ""
    office: Annotated[str, Text(max_len=60)] = ""


@dataclass
class KeeperForm:
    keeper: Annotated[str, Text(max_len=100)] = ""


@dataclass
class TokenForm:
    """Forms whose only input is the one-time token (and perhaps a location)."""

    token: Token = ""
    location: Annotated[str, Text(max_len=40)] = ""


@dataclass
class ReorderRequestForm:
    location: Annotated[int | None, Int(min=0)] = None
    token: Token = ""


@dataclass
class DecisionForm:
    """approve / refuse (the note is required to refuse: the service says so on the note field)."""

    decision: Annotated[str, Choice(DECISIONS)] = "approve"
    note: Note = ""
    reason: Note = ""


@dataclass
class PurchaseRequestForm:
    location: Annotated[str, Text(max_len=40)] = ""
    supplier: Annotated[str, Text(max_len=200)] = ""
    note: LongNote = ""
    token: Token = ""


@dataclass
class EmergencyRequestForm:
    customer_name: Annotated[str, Text(max_len=200)] = ""
    customer_id: Annotated[str, Text(max_len=20)] = ""
    reason: LongNote = ""
    engineer: Annotated[str, Text(max_len=100)] = ""
    token: Token = ""


@dataclass
class IssueForm:
    engineer: Annotated[str, Text(max_len=100)] = ""
    token: Token = ""


@dataclass
class CountsForm:
    add_part: Annotated[str, Text(max_len=60)] = ""
    submit: Annotated[str, Text(max_len=2)] = ""


@dataclass
class StocktakeStartForm:
    location: Annotated[str, Text(max_len=40)] = ""
    blind: Flag = False  # #12.1: hide the book quantities from the counter
    token: Token = ""


@dataclass
class ScanForm:
    """#12.1: one scan — a part number or a serial (a new serial with its part number)."""

    code: Annotated[str, Text(max_len=100)] = ""
    part_no: Annotated[str, Text(max_len=60)] = ""


@dataclass
class FinishForm:
    """#12.1: the counter says the location (or one category of parts) is done."""

    category: Annotated[str, Text(max_len=20)] = ""

"""The bench's form inputs (issue #10, item 4): what each form accepts, read with core.forms.parse().

Shape rules live here (no control characters, lengths, a required `version`); the bench rules that
need the database or several fields (damage needs the call and the cause, burn-in hours per model,
dates not in the future …) stay in the services, which tests and other domains call directly.
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from app.core.forms import Flag, FormVersion, Line, LongNote as Note  # shared field types
from app.core.forms import Bool, Text, Version



@dataclass
class Moved:
    """Every transition form: the version it showed, and where it came from (the board)."""

    version: FormVersion
    from_board: Line = ""
    tech: Line = ""


@dataclass
class Unbox:
    appearance: Line = ""
    accessories: Note = ""
    photos: Note = ""
    damage_call: Note = ""
    damage_cause: Note = ""


@dataclass
class Confirm:
    note: Note = ""
    contact_phone: Line = ""
    address: Note = ""


@dataclass
class Qc:
    fault_code: Line = ""
    fault_confirmed: Note = ""
    test_note: Note = ""
    unresolvable: Flag = False


@dataclass
class NoteOnly:
    note: Note = ""


@dataclass
class Repaired:
    fault_found: Note = ""
    part_no: Line = ""
    qty: Line = ""
    part_serial: Line = ""


@dataclass
class BurnIn:
    hours: Line = ""


@dataclass
class FinalTest:
    result: Line = ""
    note: Note = ""


@dataclass
class Ship:
    carrier: Line = ""
    tracking_no: Line = ""
    customer_told_on: Line = ""


@dataclass
class Deliver:
    delivered_on: Line = ""


@dataclass
class Intake:
    serial: Line = ""
    model: Line = ""
    product_name: Line = ""
    customer_name: Line = ""
    contact_phone: Line = ""
    address: Note = ""
    fault_reported: Note = ""
    appearance: Line = ""
    accessories: Note = ""
    photos: Note = ""
    damage_call: Note = ""
    damage_cause: Note = ""
    customer_id: Line = ""  # #12.10: picked from the customer register for a serial not in the installed base
    ticket_number: Line = ""


@dataclass
class Cost:
    fault: Note = ""
    amount: Line = ""


@dataclass
class Decision:
    decision: Line = ""
    decision_note: Note = ""

    def validate(self) -> dict[str, str]:
        from app.core.i18n import _

        return {} if self.decision in ("accept", "decline") else {"decision": _("Choose accepted or declined.")}


@dataclass
class Payment:
    token: Line = ""
    amount: Line = ""
    received_on: Line = ""
    method: Line = ""
    reference: Line = ""


@dataclass
class PartUse:
    part_no: Line = ""
    qty: Line = ""
    part_serial: Line = ""


@dataclass
class Handover:
    to_user_id: Line = ""
    handover_note: Note = ""


@dataclass
class Consult:
    answer: Line = ""
    consult_note: Note = ""


@dataclass
class ReplacementDecision:
    decision: Line = ""
    new_serial: Line = ""
    note: Note = ""

    def validate(self) -> dict[str, str]:
        from app.core.i18n import _

        return {} if self.decision in ("approve", "reject") else {"decision": _("Approve or reject.")}


@dataclass
class BurnInHours:
    model: Line = ""
    hours: Line = ""



@dataclass
class ReplacementApply:
    """The bench's replacement application by hand (R-RMA-03)."""

    replacement_note: Line = ""

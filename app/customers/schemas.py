"""Form input of the customers pages (issue #10, item 4): what each form accepts.

The customer, contract and device forms are read into the services' `CustomerInput` /
`ContractInput` / `DeviceInput` (their rules live there, shared with the importer and other
domains); the small forms are schemas here. Every form that edits a row carries `Version()`.
"""

from __future__ import annotations

import dataclasses
import datetime as dt
from dataclasses import dataclass
from typing import Annotated, Any

from app.core.forms import Flag, FormVersion, FreeText  # shared field types
from app.core.forms import Bool, Date, FieldError, Int, Text, Version, clean_text, parse_or_raise
from app.core.i18n import _
from app.core.web import as_list
from app.customers import services as svc

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

    version: FormVersion = 0


@dataclass
class EventForm:
    """A failure, repair or replacement recorded from the device page (R-CUS-05/06)."""

    event_type: Annotated[str, Text(max_len=20)] = "failure"
    fault_code: Annotated[str, Text(max_len=200)] = ""
    unresolvable: Flag = False
    occurred_on: Annotated[dt.date | None, Date(not_future=True)] = None
    description: FreeText = ""

    def validate(self) -> dict[str, str]:
        if self.event_type not in EVENT_KINDS:
            return {"event_type": _("Choose what happened.")}
        return {}


@dataclass
class StageForm:
    stage: Annotated[str, Text(max_len=10)] = ""
    note: FreeText = ""
    version: FormVersion = 0


@dataclass
class NoticeForm:
    """"Notice sent" on the renewals page (R-CUS-07); the service checks method and date."""

    kind: Annotated[str, Text(max_len=20)] = ""
    subject_id: Annotated[int | None, Int(min=0, max=2**63 - 1)] = None
    sent_on: Annotated[str, Text(max_len=40)] = ""
    method: Annotated[str, Text(max_len=20)] = ""
    note: FreeText = ""


@dataclass
class RenewalDaysForm:
    days: Annotated[int, Int(min=1, max=365, required=True)] = 0


@dataclass
class TierForm:
    """One price tier (admin); the service checks the amount and the tier start."""

    price: Annotated[str, Text(max_len=40)] = ""
    min_value: Annotated[str, Text(max_len=40)] = ""
    note: FreeText = ""
    version: FormVersion = 0


@dataclass
class OfficeForm:
    office_id: Annotated[int | None, Int(min=1, max=2**63 - 1)] = None
    code: Annotated[str, Text(max_len=200)] = ""
    name: Annotated[str, Text(max_len=1000)] = ""
    city: Annotated[str, Text(max_len=1000)] = ""
    address: Annotated[str, Text(max_len=1000)] = ""
    phone: Annotated[str, Text(max_len=1000)] = ""
    is_active: Flag = True


@dataclass
class DocumentForm:
    kind: Annotated[str, Text(max_len=40)] = "other"
    title: Annotated[str, Text(max_len=10000)] = ""
    contract_id: Annotated[int | None, Int(min=1, max=2**63 - 1)] = None


@dataclasses.dataclass(frozen=True)
class Lines:
    """Parallel repeated fields (a contact's name / phone / role rows): every entry kept, blanks too,
    so the rows stay aligned; each entry is plain single-line text."""

    max_len: int = 1000
    max_items: int = 100

    def parse(self, raw: Any) -> list[str]:
        values = raw if isinstance(raw, list) else ([] if raw in (None, "") else [raw])
        if len(values) > self.max_items:
            raise FieldError(_("At most %(n)s entries.", n=self.max_items))
        out = []
        for value in values:
            text = clean_text(value)
            if len(text) > self.max_len:
                raise FieldError(_("At most %(n)s characters.", n=self.max_len))
            out.append(text)
        return out


# The customer, contract and device forms: these specs refuse what no field may hold (control
# characters, NUL, runaway lengths); the domain rules with their own messages (name required,
# end ≥ start, serial format, SLA hours …) stay in the services' `*Input.clean()`, which the
# importer and other domains go through as well.

@dataclass
class CustomerForm:
    name: Annotated[str, Text(max_len=1000)] = ""
    customer_class: Annotated[str, Text(max_len=40)] = "retail"
    office_id: Annotated[str, Text(max_len=40)] = ""
    address: Annotated[str, Text(max_len=1000)] = ""
    area: Annotated[str, Text(max_len=40)] = "city"
    distance_km: Annotated[str, Text(max_len=40)] = "0"
    phone: Annotated[str, Text(max_len=1000)] = ""
    notes: FreeText = ""
    contact_name: Annotated[list, Lines()] = dataclasses.field(default_factory=list)
    contact_phone: Annotated[list, Lines()] = dataclasses.field(default_factory=list)
    contact_role: Annotated[list, Lines()] = dataclasses.field(default_factory=list)


@dataclass
class ContractForm:
    contract_type: Annotated[str, Text(max_len=40)] = "annual"
    title: Annotated[str, Text(max_len=1000)] = ""
    start_date: Annotated[str, Text(max_len=40)] = ""
    end_date: Annotated[str, Text(max_len=40)] = ""
    status: Annotated[str, Text(max_len=40)] = "active"
    stage: Annotated[str, Text(max_len=10)] = "Q"
    response_hours: Annotated[str, Text(max_len=40)] = "1"
    onsite_hours_city: Annotated[str, Text(max_len=40)] = "2"
    onsite_hours_suburb: Annotated[str, Text(max_len=40)] = "12"
    warranty_months: Annotated[str, Text(max_len=40)] = "36"
    tariff_policy: Annotated[str, Text(max_len=40)] = "standard"
    amount: Annotated[str, Text(max_len=40)] = "0"
    notes: FreeText = ""


@dataclass
class DeviceForm:
    serial: Annotated[str, Text(max_len=1000)] = ""
    brand: Annotated[str, Text(max_len=1000)] = ""
    product_name: Annotated[str, Text(max_len=1000)] = ""
    model: Annotated[str, Text(max_len=1000)] = ""
    system: Annotated[str, Text(max_len=40)] = ""
    kind: Annotated[str, Text(max_len=1000)] = ""
    capacity: Annotated[str, Text(max_len=40)] = ""
    customer_id: Annotated[str, Text(max_len=40)] = ""
    contract_id: Annotated[str, Text(max_len=40)] = ""
    site: Annotated[str, Text(max_len=1000)] = ""
    install_date: Annotated[str, Text(max_len=40)] = ""
    acceptance_date: Annotated[str, Text(max_len=40)] = ""
    warranty_months: Annotated[str, Text(max_len=40)] = ""
    notes: FreeText = ""


def checked(schema: type, raw: dict) -> dict[str, Any]:
    """`raw` read through `schema` (400 with field messages when a value is unacceptable), as a dict."""
    return dataclasses.asdict(parse_or_raise(schema, raw))


def customer_input(data: dict) -> svc.CustomerInput:
    """A customer form (raw, or as `checked()` returned it) → the service's input; contact rows stay aligned."""
    names, phones, titles = as_list(data.get("contact_name")), as_list(data.get("contact_phone")), as_list(data.get("contact_role"))
    count = max(len(names), len(phones), len(titles))
    contacts = [svc.ContactInput(name=(names[i] if i < len(names) else ""), phone=(phones[i] if i < len(phones) else ""),
                                 role=(titles[i] if i < len(titles) else "")) for i in range(count)]
    return svc.CustomerInput(name=str(data.get("name", "")), customer_class=str(data.get("customer_class", "retail")),
                             office_id=str(data.get("office_id", "")), address=str(data.get("address", "")),
                             area=str(data.get("area", "city")), distance_km=str(data.get("distance_km", "0") or "0"),
                             phone=str(data.get("phone", "")), notes=str(data.get("notes", "")), contacts=contacts)


def contract_input(data: dict) -> svc.ContractInput:
    """A contract form → the service's input (missing fields take the input's defaults)."""
    keys = ("contract_type", "title", "start_date", "end_date", "status", "stage", "response_hours", "onsite_hours_city",
            "onsite_hours_suburb", "warranty_months", "tariff_policy", "amount", "notes")
    defaults = svc.ContractInput()
    return svc.ContractInput(**{k: str(data.get(k, getattr(defaults, k))) for k in keys})


def device_input(data: dict) -> svc.DeviceInput:
    """A device form → the service's input."""
    keys = ("serial", "brand", "product_name", "model", "system", "kind", "capacity", "customer_id", "contract_id", "site",
            "install_date", "acceptance_date", "warranty_months", "notes")
    return svc.DeviceInput(**{k: str(data.get(k, "") or "") for k in keys})

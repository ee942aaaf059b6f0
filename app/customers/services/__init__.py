"""Customers, contracts, installed devices, warranty, renewals (R-CUS-01…08).

Service API for other domains (all async; reads need no transaction; writes join the
caller's write transaction when there is one, else open their own):

* `lookup_device(serial)` → device dict (with customer name) or None.
* `warranty_status(device_id=…, serial=…, on=date)` → WarrantyStatus or None.
* `record_failure(actor, device_id, fault_code, unresolvable, source_type, source_id)`
  → FailureResult (R-CUS-05 extension, R-CUS-06 replacement proposal).
* `record_repair(actor, device_id, fault_code, source_type, source_id)`.
* `customer_entitlement(customer_id, on=date)` → Entitlement (R-TKT-02: which contract
  decides billing, with its SLA and tariff policy).
* `get_customer(customer_id)`, `search_customers(q)` for pickers.

The code lives in `_common` (constants, helpers), `_customers` (offices, customers), `_contracts`
and `_devices`; this package re-exports their names, so `from app.customers import services` works
as before. Other domains import `app.customers.api` only.
"""

# ruff: noqa: F401, F403
from app.core.dates import as_date, parse_date, today
from app.core.db import fetch, utcnow
from app.customers import warranty as engine
from app.customers.services._common import (
    CLASSES,
    AREAS,
    CONTRACT_TYPES,
    ENTITLEMENT_ORDER,
    STAGES,
    CONTRACT_STATUSES,
    CONTRACT_STATES,
    TARIFF_POLICIES,
    SYSTEMS,
    EVENT_TYPES,
    NOTICE_METHODS,
    SERIAL_RE,
    MAX_CONTACTS,
    _edit,
    normalize_serial,
    _like_escape,
)
from app.customers.services._customers import (
    list_offices,
    OfficeInput,
    save_office,
    ContactInput,
    CustomerInput,
    _search_text,
    _customer_public,
    _check_office,
    _write_contacts,
    create_customer,
    update_customer,
    get_customer,
    CustomerFilter,
    _customer_where,
    list_customers,
    search_customers,
)
from app.customers.services._contracts import (
    ContractInput,
    contract_state,
    create_contract,
    update_contract,
    change_stage,
    get_contract,
    contract_history,
    customer_contracts,
    Entitlement,
    customer_entitlement,
)
from app.customers.services._devices import (
    DeviceInput,
    _check_device_refs,
    create_device,
    _create_device,
    update_device,
    get_device,
    lookup_device,
    device_events,
    _events,
    _term_for,
    warranty_for,
    _recompute_device,
    WarrantyStatus,
    warranty_status,
    FailureResult,
    _clean_event,
    _event_day,
    _lock_device,
    record_failure,
    record_repair,
    DeviceFilter,
    list_devices,
    _state_of,
    contracts_for_picker,
)

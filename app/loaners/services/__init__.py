"""Loaners services (issue #6): check-out against a repair, a ticket or standalone, check-in with a test,
spare-replacement notices, overdue lists, desk requests, permanent replacement, the closing rule.

* R-LOAN-01: every check-out draws a gapless notice number (`loaner_notice`, BP-2026-000001);
  the notice is recalled through the dispatch slip that reinstalls the customer's unit.
* R-LOAN-03: the loan records unit serial, customer, linked case, out date, expected return,
  condition out and in, and the check-in test.
* Loaner units are serialised units in the parts location LOANER; check-out moves the unit to
  CUSTOMER ("loan_out"), check-in back to LOANER — or to BENCH / QUARANTINE when the check-in
  test fails ("loan_back") — always through app.parts.api (R-INV-03 ledger), inside this
  module's write transaction.
* Races: the parts move is a compare-and-set on the unit's location (two keepers → one wins),
  the loan table has one open loan per unit (partial UNIQUE index), loan transitions are a
  compare-and-set on (id, status, version); a one-time form token books a double submit once.
* The closing rule (issue #6 §6): the manifest lists `rma_close_guard` / `ticket_close_guard` —
  a case with a loaner still out cannot close; the blocker links to the loan.
"""

from __future__ import annotations

# One package, re-exported here so callers keep `from app.loaners import services` (issue #10, item 12).
from app.core.audit.services import Actor  # noqa: F401
from app.core.dates import as_date, parse_date, today  # noqa: F401
from app.core.db import new_form_token, utcnow  # noqa: F401
from app.loaners.schemas import CheckinInput, CheckoutInput, RequestInput  # noqa: F401
from app.loaners.services._base import (  # noqa: F401
    CASE_TYPES,
    POOL,
    AT_CUSTOMER,
    FAIL_DESTINATIONS,
    DUPLICATE,
    thresholds,
    default_return_date,
    get_rma,
    case_label,
    case_url,
)
from app.loaners.services._reads import (  # noqa: F401
    pool_location_id,
    get_loan,
    loan_by_number,
    customer_brief,
    open_loan_for_unit,
    find_units,
    whereabouts,
    pool_unit_by_serial,
    availability,
    pool_units,
    list_loans,
    overdue,
    overdue_count,
    out_count,
    refresh_finished_cases,
    finished_still_out,
    finished_still_out_count,
    loans_for_customer,
    loans_for_case,
    unit_history,
    rma_close_guard,
    ticket_close_guard,
    open_loan_by_serial,
    get_request,
    open_requests,
    open_request_count,
    recorded_triggers,
)
from app.loaners.services._checkout import (  # noqa: F401
    validate_checkout,
    check_out,
)
from app.loaners.services._loan import (  # noqa: F401
    check_in,
    recall_notice,
    mark_case_finished,
    note_case_finished,
    on_rma_finished,
    convert_to_permanent,
)
from app.loaners.services._requests import (  # noqa: F401
    create_request,
    cancel_request,
    record_triggers,
    triggers_for_case,
    pick,
)
from app.loaners.services._fit import (  # noqa: F401
    kind_of,
    fit_warnings,
    case_device,
    checkout_fit,
    loan_fit,
    checkin_warnings,
)
from app.loaners.services import _base  # noqa: F401  (tests replace _base._rma_services)

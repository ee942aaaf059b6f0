"""Return repair — the bench pipeline (R-RMA-01…08). A package: `_common` (stages, reads, settings),
`_moves` (the transitions), `_intake`, `_side` (hand-over, quote, replacement), `_board` (photos, board, report);
this module re-exports them, so `from app.rma import services as svc` keeps working.

One function per transition; each goes through `app.core.status.move()` with a `Transition`
from `app/rma/status.py`: one compare-and-set on (id, status, version), so of twenty clicks on
one card exactly one moves it; the others get `Stale` (409, "already moved by X at HH:MM").
Every transition writes one append-only `rma_transition` row (UNIQUE (rma_id, version)) and
one audit event, in the same transaction.

Rules:
* R-RMA-01 stages (STATUSES) with who/when on every transition.
* R-RMA-02 FIFO: the board lists each stage by `received_at, id`.
* R-RMA-03 3-day clock from QC (`rma.repair_days`): `sweep_three_day()` raises exactly
  one replacement application (UNIQUE rma_id) for an intact in-warranty unit still in the
  to-repair area or on the bench; `decide_replacement()` (manager) issues a new unit from
  stock through the parts ledger and moves the faulty one to QUARANTINE.
* R-RMA-04 out of warranty: bench costs → desk quotes → customer accepts/declines →
  finance records payment (ledger receivable); `start_repair()` refuses until the
  receivable is paid; declined → `ship_unrepaired()`.
* R-RMA-05/07 consultations and hand-overs are recorded.
* R-RMA-06 burn-in hours per model (`rma_burn_in`, default `rma.burn_in_hours` = 24):
  a passing final test is refused before they elapse; a failed one sends the unit back to
  repair and counts as rework; completed units must ship within `rma.ship_days` (2).
* Closing asks `app.core.hooks.close_blockers("rma", id)` (a loaner still out, issue #6).

Read API for other domains (loaners): `get_rma(rma_id)`, `rma_options_for_loan(q)`.
"""

from app.core.db import fetch, utcnow  # noqa: F401
from app.core.i18n import tz  # noqa: F401
from app.rma.status import NEXT_ACTION, TRANSITIONS  # noqa: F401
from app.rma.services._common import (  # noqa: F401
    ACTIONS, ANSWERS, APPEARANCE, Action, BENCH_STATUSES, CLOCK_STATUSES, FINISHED_STATUSES, OPEN_STATUSES,
    OUTCOMES, QUOTE_STATUSES, REPLACEMENT_STATUSES, SERIAL_RE, STATUSES, as_dt, bench_users,
    burn_in_hours_for, burn_in_table, find_by_scan, get_quote, get_rma, hhmm, rma_by_number, rma_options_for_loan, rmas_for_ticket, rules,
    set_burn_in_hours, timeline,
)
from app.rma.services._moves import (  # noqa: F401
    burn_in_ends, burn_in_left, callback, close, confirm, deliver, final_test, gate_reason, payment_gate, qc, repaired, ship, ship_unrepaired,
    return_part, start_burn_in, start_repair, unbox, use_part,
)
from app.rma.services._intake import (  # noqa: F401
    IntakeInput, receive,
)
from app.rma.services._side import (  # noqa: F401
    apply_replacement, consult, cost_quote, customer_decision, decide_replacement, hand_over, list_replacements,
    record_payment, replacement_conditions,
    send_quote, sweep_if_due, sweep_three_day,
)
from app.rma.services._board import (  # noqa: F401
    CARD_COLUMNS, Card, PHOTO_TYPES, add_photo, board, callbacks_due, card, cards_per_column, column, count_of, detail_extras,
    events, get_photo, make_card, month_bounds, repair_deadline, monthly_report, overdue_repairs, overdue_shipments, percentile, photo_dir,
    photos, quotes_to_send, report_chart,
)

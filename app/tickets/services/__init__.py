"""Ticket actions (issue #13): one async function per action; each owns its transaction, checks its
permission, writes its audit event in the same transaction and raises only DomainError / Stale.

Rules: R-TKT-01 (intake fields), R-TKT-02 (entitlement decides billing), R-TKT-03 (dispatch to a
technician or the engineering manager's queue), R-TKT-04 (pre-departure call, ETA), R-TKT-05 (SLA
clocks with pause; breach recorded once at the deadline), R-TKT-06/07/08 (visits, result, sign-off,
satisfaction score), R-TKT-09 (repeat repair), R-SLIP-02 (slip number in order, via the ledger api),
R-CUS-05/06 (failures to the warranty, via the customers api), R-LOAN-02 (loaner triggers fed).

Every time-dependent function takes `now=` so tests freeze the clock.
"""

from app.tickets.services._common import CLOCKS, _aware, is_dispatcher, may_see, reads_all  # noqa: F401
from app.tickets.services._sla import (BILLING_BY_STATUS, entitlement, record_breaches, sla_hours,  # noqa: F401
                                       sweep_breaches, sweep_recent)
from app.tickets.services._dispatch import (create_ticket, dispatch, revisit, take_call,  # noqa: F401
                                            ticket_by_token)
from app.tickets.services._clock import (close, feed_loaner_triggers, loaner_hits, pause, resume,  # noqa: F401
                                         stats_by_technician)
from app.tickets.services._visits import (PNG_MAGIC, arrive, depart, finish, record_call, score_of, sign,  # noqa: F401
                                          signature_dir)

"""What other domains may use of loaners (issue #10, item 7).

The only module another domain imports from app.loaners. Keep these names stable; add, don't rename."""

from app.loaners import triggers  # noqa: F401  (facts → TriggerHit: triggers.evaluate … for tickets)
from app.loaners.services import (  # noqa: F401
    convert_to_permanent,
    get_loan,
    loan_by_number,
    loans_for_case,
    loans_for_customer,
    note_case_finished,
    record_triggers,
)

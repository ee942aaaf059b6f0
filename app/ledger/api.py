"""What other domains may use of the slip ledger and receivables (issue #10, item 7).

The only module another domain imports from app.ledger. Commands join the caller's transaction and
raise app.core.errors.DomainError (400 with field errors, 403, 404, 409). Keep these names stable;
add, don't rename."""

from app.ledger.payments import new_token, record_payment  # noqa: F401
from app.ledger.receivables import post_receivable  # noqa: F401
from app.ledger.services import current_book, next_number_for, record_slip_use  # noqa: F401

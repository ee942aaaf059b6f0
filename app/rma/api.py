"""What other domains may use of the return-repair bench (issue #10, item 7).

The only module another domain imports from app.rma. Keep these names stable; add, don't rename."""

from app.rma.services import get_rma, receive, rma_by_number, rma_options_for_loan, rmas_for_ticket  # noqa: F401

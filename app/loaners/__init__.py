"""Loaners (issue #6): loaner pool, check-out / check-in, spare-replacement notices (R-LOAN-01…03)."""

"""Repair-slip ledger and receivables (issue #7; SPEC §G R-SLIP-01…08, §H R-AR-01…04)."""

"""Customers, contracts and the installed base (issue #3, R-CUS-01…08)."""

"""Spare parts and the emergency store (issue #4, SPEC §D R-INV-01…06)."""

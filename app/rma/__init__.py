"""Return repair — the bench (issue #5)."""

"""Demo and scale data. `python -m seed` (demo, idempotent) / `python -m seed --scale N`."""

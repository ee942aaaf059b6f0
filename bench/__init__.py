"""Benchmarks: `python -m bench` (see bench/__main__.py). Never run as timed tests."""

"""`python -m seed`: load the demo data once (idempotent). `--scale N`: a large data set for benchmarks."""

from __future__ import annotations

import argparse
import asyncio

import app  # noqa: F401  (PICCOLO_CONF)
from seed import demo


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m seed", description=__doc__)
    parser.add_argument("--scale", type=int, default=0, help="then grow each step's big table by N rows (users: audit events; parts: movements; …)")
    parser.add_argument("--steps", default="", help="with --scale: only these steps (comma-separated, e.g. users,parts)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    steps = {name.strip() for name in args.steps.split(",") if name.strip()} or None
    asyncio.run(demo.run(scale=args.scale, quiet=args.quiet, steps=steps))


if __name__ == "__main__":
    main()

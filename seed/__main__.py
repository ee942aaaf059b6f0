"""`python -m seed`: load the demo data once (idempotent). `--scale N`: a large data set for benchmarks."""

from __future__ import annotations

import argparse
import asyncio

import app  # noqa: F401  (PICCOLO_CONF)
from seed import demo


def main() -> None:
    parser = argparse.ArgumentParser(prog="python -m seed", description=__doc__)
    parser.add_argument("--scale", type=int, default=0, help="also generate N rows of history (audit events; later domains add theirs)")
    parser.add_argument("--quiet", action="store_true")
    args = parser.parse_args()
    asyncio.run(demo.run(scale=args.scale, quiet=args.quiet))


if __name__ == "__main__":
    main()

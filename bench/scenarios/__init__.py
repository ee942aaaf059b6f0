"""One module per domain: PAGES = [(label, path, username or None[, kind])], optional `async def params() -> dict`,
optional SEED_STEP (the seed step whose --scale builds this scenario's data; default: the module name; None: none).

kind (issue #15 targets, judged by bench/__main__.py): "list" (a main list: ≥ 35% of /healthz; its first page's
"next" link becomes a deep-page row), "board" (≥ 15%), "home" (≥ 35% and ≤ 4 queries), "page" (default: only
p99 ≤ 2× p50). Each role's home page lives in homes.py, not repeated in the domain modules."""

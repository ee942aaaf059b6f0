"""One module per domain: PAGES = [(label, path, username or None)], optional `async def params() -> dict`,
optional SEED_STEP (the seed step whose --scale builds this scenario's data; default: the module name)."""

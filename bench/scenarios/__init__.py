"""One module per domain: PAGES = [(label, path, username or None)], optional `async def params() -> dict`."""

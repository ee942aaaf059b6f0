"""Repair-slip ledger and receivables (issue #7; SPEC §G R-SLIP-01…08, §H R-AR-01…04)."""


def __getattr__(name: str):
    """`app.ledger.MANIFEST`, built on first use: importing `app.ledger.api` must not pull in the controllers."""
    if name == "MANIFEST":
        from app.ledger.manifest import MANIFEST

        return MANIFEST
    raise AttributeError(name)

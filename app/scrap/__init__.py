"""Scrap approvals (issue #14, SPEC §F R-SCR-01…03): scrap records, the appraisal group with a quorum,
manager and GM approval, disposal through the stock ledger, the monthly write-off list for finance."""


def __getattr__(name: str):
    """`app.scrap.MANIFEST`, built on first use: importing `app.scrap.api` must not pull in the controllers."""
    if name == "MANIFEST":
        from app.scrap.manifest import MANIFEST

        return MANIFEST
    raise AttributeError(name)

"""Loaners (issue #6): loaner pool, check-out / check-in, spare-replacement notices (R-LOAN-01…03)."""


def __getattr__(name: str):
    """`app.loaners.MANIFEST`, built on first use: importing `app.loaners.api` must not pull in the controllers."""
    if name == "MANIFEST":
        from app.loaners.manifest import MANIFEST

        return MANIFEST
    raise AttributeError(name)

"""Service tickets (issue #13, SPEC §B R-TKT-01…09): intake with entitlement, dispatch, SLA clocks
with pause, visits on a phone with customer sign-off, links into loaners, parts, the slip ledger,
the bench and warranty."""


def __getattr__(name: str):
    """`app.tickets.MANIFEST`, built on first use: importing `app.tickets.api` must not pull in the controllers."""
    if name == "MANIFEST":
        from app.tickets.manifest import MANIFEST

        return MANIFEST
    raise AttributeError(name)

"""Customers, contracts and the installed base (issue #3, R-CUS-01…08)."""


def __getattr__(name: str):
    """`app.customers.MANIFEST`, built on first use: importing `app.customers.api` must not pull in the controllers."""
    if name == "MANIFEST":
        from app.customers.manifest import MANIFEST

        return MANIFEST
    raise AttributeError(name)

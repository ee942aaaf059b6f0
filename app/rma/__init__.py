"""Return repair — the bench (issue #5)."""


def __getattr__(name: str):
    """`app.rma.MANIFEST`, built on first use: importing `app.rma.api` must not pull in the controllers."""
    if name == "MANIFEST":
        from app.rma.manifest import MANIFEST

        return MANIFEST
    raise AttributeError(name)

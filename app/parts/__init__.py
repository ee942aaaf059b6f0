"""Spare parts and the emergency store (issue #4, SPEC §D R-INV-01…06)."""


def __getattr__(name: str):
    """`app.parts.MANIFEST`, built on first use: importing `app.parts.api` must not pull in the controllers."""
    if name == "MANIFEST":
        from app.parts.manifest import MANIFEST

        return MANIFEST
    raise AttributeError(name)

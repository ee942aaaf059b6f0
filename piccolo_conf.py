"""Lets the `piccolo` CLI run from the project root (`piccolo migrations forwards shouhou`)."""

from app.piccolo_conf import APP_REGISTRY, DB  # noqa: F401

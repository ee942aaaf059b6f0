"""Unboxing photos uploaded by this package's tests go to a temporary directory, not var/uploads."""

import os
import tempfile

os.environ.setdefault("SHOUHOU_UPLOAD_DIR", tempfile.mkdtemp(prefix="shouhou-uploads-"))

import pytest


@pytest.fixture(autouse=True, scope="session")
def _domains_installed():
    """Service tests call require()/setting() without building an app: install the manifests (idempotent)."""
    from app.core.manifest import install_all
    from app.domains import manifests

    install_all(manifests())

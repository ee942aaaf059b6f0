"""Uploads of this package's tests go to a temporary directory, not var/uploads; the domains'
manifests are installed (permissions, settings) even when a test never builds the app."""

import os
import tempfile

import pytest

os.environ.setdefault("SHOUHOU_UPLOAD_DIR", tempfile.mkdtemp(prefix="shouhou-uploads-"))


@pytest.fixture(scope="session", autouse=True)
def _manifests_installed():
    from app.core.manifest import install_all
    from app.domains import manifests

    install_all(manifests())

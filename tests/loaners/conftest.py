"""Loaner tests call the services directly: the domains' manifests must be installed (permission names,
close guards, settings) even when no test has built an app yet (random order, one file alone)."""

from __future__ import annotations

import pytest


@pytest.fixture(autouse=True, scope="session")
def _manifests_installed():
    from app.core.manifest import install_all
    from app.domains import manifests

    install_all(manifests())

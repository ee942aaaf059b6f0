"""Scrap tests: the domain's manifest installed (permission names, settings) as create_app() would."""

import pytest


@pytest.fixture(autouse=True, scope="session")
def scrap_installed():
    from app.core.manifest import install
    from app.scrap.manifest import MANIFEST

    install(MANIFEST)

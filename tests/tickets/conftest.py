import pytest


@pytest.fixture(autouse=True, scope="session")
def _manifests_installed():
    """Service tests run without an app: install every manifest (permissions, settings, hooks) as create_app() does."""
    from app.core.manifest import install_all
    from app.domains import manifests

    install_all(manifests())

"""The app boots and serves the login page and the health check."""


async def test_healthz_ok(anon):
    """GET /healthz is public and reports the database."""
    response = await anon.get("/healthz")
    assert response.status_code == 200
    assert response.json() == {"status": "ok", "db": "ok"}


async def test_login_page_renders(anon):
    """The login page renders for anonymous users."""
    response = await anon.get("/login")
    assert response.status_code == 200
    assert 'name="username"' in response.text

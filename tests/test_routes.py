"""Deny by default (issue #2): every route is either public or guarded by roles,
and the role × route matrix answers as declared for every role and anonymous."""

from __future__ import annotations

import re

import pytest

from app.core.permissions import handler_access
from app.core.roles import ROLES
from tests.conftest import Client

PUBLIC_PATHS = {"/login", "/lang", "/healthz", "/static"}


def _is_auto_options(handler) -> bool:
    # Litestar adds an OPTIONS handler per path; the app-level guard refuses it like any undeclared handler.
    return handler.http_methods == {"OPTIONS"} and handler.handler_name == "options_handler"


def _handlers(app):
    for route in app.routes:
        for handler in getattr(route, "route_handlers", []):
            if not _is_auto_options(handler):
                yield route.path, handler


def test_every_route_is_public_or_guarded(app):
    """Walks app.routes: a handler that declares neither `public` nor roles fails the build (incl. /schema)."""
    offenders = []
    for path, handler in _handlers(app):
        public, roles = handler_access(handler)
        if public:
            if not any(path == p or path.startswith(p + "/") for p in PUBLIC_PATHS):
                offenders.append(f"{path}: public but not in the public allow-list")
        elif not roles:
            offenders.append(f"{path}: neither public nor guarded by roles")
    assert not offenders, offenders
    assert not any(path.startswith("/schema") for path, _ in _handlers(app)), "OpenAPI must not be served unguarded"


def _get_pages(app):
    """GET routes without path parameters (the pages a role can open from the menu)."""
    pages = []
    for path, handler in _handlers(app):
        if "GET" not in handler.http_methods or "{" in path or path.startswith("/static"):
            continue
        public, roles = handler_access(handler)
        pages.append((path, public, roles or frozenset()))
    return sorted(set(pages))


@pytest.fixture(scope="module")
def role_clients():
    return {}


async def test_role_matrix(app, login_as, role_clients):
    """Every role and anonymous: allowed pages answer 200 (or a redirect), refused ones 403 / login."""
    clients = {role: await login_as(role) for role in ROLES}
    anon = Client(app)
    failures = []
    for path, public, allowed in _get_pages(app):
        response = await anon.get(path)
        if public:
            if response.status_code >= 400 and path != "/healthz":
                failures.append(f"anonymous {path}: {response.status_code}")
        elif not (response.status_code == 303 and response.headers["location"].startswith("/login")):
            failures.append(f"anonymous {path}: {response.status_code}, expected redirect to login")
        for role, client in clients.items():
            response = await client.get(path)
            if public or role in allowed:
                ok = response.status_code in (200, 303)
            else:
                ok = response.status_code == 403
            if not ok:
                failures.append(f"{role} {path}: {response.status_code} (allowed={public or role in allowed})")
    assert not failures, "\n".join(failures)


async def test_auto_options_handlers_are_refused(anon):
    """Undeclared handlers (Litestar's automatic OPTIONS) are denied by default."""
    response = await anon.options("/admin/users")
    assert response.status_code in (303, 401, 403)


async def test_schema_is_not_served(anon):
    """No OpenAPI schema is exposed."""
    assert (await anon.get("/schema")).status_code in (303, 404)


async def test_security_headers_and_request_id(anon):
    """Responses carry CSP, nosniff, frame denial and a request id."""
    response = await anon.get("/login")
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["x-frame-options"] == "DENY"
    assert "script-src 'self'" in response.headers["content-security-policy"]
    assert re.fullmatch(r"[0-9a-f]{16}", response.headers["x-request-id"])


async def test_unknown_host_is_refused(app):
    """Host headers outside SHOUHOU_ALLOWED_HOSTS get 400."""
    client = Client(app)
    response = await client.get("/login", headers={"host": "evil.example"})
    assert response.status_code == 400


async def test_errors_show_no_traceback(login_as, monkeypatch):
    """An unexpected error renders a friendly page with the request id, never a traceback."""
    import app.core.home as home

    async def boom(user):
        raise RuntimeError("secret internals")

    from app.core.nav import PANELS, HomePanel, register_panel

    register_panel(HomePanel("boom-test", "boom", "home.html", frozenset({"qc"}), boom, order=999))
    try:
        client = await login_as("qc")
        response = await client.get("/")
        assert response.status_code == 500
        assert "secret internals" not in response.text and "Traceback" not in response.text
        assert response.headers["x-request-id"] in response.text
    finally:
        PANELS[:] = [p for p in PANELS if p.key != "boom-test"]
    assert home  # imported for monkeypatch symmetry

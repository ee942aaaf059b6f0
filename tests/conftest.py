"""Test setup: a database of its own per run (SQLite file or a fresh PostgreSQL database),
migrated once; HTTP tests go through the real app with httpx's ASGI transport in the
same event loop as the service tests (one loop → one pool / shared reader).
"""

from __future__ import annotations

import asyncio
import itertools
import os
import tempfile
import uuid
from urllib.parse import urlsplit, urlunsplit

import pytest

_PG_ADMIN_URL: str | None = None
_PG_DB: str | None = None

_base = os.environ.get("DATABASE_URL", "")
if _base.startswith(("postgresql://", "postgres://")):
    import asyncpg

    _PG_ADMIN_URL = _base
    _PG_DB = f"shouhou_test_{uuid.uuid4().hex[:10]}"

    async def _create() -> None:
        conn = await asyncpg.connect(_PG_ADMIN_URL)
        try:
            await conn.execute(f'CREATE DATABASE "{_PG_DB}"')
        finally:
            await conn.close()

    asyncio.run(_create())
    parts = urlsplit(_base)
    os.environ["DATABASE_URL"] = urlunsplit(parts._replace(path="/" + _PG_DB))
else:
    _tmp = tempfile.mkdtemp(prefix="shouhou-test-")
    os.environ["DATABASE_URL"] = f"sqlite:///{_tmp}/test.db"

os.environ.setdefault("SHOUHOU_ALLOWED_HOSTS", "testserver.local,127.0.0.1,localhost")
os.environ.setdefault("SHOUHOU_SECRET_KEY", "test-secret")
os.environ.setdefault("SHOUHOU_PERIODIC", "0")  # background jobs off: tests freeze the clock and call them directly

import httpx  # noqa: E402

import app as _app_pkg  # noqa: E402,F401
from app.core import db  # noqa: E402
from app.core.manage import migrate  # noqa: E402

BASE_URL = "http://testserver.local"

# What the database itself raises when it refuses a write (trigger, CHECK, UNIQUE) on either engine.
import sqlite3 as _sqlite3  # noqa: E402

import asyncpg as _asyncpg  # noqa: E402

DB_REFUSED = (_sqlite3.IntegrityError, _asyncpg.exceptions.IntegrityConstraintViolationError,
              _asyncpg.exceptions.RaiseError)
_ips = itertools.count(2)


def pytest_sessionfinish(session, exitstatus):  # noqa: ARG001
    if _PG_DB and _PG_ADMIN_URL:
        import asyncpg

        async def _drop() -> None:
            conn = await asyncpg.connect(_PG_ADMIN_URL)
            try:
                await conn.execute(f'DROP DATABASE IF EXISTS "{_PG_DB}" WITH (FORCE)')
            finally:
                await conn.close()

        asyncio.run(_drop())


def pytest_collection_modifyitems(session, config, items):  # noqa: ARG001
    """Browser tests run last (they hold a Playwright loop in the main thread while open)."""
    items.sort(key=lambda item: "tests/browser/" in str(item.fspath))


def is_postgres() -> bool:
    return _PG_DB is not None


@pytest.fixture(scope="session", autouse=True)
async def database():
    """Migrate once per run and open the pool / shared reader for the whole session."""
    await migrate(quiet=True)
    await db.startup()
    yield
    await db.shutdown()


@pytest.fixture(scope="session")
def app():
    from app.main import create_app

    return create_app()


def next_ip() -> str:
    n = next(_ips)
    return f"10.{(n >> 16) & 255}.{(n >> 8) & 255}.{n & 255}"


class Client(httpx.AsyncClient):
    """httpx client on the ASGI app that sends the CSRF token like the browser (hx-headers)."""

    def __init__(self, app, ip: str | None = None):
        transport = httpx.ASGITransport(app=app, client=(ip or next_ip(), 50000))
        super().__init__(transport=transport, base_url=BASE_URL, follow_redirects=False)

    async def csrf(self) -> str:
        token = self.cookies.get("csrftoken")
        if not token:
            await self.get("/login")
            token = self.cookies.get("csrftoken")
        return token

    async def post_form(self, url: str, data: dict | None = None, *, csrf: bool = True, **kwargs) -> httpx.Response:
        headers = dict(kwargs.pop("headers", {}) or {})
        if csrf:
            headers["x-csrftoken"] = await self.csrf()
        return await self.post(url, data=data or {}, headers=headers, **kwargs)


@pytest.fixture
def anon(app):
    return Client(app)


async def login(app, username: str, password: str = "password-123") -> Client:
    client = Client(app)
    response = await client.post_form("/login", {"username": username, "password": password})
    assert response.status_code == 303, response.text[:500]
    return client


@pytest.fixture
def login_as(app):
    """`await login_as("warehouse")` → a signed-in client for a new user holding those roles."""

    async def _login(*roles: str, **kwargs) -> Client:
        from seed.factories import make_user, unique

        username = kwargs.pop("username", None) or unique("t")
        await make_user(*roles, username=username, **kwargs)
        client = await login(app, username)
        client.username = username  # type: ignore[attr-defined]
        return client

    return _login

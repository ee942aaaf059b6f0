"""Issue #11 at the shell: language switch without side effects on GET, throttles an admin can clear, security
headers on every error page, an audit log that cannot be rewritten, bad hidden versions refused."""

from __future__ import annotations

import sqlite3
import time

import asyncpg
import pytest

from app.core.db import fetch, utcnow
from seed.factories import make_user, unique
from tests.conftest import is_postgres, login


async def test_get_lang_changes_the_page_but_not_the_account(login_as):
    """`?lang=en` on a GET translates the page and sets the cookie; it writes no preference and no audit row."""
    client = await login_as("desk")
    before = await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE username = {}", client.username)
    response = await client.get("/?lang=en")
    assert response.status_code == 200 and "Sign out" in response.text
    assert "shouhou_lang=en" in response.headers.get("set-cookie", "")
    after = await fetch("SELECT COUNT(*) AS n FROM audit_event WHERE username = {}", client.username)
    assert after[0]["n"] == before[0]["n"]
    row = (await fetch("SELECT lang FROM app_user WHERE username = {}", client.username))[0]
    assert row["lang"] in ("", None, "zh")


async def test_post_lang_remembers_the_choice(login_as):
    """The top-bar switch POSTs /lang: the account remembers it (audited) and the user returns to the page."""
    client = await login_as("desk")
    response = await client.post_form("/lang", {"lang": "en", "next": "/audit?x=1"})
    assert response.status_code == 303 and response.headers["location"] == "/audit?x=1"
    assert (await fetch("SELECT lang FROM app_user WHERE username = {}", client.username))[0]["lang"] == "en"
    assert "Sign out" in (await client.get("/")).text
    bad = await client.post_form("/lang", {"lang": "fr"})
    assert bad.status_code == 400


async def test_lang_next_is_same_site_only(anon):
    """An absolute or protocol-relative `next` falls back to the home page (no open redirect)."""
    response = await anon.post_form("/lang", {"lang": "en", "next": "//evil.example/"})
    assert response.status_code == 303 and response.headers["location"] == "/"


async def test_unknown_path_404_carries_security_headers(anon):
    """The 404 of an unknown address has the same security headers as every other page."""
    response = await anon.get("/no/such/page")
    assert response.status_code == 404
    assert response.headers["x-content-type-options"] == "nosniff"
    assert "frame-ancestors 'none'" in response.headers["content-security-policy"]


async def test_admin_sees_and_clears_a_throttle(app, login_as):
    """An admin sees who is slowed down and lets them in again at once (audited)."""
    from app.core.accounts import services
    from app.core.config import get_settings
    from app.core.errors import DomainError

    username = unique("thr")
    await make_user("desk", username=username, password="password-123")
    for _ in range(get_settings().login_max_per_user):
        with pytest.raises(DomainError):
            await services.authenticate(username, "wrong", "192.0.2.33")
    admin = await login_as("admin")
    page = await admin.get("/admin/throttles")
    assert page.status_code == 200 and username in page.text
    row = (await fetch("SELECT id FROM login_throttle WHERE key = {}", f"pair:{username}|192.0.2.33"))[0]
    desk = await login_as("desk")
    assert (await desk.post_form(f"/admin/throttles/{row['id']}/clear")).status_code == 403
    assert (await admin.post_form(f"/admin/throttles/{row['id']}/clear")).status_code == 303
    user = await services.authenticate(username, "password-123", "192.0.2.33")
    assert user.username == username
    assert await fetch("SELECT 1 FROM audit_event WHERE action = 'auth.throttle_cleared' AND entity_id = {}", str(row["id"]))


async def test_user_edit_with_unreadable_version_is_refused(login_as):
    """POST /admin/users/{id} with version=NaN is a 400 and changes nothing (was a 500)."""
    admin = await login_as("admin")
    user_id = await make_user("desk", full_name="甲")
    for version in ("NaN", "", "2026-01-01"):
        response = await admin.post_form(f"/admin/users/{user_id}", {"full_name": "乙", "roles": "desk", "version": version})
        assert response.status_code == 400, version
    assert (await fetch("SELECT full_name FROM app_user WHERE id = {}", user_id))[0]["full_name"] == "甲"


@pytest.mark.parametrize("table", ["audit_event", "status_change"])
async def test_append_only_tables_refuse_replace(table):
    """X-03: INSERT OR REPLACE (SQLite) / ON CONFLICT DO UPDATE (PostgreSQL) cannot rewrite an append-only row."""
    from app.core.db import write_transaction

    async with write_transaction():
        if table == "audit_event":
            await fetch("INSERT INTO audit_event (created_at, user_id, username, roles, action, entity_type, entity_id, "
                        "request_id, ip) VALUES ({}, NULL, 'x', '', 'test.append', '', '', '', '')", utcnow())
        else:
            await fetch("INSERT INTO status_change (table_name, row_id, version, from_status, to_status, action, "
                        "created_at) VALUES ('test', {}, 1, '', 'new', 'test', {})", time.time_ns() % 10**12, utcnow())
    row = (await fetch(f"SELECT * FROM {table} ORDER BY id DESC LIMIT 1"))[0]
    cols = list(row.keys())
    values = ", ".join("{}" for _ in cols)
    col_list = ", ".join(f'"{c}"' for c in cols)
    if is_postgres():
        sql = (f"INSERT INTO {table} ({col_list}) VALUES ({values}) ON CONFLICT (id) DO UPDATE SET "
               f'"{cols[1]}" = EXCLUDED."{cols[1]}"')
    else:
        sql = f"INSERT OR REPLACE INTO {table} ({col_list}) VALUES ({values})"
    with pytest.raises((sqlite3.IntegrityError, asyncpg.exceptions.RaiseError)) as excinfo:
        async with write_transaction():
            await fetch(sql, *row.values())
    assert "append-only" in str(excinfo.value)
    again = await fetch(f"SELECT * FROM {table} WHERE id = {{}}", row["id"])
    assert again == [row]


async def test_ids_beyond_the_column_range_are_404(login_as):
    """Issue #11: /customers/9223372036854775808 and ids over 2³¹ are a 404 page, never a 500."""
    client = await login_as("manager")
    for path in ("/customers/9223372036854775808", "/customers/2147483648", "/bench/99999999999"):
        response = await client.get(path)
        assert response.status_code == 404, path
        assert response.headers["x-content-type-options"] == "nosniff"


async def test_cursor_beyond_range_is_a_400_not_a_500(login_as):
    """A `?after=` cursor too large for the database is the user's input: a 400 with a message."""
    client = await login_as("manager", "admin")
    response = await client.get("/audit", params={"after": "99999999999999999999999"})
    assert response.status_code in (400, 200)


async def test_photo_polyglots_are_refused(login_as):
    """#11.10: a PNG that carries HTML after its signature is refused as a bench photo (nothing stored)."""
    from app.core.uploads import clean_image
    from tests.rma import factories

    polyglot = b"\x89PNG\r\n\x1a\n" + b"\x00" * 32 + b"<html><script>alert(1)</script></html>"
    assert clean_image("png", polyglot) is None
    rma_id = await factories.make_rma("inspected")
    client = await login_as("bench")
    token = await client.csrf()
    before = await fetch("SELECT COUNT(*) AS n FROM rma_photo WHERE rma_id = {}", rma_id)
    response = await client.post(f"/bench/{rma_id}/photos", files={"photo": ("box.png", polyglot, "image/png")},
                                 headers={"x-csrftoken": token})
    assert response.status_code == 400
    assert await fetch("SELECT COUNT(*) AS n FROM rma_photo WHERE rma_id = {}", rma_id) == before

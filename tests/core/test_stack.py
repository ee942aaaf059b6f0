"""Issue #15 at the shell: the one middleware, CSRF cookie only with pages, /healthz asking the database at most
once a second, the per-worker session cache dropped by every account write, and the faster Jinja attribute lookup.
Behaviour only — speed is measured in bench/, never here."""

from __future__ import annotations

import time

import pytest
from jinja2 import Environment

from app.core import db
from app.core.accounts import services as accounts
from app.core.db import fetch, write_transaction
from app.core.templating import _fast_getattr
from tests.conftest import Client


def _set_cookies(response) -> list[str]:
    return response.headers.get_list("set-cookie")


async def test_healthz_sends_no_cookie_and_security_headers_once(anon):
    """/healthz skips session and CSRF: no Set-Cookie; the security headers appear exactly once."""
    response = await anon.get("/healthz")
    assert response.status_code == 200 and response.json() == {"status": "ok", "db": "ok"}
    assert not [c for c in _set_cookies(response) if c.startswith("csrftoken=")]
    assert len(response.headers.get_list("x-content-type-options")) == 1
    assert response.headers["x-request-id"]
    assert response.headers["content-language"] == "zh-CN"


async def test_csrf_cookie_comes_with_a_page_only(anon):
    """A cookieless GET of an HTML page gets the CSRF cookie (HttpOnly, SameSite=Lax); a redirect does not."""
    page = await anon.get("/login")
    cookie = next(c for c in _set_cookies(page) if c.startswith("csrftoken="))
    assert "HttpOnly" in cookie and "SameSite=Lax" in cookie and "Path=/" in cookie
    fresh = Client(anon._transport.app)  # type: ignore[attr-defined]
    redirect = await fresh.get("/")
    assert redirect.status_code in (302, 303)
    assert not [c for c in _set_cookies(redirect) if c.startswith("csrftoken=")]


async def test_csrf_still_refuses_a_post_without_the_token(anon):
    """The check on unsafe methods is Litestar's own: no token, a wrong token, or a token without its cookie → 403."""
    await anon.get("/login")
    assert (await anon.post("/login", data={"username": "x", "password": "y"})).status_code == 403
    bad = await anon.post("/login", data={"username": "x", "password": "y"}, headers={"x-csrftoken": "0" * 128})
    assert bad.status_code == 403
    token = anon.cookies.get("csrftoken")
    stranger = Client(anon._transport.app)  # type: ignore[attr-defined]
    assert (await stranger.post("/login", data={"username": "x", "password": "y"},
                                headers={"x-csrftoken": token})).status_code == 403


async def test_healthcheck_asks_the_database_at_most_once_per_second(monkeypatch):
    """Two checks within the second: one query; on the boundary (1.0 s later) it asks again."""
    calls = []
    real = db.fetch

    async def counting(sql, *args):
        calls.append(sql)
        return await real(sql, *args)

    clock = [1000.0]
    monkeypatch.setattr(db, "fetch", counting)
    monkeypatch.setattr(time, "monotonic", lambda: clock[0])
    monkeypatch.setattr(db, "_health", [float("-inf"), False])
    assert await db.healthcheck() is True
    clock[0] += 0.999
    assert await db.healthcheck() is True
    assert len(calls) == 1
    clock[0] += 0.001  # exactly max_age after the first check
    assert await db.healthcheck() is True
    assert len(calls) == 2


async def test_session_cache_serves_repeats_from_memory(login_as, monkeypatch):
    """Within the cache window the middleware does not ask the database again for the same session."""
    client = await login_as("desk")
    token = client.cookies.get("shouhou_session")
    accounts.forget_sessions()
    calls = []
    real = accounts.load_session

    async def counting(t):
        calls.append(t)
        return await real(t)

    monkeypatch.setattr(accounts, "load_session", counting)
    assert (await accounts.session_user(token)).username == client.username
    assert (await accounts.session_user(token)).username == client.username
    assert len(calls) == 1


@pytest.mark.parametrize("how", ["disable", "password", "logout", "roles"])
async def test_account_writes_drop_the_session_cache_at_once(app, login_as, how):
    """Disabling a user, resetting a password, signing out or changing roles takes effect on the very next
    request of this worker, whatever the cache holds."""
    from app.core.accounts.services import UserInput, reset_password, set_active, update_user
    from app.core.actor import Actor

    admin = await login_as("admin")
    victim = await login_as("desk", "warehouse")
    assert (await victim.get("/")).status_code == 200  # now cached
    uid = (await fetch("SELECT id FROM app_user WHERE username = {}", victim.username))[0]["id"]
    aid = (await fetch("SELECT id FROM app_user WHERE username = {}", admin.username))[0]["id"]
    actor = Actor(user_id=aid, username=admin.username, roles=frozenset({"admin"}))
    if how == "disable":
        await set_active(actor, uid, False)
    elif how == "password":
        await reset_password(actor, uid, "another-password-456")
    elif how == "logout":
        assert (await victim.post_form("/logout")).status_code in (302, 303)
    else:
        row = await accounts.get_user(uid)
        await update_user(actor, uid, UserInput(username=row["username"], full_name=row["full_name"] or "x",
                                                phone=row["phone"] or "", roles=["desk"]), version=row["version"])
    response = await victim.get("/")
    if how == "roles":
        assert response.status_code == 200
        assert "/parts" not in response.text or "warehouse" not in str(response.request.url)
        user = await accounts.session_user(victim.cookies.get("shouhou_session"))
        assert user.roles == frozenset({"desk"})
    else:
        assert response.status_code in (302, 303) and "/login" in response.headers["location"]


async def test_session_cache_off_asks_every_time(login_as, monkeypatch):
    """session_cache_seconds = 0 turns the cache off (each lookup reads the database)."""
    from app.core.config import get_settings

    client = await login_as("desk")
    token = client.cookies.get("shouhou_session")
    import dataclasses

    off = dataclasses.replace(get_settings(), session_cache_seconds=0)
    monkeypatch.setattr(accounts, "get_settings", lambda: off)
    await accounts.session_user(token)
    async with write_transaction():
        await fetch("DELETE FROM user_session WHERE token_hash = {}", accounts.token_hash(token))
    assert await accounts.session_user(token) is None


def test_fast_getattr_keeps_jinja_semantics():
    """Dict rows resolve keys first; dict method names stay methods; objects and missing keys as before."""
    env = Environment()
    env.getattr = _fast_getattr(env)  # type: ignore[method-assign]
    render = lambda src, **kw: env.from_string(src).render(**kw)  # noqa: E731
    assert render("{{ r.name }}", r={"name": "张三"}) == "张三"
    assert render("{% for k, v in r.items() %}{{ k }}={{ v }}{% endfor %}", r={"items": 1}) == "items=1"
    assert render("{{ r.missing is defined }}", r={}) == "False"

    class Obj:
        name = "obj"

    assert render("{{ o.name }}", o=Obj()) == "obj"


async def test_settings_are_read_once_per_request_and_fresh_in_the_next(login_as, monkeypatch):
    """Inside a request the first setting read loads app_setting once; a write in the request drops the
    snapshot; the next request sees a value written by anyone (no cross-request cache)."""
    from app.core import settings as st
    from app.core.actor import Actor

    queries = []
    real = st.fetch

    async def counting(sql, *args):
        queries.append(sql)
        return await real(sql, *args)

    monkeypatch.setattr(st, "fetch", counting)
    token = st.begin_request()
    try:
        first = await st.setting("rma.repair_days")
        await st.setting("rma.repair_days")
        await st.setting("rma.board_cards_per_column")
        assert len([q for q in queries if q.startswith("SELECT")]) == 1
        await st.set_setting(Actor(user_id=None, username="t"), "rma.repair_days", first + 1)
        assert await st.setting("rma.repair_days") == first + 1
    finally:
        st.end_request(token)
    async with write_transaction():
        await fetch("UPDATE app_setting SET value = {} WHERE key = {}", str(first), "rma.repair_days")
    token = st.begin_request()
    try:
        assert await st.setting("rma.repair_days") == first
    finally:
        st.end_request(token)

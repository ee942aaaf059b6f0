"""HTTP tests for sign-in, sign-out and user administration (issue #2)."""

from __future__ import annotations

from app.core.db import fetch
from seed.factories import make_user, unique
from tests.conftest import Client, login


async def test_login_page_is_chinese_by_default(anon):
    """X-04: the login page is in Simplified Chinese unless English is chosen."""
    response = await anon.get("/login")
    assert response.status_code == 200
    assert "登录" in response.text
    assert response.headers["content-language"] == "zh-CN"


async def test_login_rotates_session_id(app):
    """A session id sent by the client before login is never kept (no session fixation)."""
    username = unique("rot")
    await make_user("desk", username=username)
    client = Client(app)
    client.cookies.set("shouhou_session", "attacker-chosen-id", domain="testserver.local")
    response = await client.post_form("/login", {"username": username, "password": "password-123"})
    assert response.status_code == 303
    new_id = response.cookies.get("shouhou_session")
    assert new_id and new_id != "attacker-chosen-id"
    # and a second login issues yet another id, ending the first session
    response2 = await client.post_form("/login", {"username": username, "password": "password-123"})
    second = response2.cookies.get("shouhou_session")
    assert second and second != new_id
    stale = Client(app)
    stale.cookies.set("shouhou_session", new_id, domain="testserver.local")
    assert (await stale.get("/")).status_code == 303


async def test_wrong_password_and_unknown_user_get_the_same_message(app, anon):
    """Unknown user and wrong password are indistinguishable; nothing is signed in."""
    username = unique("pw")
    await make_user("desk", username=username)
    wrong = await anon.post_form("/login", {"username": username, "password": "nope-nope"})
    unknown = await Client(app).post_form("/login", {"username": unique("ghost"), "password": "nope-nope"})
    assert wrong.status_code == unknown.status_code == 400
    assert "用户名或密码错误" in wrong.text and "用户名或密码错误" in unknown.text
    assert "shouhou_session" not in wrong.cookies


async def test_post_without_csrf_token_is_refused(app):
    """A POST without the CSRF token gets 403 and changes nothing."""
    username = unique("csrf")
    await make_user("desk", username=username)
    client = Client(app)
    response = await client.post_form("/login", {"username": username, "password": "password-123"}, csrf=False)
    assert response.status_code == 403
    assert "shouhou_session" not in response.cookies


async def test_tampered_session_gets_login_page(app):
    """A tampered or unknown session cookie is treated as signed out."""
    client = Client(app)
    client.cookies.set("shouhou_session", "tampered-value", domain="testserver.local")
    response = await client.get("/")
    assert response.status_code == 303
    assert response.headers["location"].startswith("/login")


async def test_htmx_request_without_session_redirects_via_header(app):
    """An HTMX request after the session expired gets HX-Redirect to the login page."""
    response = await Client(app).get("/audit", headers={"HX-Request": "true"})
    assert response.status_code == 401
    assert response.headers["hx-redirect"].startswith("/login")


async def test_logout_ends_the_session(login_as):
    """After logout the old session cookie no longer works."""
    client = await login_as("desk")
    token = client.cookies.get("shouhou_session")
    response = await client.post_form("/logout")
    assert response.status_code == 303
    client.cookies.set("shouhou_session", token, domain="testserver.local")
    assert (await client.get("/")).status_code == 303


async def test_login_redirects_to_next_but_never_off_site(app):
    """`next` is honoured for local paths only (no open redirect)."""
    username = unique("nx")
    await make_user("manager", username=username)
    client = Client(app)
    response = await client.post_form("/login", {"username": username, "password": "password-123", "next": "//evil.example/x"})
    assert response.headers["location"] == "/"
    client2 = Client(app)
    response = await client2.post_form("/login", {"username": username, "password": "password-123", "next": "/audit"})
    assert response.headers["location"] == "/audit"


async def test_admin_creates_user(login_as, app):
    """An admin creates a user with roles; the user can sign in; the change is audited."""
    admin = await login_as("admin")
    username = unique("new")
    response = await admin.post_form("/admin/users/new", {"username": username, "full_name": "王小明", "phone": "13800000000",
                                                          "roles": ["warehouse", "bench"], "password": "s3cret-pass"})
    assert response.status_code == 303
    rows = await fetch("SELECT id, roles FROM app_user WHERE username = {}", username)
    assert rows[0]["roles"] == "bench warehouse"
    events = await fetch("SELECT username, action FROM audit_event WHERE entity_type = 'user' AND entity_id = {} ", str(rows[0]["id"]))
    assert ("user.created" in [e["action"] for e in events]) and events[0]["username"] == admin.username
    await login(app, username, "s3cret-pass")


async def test_admin_create_user_bad_input_writes_nothing(login_as):
    """Missing roles, short password, duplicate name → messages next to fields, nothing written."""
    admin = await login_as("admin")
    username = unique("bad")
    response = await admin.post_form("/admin/users/new", {"username": username, "password": "short"})
    assert response.status_code == 400
    assert "请至少选择一个角色" in response.text and "密码至少需要 8 个字符" in response.text
    assert not await fetch("SELECT id FROM app_user WHERE username = {}", username)
    taken = admin.username
    response = await admin.post_form("/admin/users/new", {"username": taken, "roles": "desk", "password": "long-enough"})
    assert response.status_code == 400 and "该用户名已被占用" in response.text


async def test_non_admin_cannot_manage_users(login_as):
    """Only admin reaches /admin/users; others get 403 and nothing is created."""
    for role in ("manager", "gm", "finance"):
        client = await login_as(role)
        assert (await client.get("/admin/users")).status_code == 403
        username = unique("x")
        response = await client.post_form("/admin/users/new", {"username": username, "roles": "desk", "password": "long-enough"})
        assert response.status_code == 403
        assert not await fetch("SELECT id FROM app_user WHERE username = {}", username)


async def test_disabling_a_user_ends_their_sessions(login_as):
    """A disabled user's open session stops working at once and they cannot sign in."""
    admin = await login_as("admin")
    victim = await login_as("bench")
    assert (await victim.get("/")).status_code == 200
    user_id = (await fetch("SELECT id FROM app_user WHERE username = {}", victim.username))[0]["id"]
    response = await admin.post_form(f"/admin/users/{user_id}/active", {"active": "0"})
    assert response.status_code == 303
    assert (await victim.get("/")).status_code == 303
    again = await Client(admin._transport.app).post_form("/login", {"username": victim.username, "password": "password-123"})
    assert again.status_code == 400


async def test_admin_edits_roles_and_resets_password(login_as, app):
    """Edit roles (versioned), reset password → old password refused, new one works."""
    admin = await login_as("admin")
    username = unique("ed")
    user_id = await make_user("desk", username=username)
    page = await admin.get(f"/admin/users/{user_id}")
    assert page.status_code == 200 and username in page.text
    response = await admin.post_form(f"/admin/users/{user_id}", {"full_name": "李四", "roles": ["desk", "field"], "version": "1"})
    assert response.status_code == 303
    stale = await admin.post_form(f"/admin/users/{user_id}", {"full_name": "张三", "roles": ["desk"], "version": "1"})
    assert stale.status_code == 409
    assert (await fetch("SELECT full_name, roles FROM app_user WHERE id = {}", user_id))[0] == {"full_name": "李四", "roles": "desk field"}
    short = await admin.post_form(f"/admin/users/{user_id}/password", {"new_password": "x"})
    assert short.status_code == 400
    assert (await admin.post_form(f"/admin/users/{user_id}/password", {"new_password": "brand-new-pass"})).status_code == 303
    await login(app, username, "brand-new-pass")


async def test_user_list_search_and_keyset(login_as):
    """The user list filters by text and role and pages by username."""
    admin = await login_as("admin")
    response = await admin.get("/admin/users", params={"q": admin.username})
    assert response.status_code == 200 and admin.username in response.text
    fragment = await admin.get("/admin/users", params={"role": "admin"}, headers={"HX-Request": "true"})
    assert fragment.status_code == 200 and "<html" not in fragment.text


async def test_login_next_with_control_characters_is_not_followed_off_site(app):
    """Browsers drop tabs and newlines from URLs: "/<TAB>/evil.example" would become "//evil.example"."""
    username = unique("nx")
    await make_user("manager", username=username)
    for bad in ("/\t/evil.example/x", "/\n/evil.example/x", "/\r/evil.example/x", "\t//evil.example/x"):
        client = Client(app)
        response = await client.post_form("/login", {"username": username, "password": "password-123", "next": bad})
        assert response.headers["location"] == "/", repr(bad)

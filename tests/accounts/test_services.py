"""Accounts rules: hashing, throttling kept in the database, session expiry, optimistic locking."""

from __future__ import annotations

import asyncio
import datetime as dt

import pytest

from app.core.accounts import services
from app.core.audit.services import Actor
from app.core.config import get_settings
from app.core.errors import DomainError
from app.core.db import fetch, utcnow, write_transaction
from seed.factories import make_user, unique


async def test_passwords_are_hashed_with_argon2():
    """Passwords are stored as argon2id hashes, never in clear."""
    username = unique("h")
    await make_user("desk", username=username, password="correct horse")
    stored = (await fetch("SELECT password_hash FROM app_user WHERE username = {}", username))[0]["password_hash"]
    assert stored.startswith("$argon2id$") and "correct horse" not in stored


async def test_throttle_per_account_and_address_pair():
    """5 failures for one account from one address slow that pair down (429), even with the right password."""
    username = unique("th")
    await make_user("desk", username=username, password="right-password")
    for _ in range(get_settings().login_max_per_user):
        with pytest.raises(DomainError):
            await services.authenticate(username, "wrong", "192.0.2.7")
    with pytest.raises(DomainError) as excinfo:
        await services.authenticate(username, "right-password", "192.0.2.7")
    assert excinfo.value.status == 429


async def test_strangers_cannot_lock_the_owner_out():
    """Issue #11: 5 wrong passwords from 5 addresses no longer lock the account: its owner signs in from elsewhere."""
    username = unique("own")
    await make_user("finance", username=username, password="right-password")
    for i in range(get_settings().login_max_per_user):
        with pytest.raises(DomainError) as excinfo:
            await services.authenticate(username, "wrong", f"192.0.2.{50 + i}")
        assert excinfo.value.status == 400
    user = await services.authenticate(username, "right-password", "198.51.100.9")
    assert user.username == username


async def test_throttle_per_address_spares_known_devices():
    """20 failures from one address throttle it for strangers; a browser the user signed in from before still gets in."""
    ip = f"203.0.113.{len(unique('i')) % 200}"
    username = unique("ok")
    await make_user("desk", username=username, password="right-password")
    await services.authenticate(username, "right-password", "198.51.100.3")  # signed in once from elsewhere
    device = services.add_known_device(None, username)
    for _ in range(get_settings().login_max_per_ip):
        with pytest.raises(DomainError):
            await services.authenticate(unique("nobody"), "wrong", ip)
    with pytest.raises(DomainError) as excinfo:
        await services.authenticate(username, "right-password", ip)
    assert excinfo.value.status == 429
    user = await services.authenticate(username, "right-password", ip, device_cookie=device)
    assert user.username == username
    forged = device.rsplit(":", 1)[0] + ":" + "0" * 32
    assert services.known_devices(forged) == set()


async def test_simultaneous_guesses_are_capped_by_the_throttle():
    """Issue #11: 30 wrong passwords at once for one account from one address → at most the limit are checked."""
    username = unique("race")
    await make_user("desk", username=username, password="right-password")
    results = await asyncio.gather(*(services.authenticate(username, f"wrong{i}", "192.0.2.99") for i in range(30)),
                                   return_exceptions=True)
    statuses = [r.status for r in results if isinstance(r, DomainError)]
    assert len(statuses) == 30
    assert statuses.count(400) <= get_settings().login_max_per_user
    assert statuses.count(429) >= 30 - get_settings().login_max_per_user


async def test_right_password_gives_the_shared_counters_back():
    """A busy office behind one address does not throttle itself: successful sign-ins do not count."""
    username = unique("nat")
    await make_user("desk", username=username, password="right-password")
    for _ in range(get_settings().login_max_per_ip + 3):
        await services.authenticate(username, "right-password", "192.0.2.150")


async def test_failed_logins_are_audited():
    """A failed sign-in leaves an audit event (auth.login_failed) without the password."""
    username = unique("af")
    with pytest.raises(DomainError):
        await services.authenticate(username, "secret-guess", "192.0.2.200")
    rows = await fetch("SELECT action, after FROM audit_event WHERE username = {}", username)
    assert [r["action"] for r in rows] == ["auth.login_failed"]
    assert "secret-guess" not in str(rows)


async def _session_for(username: str) -> str:
    user = await services.authenticate(username, "password-123", "192.0.2.250")
    return await services.start_session(user, ip="192.0.2.250", user_agent="pytest", old_token=None)


async def test_session_idle_timeout():
    """A session unused for longer than the idle timeout is ended."""
    username = unique("idle")
    await make_user("desk", username=username)
    token = await _session_for(username)
    assert await services.load_session(token) is not None
    old = utcnow() - dt.timedelta(minutes=get_settings().session_idle_minutes + 1)
    async with write_transaction():
        await fetch("UPDATE user_session SET last_seen_at = {} WHERE token_hash = {}", old, services.token_hash(token))
    assert await services.load_session(token) is None
    assert not await fetch("SELECT 1 FROM user_session WHERE token_hash = {}", services.token_hash(token))


async def test_session_absolute_timeout():
    """A session older than the absolute timeout is ended even if used a moment ago."""
    username = unique("abs")
    await make_user("desk", username=username)
    token = await _session_for(username)
    old = utcnow() - dt.timedelta(hours=get_settings().session_absolute_hours, minutes=1)
    async with write_transaction():
        await fetch("UPDATE user_session SET created_at = {} WHERE token_hash = {}", old, services.token_hash(token))
    assert await services.load_session(token) is None


async def test_start_session_discards_the_old_token():
    """Rotation: starting a session deletes the one the client presented."""
    username = unique("rot")
    await make_user("desk", username=username)
    first = await _session_for(username)
    user = await services.load_session(first)
    second = await services.start_session(user, ip="x", user_agent="", old_token=first)
    assert second != first
    assert await services.load_session(first) is None
    assert (await services.load_session(second)).username == username


async def test_concurrent_edits_of_one_user_one_wins():
    """Two admins saving the same user version at once: exactly one wins, the other gets 409."""
    user_id = await make_user("desk", username=unique("race"))
    admin_a = Actor(None, "admin-a", frozenset({"admin"}))

    async def save(name: str):
        data = services.UserInput(full_name=name, roles=("desk",))
        await services.update_user(admin_a, user_id, data, version=1)

    results = await asyncio.gather(save("甲"), save("乙"), return_exceptions=True)
    errors = [r for r in results if isinstance(r, DomainError)]
    assert len(errors) == 1 and errors[0].status == 409
    row = (await fetch("SELECT version, full_name FROM app_user WHERE id = {}", user_id))[0]
    assert row["version"] == 2 and row["full_name"] in ("甲", "乙")
    events = await fetch("SELECT 1 FROM audit_event WHERE action = 'user.updated' AND entity_id = {}", str(user_id))
    assert len(events) == 1


async def test_cannot_disable_self_or_drop_own_admin():
    """An admin cannot lock themselves out."""
    admin_id = await make_user("admin", username=unique("self"))
    me = Actor(admin_id, "me", frozenset({"admin"}))
    with pytest.raises(DomainError):
        await services.set_active(me, admin_id, False)
    with pytest.raises(DomainError):
        await services.update_user(me, admin_id, services.UserInput(roles=("desk",)))

"""Accounts: password hashing, login with throttling, server-side sessions, user admin.

Rules: sessions are rotated on login (a new random id; the one the client sent is
discarded — no session fixation), ended on logout and when the user is disabled,
and expire after an idle and an absolute timeout. Failed logins are counted per
account and per IP in the database (so the limit holds across worker processes),
and unknown user and wrong password get the same answer.
"""

from __future__ import annotations

import datetime as dt
import time
import hashlib
import secrets
from dataclasses import dataclass

import anyio.to_thread
from argon2 import PasswordHasher
from argon2.exceptions import InvalidHashError, VerificationError, VerifyMismatchError

from app.core.roles import ROLES, join_roles, parse_roles
from app.core.audit.services import Actor, record
from app.core.config import get_settings
from app.core.accounts.tables import AppUser, LoginAttempt, LoginThrottle, UserSession
from app.core.db import fetch, utcnow, write_transaction
from app.core.errors import DomainError
from app.core.rows import insert, update
from app.core.status import update_versioned
from app.core.i18n import _

_hasher = PasswordHasher()  # argon2id, library defaults (RFC 9106 low-memory profile)
_DUMMY_HASH = _hasher.hash("not-a-real-password")

MIN_PASSWORD = 8


@dataclass(frozen=True)
class CurrentUser:
    id: int
    username: str
    full_name: str
    roles: frozenset[str]
    lang: str
    session_id: int | None = None

    def has(self, *roles: str) -> bool:
        return bool(self.roles.intersection(roles))

    @property
    def display_name(self) -> str:
        return self.full_name or self.username


def _user_from_row(row: dict, session_id: int | None = None) -> CurrentUser:
    return CurrentUser(
        id=row["id"],
        username=row["username"],
        full_name=row["full_name"],
        roles=parse_roles(row["roles"]),
        lang=row["lang"] or "",
        session_id=session_id,
    )


async def hash_password(password: str) -> str:
    """argon2id, off the event loop."""
    return await anyio.to_thread.run_sync(_hasher.hash, password)


async def verify_password(password_hash: str, password: str) -> bool:
    def check() -> bool:
        try:
            return _hasher.verify(password_hash or _DUMMY_HASH, password) and bool(password_hash)
        except (VerifyMismatchError, VerificationError, InvalidHashError):
            return False

    return await anyio.to_thread.run_sync(check)


def token_hash(token: str) -> str:
    return hashlib.sha256(token.encode()).hexdigest()


# --------------------------------------------------------------------------- login


# Throttling (issue #11). What trusted systems do (Django-axes "username+ip", OWASP's guidance): slow down a
# guesser per account+address pair and per address, never hard-lock an account that any stranger can name.
# * pair "<user>|<ip>": login_max_per_user failures in the window;
# * address "<ip>": login_max_per_ip failures — skipped for a browser that carries this user's known-device
#   cookie (an office behind one NAT address keeps working);
# * account "<user>" (any address): login_max_per_account — skipped for a known device or an address this
#   user signed in from successfully within 30 days, so a distributed guesser is slowed and the owner gets in.
# Each counter is reserved BEFORE the password is checked, by one conditional UPDATE, so concurrent attempts
# cannot all slip past (the old count-then-insert let 30 simultaneous tries through).


async def _reserve(key: str, limit: int, ip: str, now: dt.datetime, window: dt.timedelta) -> bool:
    """Count one attempt against `key`; False when the key already holds `limit` failures in its window."""
    # raw-sql: ON CONFLICT DO NOTHING creates the counter once under concurrent attempts
    await fetch("INSERT INTO login_throttle (key, window_start, failures, last_ip, updated_at) VALUES ({}, {}, 0, {}, {}) "
                "ON CONFLICT (key) DO NOTHING", key, now, ip, now)
    await update(LoginThrottle, (LoginThrottle.key == key) & (LoginThrottle.window_start < now - window),
                 window_start=now, failures=0)
    # raw-sql: the conditional failures = failures + 1 RETURNING is the reservation itself
    rows = await fetch("UPDATE login_throttle SET failures = failures + 1, last_ip = {}, updated_at = {} "
                       "WHERE key = {} AND failures < {} RETURNING failures", ip, now, key, limit)
    return bool(rows)


async def _release(keys: list[str], pair: str) -> None:
    """A correct password: the pair's count is cleared (the owner's own typos are forgiven) and the shared
    address/account counters get their reservation back (a busy office does not throttle itself)."""
    await update(LoginThrottle, LoginThrottle.key == pair, failures=0, updated_at=utcnow())
    for key in keys:
        # raw-sql: decrement floored at zero in one statement
        await fetch("UPDATE login_throttle SET failures = CASE WHEN failures > 0 THEN failures - 1 ELSE 0 END "
                    "WHERE key = {}", key)


async def _known_address(username: str, ip: str) -> bool:
    rows = await fetch("SELECT 1 FROM login_attempt WHERE username = {} AND ip = {} AND success = true "
                       "AND created_at >= {} LIMIT 1", username, ip, utcnow() - dt.timedelta(days=30))
    return bool(rows)


def device_token(username: str) -> str:
    """The known-device cookie's value for `username`: HMAC with the app secret (no state on the server)."""
    import hmac

    mac = hmac.new(get_settings().secret_key.encode(), f"device:{username}".encode(), hashlib.sha256).hexdigest()[:32]
    return f"{username}:{mac}"


def known_devices(cookie: str | None) -> set[str]:
    """Usernames whose known-device token this browser carries (forged entries are ignored)."""
    import hmac

    out = set()
    for item in (cookie or "").split(",")[:5]:
        name = item.rsplit(":", 1)[0]
        if name and hmac.compare_digest(item, device_token(name)):
            out.add(name)
    return out


def add_known_device(cookie: str | None, username: str) -> str:
    items = [i for i in (cookie or "").split(",") if i and not i.startswith(username + ":")][:4]
    return ",".join([device_token(username), *items])


async def authenticate(username: str, password: str, ip: str, request_id: str = "", *,
                       device_cookie: str | None = None) -> CurrentUser:
    """Check credentials; raises DomainError (same message for unknown user and bad password; 429 when throttled).

    Side effects: throttle counters reserved before the check; one login_attempt row; audit `auth.login` /
    `auth.login_failed` / `auth.login_throttled`.
    """
    settings = get_settings()
    username = (username or "").strip().lower()[:150]
    now = utcnow()
    window = dt.timedelta(minutes=settings.login_window_minutes)
    trusted = username in known_devices(device_cookie)
    pair = f"pair:{username}|{ip}"
    reserved: list[str] = []
    allowed = await _reserve(pair, settings.login_max_per_user, ip, now, window)
    if allowed and not trusted:
        allowed = await _reserve(f"ip:{ip}", settings.login_max_per_ip, ip, now, window)
        reserved.append(f"ip:{ip}")
    if allowed and not trusted and not await _known_address(username, ip):
        allowed = await _reserve(f"user:{username}", settings.login_max_per_account, ip, now, window)
        reserved.append(f"user:{username}")
    if not allowed:
        async with write_transaction():
            await record(Actor(user_id=None, username=username, ip=ip, request_id=request_id), "auth.login_throttled", "user", "")
        raise DomainError(_("Too many failed sign-in attempts. Wait a few minutes and try again."), status=429)

    rows = await fetch("SELECT * FROM app_user WHERE username = {}", username)
    row = rows[0] if rows else None
    ok = await verify_password(row["password_hash"] if row else "", password or "")
    ok = ok and row is not None and bool(row["is_active"])
    async with write_transaction():
        await insert(LoginAttempt, username=username, ip=ip, success=ok, created_at=utcnow())
        actor = Actor(user_id=row["id"] if row else None, username=username, ip=ip, request_id=request_id)
        await record(actor, "auth.login" if ok else "auth.login_failed", "user", row["id"] if row else "")
    if not ok:
        raise DomainError(_("Wrong username or password."))
    await _release(reserved, pair)
    assert row is not None
    return _user_from_row(row)


async def list_throttles(limit: int = 200) -> list[dict]:
    """Counters with failures in their current window, busiest first (admin page)."""
    since = utcnow() - dt.timedelta(minutes=get_settings().login_window_minutes)
    return await fetch("SELECT id, key, failures, last_ip, window_start, updated_at FROM login_throttle "
                       "WHERE failures > 0 AND window_start >= {} ORDER BY failures DESC, updated_at DESC LIMIT {}",
                       since, limit)


async def clear_throttle(actor: Actor, throttle_id: int) -> None:
    """An admin lets an account/address sign in again at once. Audit `auth.throttle_cleared`."""
    async with write_transaction():
        rows = await update(LoginThrottle, LoginThrottle.id == throttle_id, returning=LoginThrottle.key,
                            failures=0, updated_at=utcnow())
        if not rows:
            raise DomainError(_("No such user."), status=404)
        await record(actor, "auth.throttle_cleared", "login_throttle", throttle_id, after={"key": rows[0]["key"]})


async def start_session(user: CurrentUser, *, ip: str, user_agent: str, old_token: str | None) -> str:
    """New random session id for `user`; the old one (if any) is deleted — rotation on login."""
    forget_sessions()
    token = secrets.token_urlsafe(32)
    async with write_transaction():
        if old_token:
            await fetch("DELETE FROM user_session WHERE token_hash = {}", token_hash(old_token))
        now = utcnow()
        await insert(UserSession, token_hash=token_hash(token), user_id=user.id, created_at=now, last_seen_at=now,
                     ip=ip, user_agent=(user_agent or "")[:300])
    forget_sessions()  # again after the commit: a request racing the write can't keep the old answer cached
    return token


_SESSIONS: dict[str, tuple[float, CurrentUser]] = {}


def forget_sessions() -> None:
    """Drop this worker's session cache: called by every write to app_user or user_session (issue #15)."""
    _SESSIONS.clear()


async def session_user(token: str | None) -> CurrentUser | None:
    """`load_session` behind a short per-worker cache (get_settings().session_cache_seconds): the middleware's
    lookup on every request. Only signed-in answers are kept; the cache is bounded (cleared when full)."""
    ttl = get_settings().session_cache_seconds
    if not token or ttl <= 0:
        return await load_session(token)
    now = time.monotonic()
    hit = _SESSIONS.get(token)
    if hit is not None and now - hit[0] < ttl:
        return hit[1]
    user = await load_session(token)
    if user is None:
        _SESSIONS.pop(token, None)
    else:
        if len(_SESSIONS) >= 10_000:
            _SESSIONS.clear()
        _SESSIONS[token] = (now, user)
    return user


async def load_session(token: str | None) -> CurrentUser | None:
    """The signed-in user for a session cookie, or None (unknown, expired, or user disabled)."""
    if not token:
        return None
    rows = await fetch(
        "SELECT s.id AS session_id, s.created_at AS s_created, s.last_seen_at AS s_seen, u.* "
        "FROM user_session s JOIN app_user u ON u.id = s.user_id WHERE s.token_hash = {}",
        token_hash(token),
    )
    if not rows:
        return None
    row = rows[0]
    settings = get_settings()
    now = utcnow()
    created, seen = _aware(row["s_created"]), _aware(row["s_seen"])
    expired = (
        now - seen > dt.timedelta(minutes=settings.session_idle_minutes)
        or now - created > dt.timedelta(hours=settings.session_absolute_hours)
        or not row["is_active"]
    )
    if expired:
        async with write_transaction():
            await fetch("DELETE FROM user_session WHERE id = {}", row["session_id"])
        forget_sessions()
        return None
    if now - seen > dt.timedelta(seconds=60):  # throttle the "last seen" write to once a minute
        async with write_transaction():
            await update(UserSession, UserSession.id == row["session_id"], last_seen_at=now)
    return _user_from_row(row, session_id=row["session_id"])


def _aware(value) -> dt.datetime:
    if isinstance(value, str):
        value = dt.datetime.fromisoformat(value)
    return value if value.tzinfo else value.replace(tzinfo=dt.timezone.utc)


async def end_session(actor: Actor, token: str | None) -> None:
    forget_sessions()
    if not token:
        return
    async with write_transaction():
        await fetch("DELETE FROM user_session WHERE token_hash = {}", token_hash(token))
        await record(actor, "auth.logout", "user", actor.user_id)
    forget_sessions()


async def set_language(actor: Actor, lang: str) -> None:
    """Remember the UI language per user."""
    forget_sessions()
    if actor.user_id is None:
        return
    async with write_transaction():
        await update(AppUser, AppUser.id == actor.user_id, lang=lang)
        await record(actor, "user.language_set", "user", actor.user_id, after={"lang": lang})
    forget_sessions()


# --------------------------------------------------------------------------- user admin


@dataclass
class UserInput:
    username: str = ""
    full_name: str = ""
    phone: str = ""
    roles: tuple[str, ...] = ()
    password: str = ""

    def validate(self, *, creating: bool) -> dict[str, str]:
        errors: dict[str, str] = {}
        self.username = self.username.strip().lower()
        self.full_name = self.full_name.strip()
        self.phone = self.phone.strip()
        if creating:
            if not self.username:
                errors["username"] = _("Enter a username.")
            elif not all(ch.isalnum() or ch in "._-" for ch in self.username) or len(self.username) > 60:
                errors["username"] = _("Use letters, digits, dot, dash or underscore (at most 60).")
            if len(self.password) < MIN_PASSWORD:
                errors["password"] = _("The password needs at least %(n)s characters.", n=MIN_PASSWORD)
        if len(self.full_name) > 100:
            errors["full_name"] = _("At most 100 characters.")
        unknown = [role for role in self.roles if role not in ROLES]
        if unknown or not self.roles:
            errors["roles"] = _("Choose at least one role.")
        return errors


async def list_users(*, q: str = "", role: str = "", after: str | None = None, limit: int = 50) -> tuple[list[dict], str | None]:
    where, args = [], []
    if q:
        where.append("(username LIKE {} OR full_name LIKE {})")
        args += [f"%{q.lower()}%", f"%{q}%"]
    if role:
        where.append("(' ' || roles || ' ') LIKE {}")
        args.append(f"% {role} %")
    if after:
        where.append("username > {}")
        args.append(after)
    sql = "SELECT id, username, full_name, phone, roles, is_active, lang, created_at FROM app_user"
    if where:
        sql += " WHERE " + " AND ".join(where)
    sql += f" ORDER BY username LIMIT {limit + 1}"
    rows = await fetch(sql, *args)
    for row in rows:
        row["role_set"] = parse_roles(row["roles"])
    cursor = rows[limit - 1]["username"] if len(rows) > limit else None
    return rows[:limit], cursor


async def get_user(user_id: int) -> dict | None:
    rows = await fetch("SELECT * FROM app_user WHERE id = {}", user_id)
    if not rows:
        return None
    row = rows[0]
    row["role_set"] = parse_roles(row["roles"])
    return row


def _public(row: dict) -> dict:
    return {k: row[k] for k in ("username", "full_name", "phone", "roles", "is_active")}


async def create_user(actor: Actor, data: UserInput, *, lang: str = "") -> int:
    """Create a user. Side effects: app_user row; audit `user.created`."""
    errors = data.validate(creating=True)
    if errors:
        raise DomainError(_("Please correct the marked fields."), errors=errors)
    password_hash = await hash_password(data.password)
    async with write_transaction():
        if await fetch("SELECT id FROM app_user WHERE username = {}", data.username):
            raise DomainError(_("Please correct the marked fields."), errors={"username": _("This username is taken.")})
        now = utcnow()
        user_id = await insert(AppUser, returning=AppUser.id, username=data.username, full_name=data.full_name,
                               phone=data.phone, password_hash=password_hash, roles=join_roles(data.roles),
                               is_active=True, lang=lang, version=1, created_at=now, updated_at=now)
        after = {"username": data.username, "full_name": data.full_name, "phone": data.phone,
                 "roles": join_roles(data.roles), "is_active": True}
        await record(actor, "user.created", "user", user_id, after=after)
    return user_id


async def _locked_user(user_id: int, version: int | None) -> dict:
    rows = await fetch("SELECT * FROM app_user WHERE id = {}", user_id)
    if not rows:
        raise DomainError(_("No such user."), status=404)
    if version is not None and rows[0]["version"] != version:
        raise DomainError(_("Someone else changed this user meanwhile; reload and try again."), status=409)
    return rows[0]


async def update_user(actor: Actor, user_id: int, data: UserInput, *, version: int | None = None) -> None:
    """Change name, phone and roles. Side effects: audit `user.updated` with before/after."""
    forget_sessions()
    errors = data.validate(creating=False)
    if errors:
        raise DomainError(_("Please correct the marked fields."), errors=errors)
    async with write_transaction():
        row = await _locked_user(user_id, version)
        if row["id"] == actor.user_id and "admin" in parse_roles(row["roles"]) and "admin" not in data.roles:
            raise DomainError(_("You cannot remove your own administrator role."), errors={"roles": _("You cannot remove your own administrator role.")})
        await update_versioned("app_user", user_id, row["version"],
                               {"full_name": data.full_name, "phone": data.phone, "roles": join_roles(data.roles)},
                               returning="id")
        after = dict(_public(row), full_name=data.full_name, phone=data.phone, roles=join_roles(data.roles))
        await record(actor, "user.updated", "user", user_id, before=_public(row), after=after)
    forget_sessions()


async def set_active(actor: Actor, user_id: int, active: bool) -> None:
    """Enable or disable a user; disabling ends all of that user's sessions at once."""
    forget_sessions()
    async with write_transaction():
        row = await _locked_user(user_id, None)
        if row["id"] == actor.user_id and not active:
            raise DomainError(_("You cannot disable your own account."), status=400)
        await update_versioned("app_user", user_id, None, {"is_active": active}, returning="id")
        if not active:
            await fetch("DELETE FROM user_session WHERE user_id = {}", user_id)
        await record(actor, "user.enabled" if active else "user.disabled", "user", user_id,
                     before={"is_active": bool(row["is_active"])}, after={"is_active": active})
    forget_sessions()


async def reset_password(actor: Actor, user_id: int, password: str) -> None:
    """Set a new password and end the user's sessions (they sign in again)."""
    forget_sessions()
    if len(password or "") < MIN_PASSWORD:
        raise DomainError(_("Please correct the marked fields."),
                           errors={"password": _("The password needs at least %(n)s characters.", n=MIN_PASSWORD)})
    password_hash = await hash_password(password)
    async with write_transaction():
        await _locked_user(user_id, None)
        await update_versioned("app_user", user_id, None, {"password_hash": password_hash}, returning="id")
        await fetch("DELETE FROM user_session WHERE user_id = {}", user_id)
        await record(actor, "user.password_reset", "user", user_id)
    forget_sessions()


async def demo_users_present() -> bool:
    rows = await fetch("SELECT value FROM app_setting WHERE key = {}", "demo.users")
    return bool(rows)

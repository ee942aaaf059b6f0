"""Typed settings read from the environment (one docstring per field).

Every value has a development default that works on a fresh clone with SQLite;
production sets them through the environment.
"""

from __future__ import annotations

import os
from dataclasses import dataclass, field
from functools import lru_cache
from pathlib import Path

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def _env_list(name: str, default: str) -> list[str]:
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


def _env_bool(name: str, default: bool) -> bool:
    value = os.environ.get(name)
    if value is None:
        return default
    return value.strip().lower() in {"1", "true", "yes", "on"}


@dataclass(frozen=True)
class Settings:
    database_url: str = field(
        default_factory=lambda: os.environ.get("DATABASE_URL", f"sqlite:///{BASE_DIR / 'var' / 'shouhou.db'}")
    )
    """`sqlite:///path/to/file.db` (default `var/shouhou.db`) or `postgresql://user@host:port/db`."""

    secret_key: str = field(default_factory=lambda: os.environ.get("SHOUHOU_SECRET_KEY", "dev-only-secret-change-me"))
    """Secret for the CSRF token; set a long random value in production."""

    allowed_hosts: list[str] = field(
        default_factory=lambda: _env_list("SHOUHOU_ALLOWED_HOSTS", "127.0.0.1,localhost,[::1],testserver.local")
    )
    """Host names the app answers to (anything else gets 400)."""

    secure_cookies: bool = field(default_factory=lambda: _env_bool("SHOUHOU_SECURE_COOKIES", False))
    """Mark cookies `Secure` (turn on behind HTTPS)."""

    session_idle_minutes: int = field(default_factory=lambda: int(os.environ.get("SHOUHOU_SESSION_IDLE_MINUTES", "240")))
    """A session unused this long is ended (staff keep the app open all day, so 4 h)."""

    session_absolute_hours: int = field(default_factory=lambda: int(os.environ.get("SHOUHOU_SESSION_ABSOLUTE_HOURS", "12")))
    """A session older than this is ended whatever its use (one working day)."""
    session_cache_seconds: float = field(default_factory=lambda: float(os.environ.get("SHOUHOU_SESSION_CACHE_SECONDS", "2")))
    """How long a worker reuses a session → user lookup (issue #15). The worker that ends a session, disables a user,
    resets a password or edits a user drops its cache at once; another worker may keep serving the old answer for
    at most this long. 0 turns the cache off."""

    login_window_minutes: int = field(default_factory=lambda: int(os.environ.get("SHOUHOU_LOGIN_WINDOW_MINUTES", "15")))
    """Window in which failed logins are counted for throttling."""

    login_max_per_user: int = field(default_factory=lambda: int(os.environ.get("SHOUHOU_LOGIN_MAX_PER_USER", "5")))
    """Failed logins for one account within the window before it is throttled."""

    login_max_per_ip: int = field(default_factory=lambda: int(os.environ.get("SHOUHOU_LOGIN_MAX_PER_IP", "20")))
    """Failed logins from one IP address within the window before it is throttled."""

    login_max_per_account: int = field(default_factory=lambda: int(os.environ.get("SHOUHOU_LOGIN_MAX_PER_ACCOUNT", "30")))
    """Failed logins for one account from unknown addresses and devices within the window (slows distributed guessing)."""

    trusted_proxies: str = field(default_factory=lambda: os.environ.get("SHOUHOU_TRUSTED_PROXIES", ""))
    """Addresses of reverse proxies whose X-Forwarded-For is believed (empty: none, the peer address counts)."""

    default_locale: str = field(default_factory=lambda: os.environ.get("SHOUHOU_DEFAULT_LOCALE", "zh"))
    """UI language when the user has not chosen one: `zh` (Simplified Chinese) or `en`."""

    timezone: str = field(default_factory=lambda: os.environ.get("SHOUHOU_TIMEZONE", "Asia/Shanghai"))
    """Times are stored in UTC and shown in this zone."""

    db_pool_min: int = field(default_factory=lambda: int(os.environ.get("SHOUHOU_DB_POOL_MIN", "2")))
    """PostgreSQL: connections kept open per worker process."""

    db_pool_max: int = field(default_factory=lambda: int(os.environ.get("SHOUHOU_DB_POOL_MAX", "10")))
    """PostgreSQL: most connections per worker process."""

    sqlite_busy_timeout: float = field(default_factory=lambda: float(os.environ.get("SHOUHOU_SQLITE_BUSY_TIMEOUT", "30")))
    """SQLite: seconds a writer waits for the write lock before giving up."""

    sqlite_shared_reader: bool = field(default_factory=lambda: _env_bool("SHOUHOU_SQLITE_SHARED_READER", True))
    """SQLite: serve reads outside transactions from one long-lived connection (off = Piccolo's new connection per query)."""

    debug: bool = field(default_factory=lambda: _env_bool("SHOUHOU_DEBUG", False))
    """Development only: never show tracebacks to browsers in production."""

    @property
    def is_sqlite(self) -> bool:
        return self.database_url.startswith("sqlite")

    @property
    def sqlite_path(self) -> str:
        return self.database_url.split("sqlite:///", 1)[1]


@lru_cache(maxsize=1)
def get_settings() -> Settings:
    return Settings()

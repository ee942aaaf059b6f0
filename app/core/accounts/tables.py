"""Users, server-side sessions and login attempts."""

from piccolo.columns import Boolean, ForeignKey, Integer, Serial, Text, Timestamptz, Varchar
from piccolo.columns.defaults.timestamptz import TimestamptzNow
from piccolo.table import Table


class AppUser(Table, tablename="app_user"):
    id = Serial(primary_key=True)
    username = Varchar(length=60, unique=True)
    full_name = Varchar(length=100, default="")
    phone = Varchar(length=40, default="")
    password_hash = Text(default="")
    # Space-separated role codes (app.core.roles.ROLES); one person may hold several.
    roles = Varchar(length=200, default="")
    is_active = Boolean(default=True)
    lang = Varchar(length=8, default="")
    version = Integer(default=1)
    created_at = Timestamptz(default=TimestamptzNow())
    updated_at = Timestamptz(default=TimestamptzNow())


class UserSession(Table, tablename="user_session"):
    """Server-side session: the cookie holds a random token, the table its SHA-256."""

    id = Serial(primary_key=True)
    token_hash = Varchar(length=64, unique=True)
    user_id = ForeignKey(references=AppUser, null=False)
    created_at = Timestamptz(default=TimestamptzNow())
    last_seen_at = Timestamptz(default=TimestamptzNow())
    ip = Varchar(length=64, default="")
    user_agent = Varchar(length=300, default="")


class LoginAttempt(Table, tablename="login_attempt"):
    """Kept in the database so throttling holds across worker processes."""

    id = Serial(primary_key=True)
    username = Varchar(length=60, default="")
    ip = Varchar(length=64, default="")
    success = Boolean(default=False)
    created_at = Timestamptz(default=TimestamptzNow())


class LoginThrottle(Table, tablename="login_throttle"):
    """A sign-in counter per key (pair of account and address, address, account) in a fixed window."""

    id = Serial(primary_key=True)
    key = Varchar(length=300, unique=True)
    window_start = Timestamptz()
    failures = Integer(default=0)
    last_ip = Varchar(length=64, default="")
    updated_at = Timestamptz(default=TimestamptzNow())

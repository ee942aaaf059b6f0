"""The shell's ASGI middleware: host check, request id, security headers, session → user, the UI locale."""

from __future__ import annotations

import itertools
import uuid
from http.cookies import SimpleCookie

from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.core.accounts import services as accounts
from app.core.config import get_settings
from app.core import settings as settings_snapshot
from app.core.i18n import normalize, reset_locale, set_locale

SESSION_COOKIE = "shouhou_session"
LANG_COOKIE = "shouhou_lang"

SECURITY_HEADERS = {
    "x-content-type-options": "nosniff",
    "x-frame-options": "DENY",
    "referrer-policy": "same-origin",
    "cross-origin-opener-policy": "same-origin",
    "permissions-policy": "camera=(self), geolocation=(), microphone=()",
    # No inline scripts anywhere; htmx adds an inline <style> for indicators.
    "content-security-policy": (
        "default-src 'self'; script-src 'self'; style-src 'self' 'unsafe-inline'; img-src 'self' data:; "
        "font-src 'self' data:; connect-src 'self'; frame-ancestors 'none'; form-action 'self'; base-uri 'self'"
    ),
}


def read_cookies(scope: Scope) -> dict[str, str]:
    for name, value in scope.get("headers", []):
        if name == b"cookie":
            jar = SimpleCookie()
            try:
                jar.load(value.decode("latin-1"))
            except Exception:  # noqa: BLE001 - a malformed cookie header is ignored
                return {}
            return {key: morsel.value for key, morsel in jar.items()}
    return {}


def client_ip(scope: Scope) -> str:
    client = scope.get("client")
    return client[0] if client else ""


def host_allowed(host: str, allowed: list[str]) -> bool:
    """Host header (port ignored) against SHOUHOU_ALLOWED_HOSTS (`*` and `*.example.com` allowed)."""
    name = host.rsplit(":", 1)[0] if not host.endswith("]") else host
    name = name.lower()
    for pattern in allowed:
        pattern = pattern.lower()
        if pattern == "*" or name == pattern or (pattern.startswith("*.") and name.endswith(pattern[1:])):
            return True
    return False


INT32_MAX = 2**31 - 1


def _id_out_of_range(path: str) -> bool:
    """A digits-only path segment (an id) beyond the INTEGER columns' range."""
    return any(seg.isdigit() and (len(seg) > 10 or int(seg) > INT32_MAX) for seg in path.split("/"))


# Request ids: a random per-process prefix + a counter — unique across workers and restarts for log correlation,
# without a urandom() system call per request (issue #15).
_ID_PREFIX = uuid.uuid4().hex[:8]
_ids = itertools.count(1)
_SECURITY_RAW = [(k.encode(), v.encode()) for k, v in SECURITY_HEADERS.items()]
_SECURITY_NAMES = frozenset(name for name, _ in _SECURITY_RAW)
_SKIP_SESSION = ("/static/", "/healthz")


def scope_cookies(scope: Scope) -> dict[str, str]:
    """The request's cookies, parsed once per request (the shell middleware and CSRF both need them)."""
    cookies = scope.get("_cookies")  # type: ignore[typeddict-item]
    if cookies is None:
        cookies = scope["_cookies"] = read_cookies(scope)  # type: ignore[typeddict-unknown-key]
    return cookies


def _lang_param(query_string: bytes) -> str | None:
    if b"lang=" not in query_string:  # the common case costs one substring test, not a parse_qs
        return None
    from urllib.parse import parse_qs

    return normalize((parse_qs(query_string.decode("latin-1")).get("lang") or [None])[0])


class ShellMiddleware:
    """The shell's one pure-ASGI middleware (issue #15: one pass instead of three wrappers).

    In order: the Host header check; a request id (`X-Request-ID`); ids beyond the INTEGER range → 404;
    session → user (`scope["user"]`: a CurrentUser or None — a tampered, unknown or expired cookie simply means
    "not signed in"); the UI language: `?lang=` (remembered in a cookie) > the user's choice > cookie > default (zh).
    On the way out: the security headers (precomputed once) and Content-Language.
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app
        settings = get_settings()
        self.allowed_hosts = settings.allowed_hosts
        self.default_locale = settings.default_locale
        self.lang_cookie_tail = "; Path=/; Max-Age=31536000; SameSite=Lax" + ("; Secure" if settings.secure_cookies else "")
        self.extra = [(b"strict-transport-security", b"max-age=31536000")] if settings.secure_cookies else []

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((value.decode("latin-1") for key, value in scope.get("headers", []) if key == b"host"), "")
        if not host_allowed(host, self.allowed_hosts):
            from litestar.response.base import ASGIResponse

            await ASGIResponse(body=b"invalid host header", status_code=400, media_type="text/plain")(scope, receive, send)
            return
        request_id = f"{_ID_PREFIX}{next(_ids):08x}"
        scope["request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        path = scope.get("path", "")
        if _id_out_of_range(path):
            from litestar.exceptions import NotFoundException

            raise NotFoundException()  # /customers/9223372036854775808: no such thing, never a 500 (issue #11)
        cookies = scope_cookies(scope)
        user = None
        if not path.startswith(_SKIP_SESSION):
            user = await accounts.session_user(cookies.get(SESSION_COOKIE))
        scope["user"] = user
        requested = _lang_param(scope.get("query_string", b""))
        cookie_lang = normalize(cookies.get(LANG_COOKIE))
        lang = requested or (normalize(user.lang) if user else None) or cookie_lang or self.default_locale
        # `?lang=` switches this page and the cookie only: a GET never writes the account (issue #11);
        # the switch in the top bar POSTs to /lang, which remembers the choice for the user.
        token = set_locale(lang)
        snapshot = settings_snapshot.begin_request()
        out = [(b"x-request-id", request_id.encode()), (b"content-language", b"zh-CN" if lang == "zh" else b"en"),
               *self.extra]
        if requested and requested != cookie_lang:
            out.append((b"set-cookie", f"{LANG_COOKIE}={requested}{self.lang_cookie_tail}".encode()))

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = list(message.get("headers") or ())
                present = {name.lower() for name, _ in headers}
                headers.extend(item for item in _SECURITY_RAW if item[0] not in present)
                headers.extend(item for item in out if item[0] not in present or item[0] == b"set-cookie")
                message["headers"] = headers
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            settings_snapshot.end_request(snapshot)
            reset_locale(token)

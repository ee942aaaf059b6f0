"""ASGI middleware: request id + security headers, session → user, and the UI locale."""

from __future__ import annotations

import uuid
from http.cookies import SimpleCookie

from litestar.datastructures import MutableScopeHeaders
from litestar.types import ASGIApp, Message, Receive, Scope, Send

from app.core.accounts import services as accounts
from app.core.config import get_settings
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


class RequestContextMiddleware:
    """Checks the Host header, gives each request an id (`X-Request-ID`), adds security headers."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        host = next((value.decode("latin-1") for key, value in scope.get("headers", []) if key == b"host"), "")
        if not host_allowed(host, get_settings().allowed_hosts):
            from litestar.response.base import ASGIResponse

            await ASGIResponse(body=b"invalid host header", status_code=400, media_type="text/plain")(scope, receive, send)
            return
        request_id = uuid.uuid4().hex[:16]
        scope["request_id"] = request_id  # type: ignore[typeddict-unknown-key]
        if _id_out_of_range(scope.get("path", "")):
            from litestar.exceptions import NotFoundException

            raise NotFoundException()  # /customers/9223372036854775808: no such thing, never a 500 (issue #11)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start":
                headers = MutableScopeHeaders.from_message(message)
                headers["x-request-id"] = request_id
                for key, value in SECURITY_HEADERS.items():
                    if key not in headers:
                        headers[key] = value
                if get_settings().secure_cookies:
                    headers["strict-transport-security"] = "max-age=31536000"
            await send(message)

        await self.app(scope, receive, send_wrapper)


class SessionMiddleware:
    """Looks up the server-side session: `scope["user"]` is a CurrentUser or None.

    A tampered, unknown or expired session cookie simply means "not signed in".
    """

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        path = scope.get("path", "")
        user = None
        if not path.startswith("/static/") and path != "/healthz":
            token = read_cookies(scope).get(SESSION_COOKIE)
            user = await accounts.load_session(token)
        scope["user"] = user
        await self.app(scope, receive, send)


class LocaleMiddleware:
    """Chooses the UI language: `?lang=` (remembered) > user's choice > cookie > default (zh)."""

    def __init__(self, app: ASGIApp) -> None:
        self.app = app

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] != "http":
            await self.app(scope, receive, send)
            return
        from urllib.parse import parse_qs

        query = parse_qs(scope.get("query_string", b"").decode("latin-1"))
        requested = normalize((query.get("lang") or [None])[0])
        user = scope.get("user")
        cookie_lang = normalize(read_cookies(scope).get(LANG_COOKIE))
        lang = requested or (normalize(user.lang) if user else None) or cookie_lang or get_settings().default_locale
        # `?lang=` switches this page and the cookie only: a GET never writes the account (issue #11);
        # the switch in the top bar POSTs to /lang, which remembers the choice for the user.
        token = set_locale(lang)

        async def send_wrapper(message: Message) -> None:
            if message["type"] == "http.response.start" and requested and requested != cookie_lang:
                headers = MutableScopeHeaders.from_message(message)
                secure = "; Secure" if get_settings().secure_cookies else ""
                headers.add("set-cookie", f"{LANG_COOKIE}={requested}; Path=/; Max-Age=31536000; SameSite=Lax{secure}")
            if message["type"] == "http.response.start":
                MutableScopeHeaders.from_message(message)["content-language"] = "zh-CN" if lang == "zh" else "en"
            await send(message)

        try:
            await self.app(scope, receive, send_wrapper)
        finally:
            reset_locale(token)

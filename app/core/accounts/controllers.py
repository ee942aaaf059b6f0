"""Sign-in, sign-out and user administration (admin only)."""

from __future__ import annotations

from dataclasses import dataclass
from typing import Annotated

from litestar import Controller, Request, Response, get, post
from litestar.datastructures import Cookie
from litestar.exceptions import NotFoundException
from litestar.params import FromPath, FromQuery

from app.core.accounts import services
from app.core.permissions import PUBLIC, SIGNED_IN, perm
from app.core.roles import ROLE_DUTIES, ROLES
from app.core.config import get_settings
from app.core.errors import DomainError
from app.core.forms import Choice, Text, Version, parse, parse_or_raise
from app.core.i18n import LOCALES
from app.core.i18n import _
from app.core.middleware import LANG_COOKIE, SESSION_COOKIE, client_ip
from app.core.web import actor, as_list, form_data, redirect, render

DEMO_ROLES = list(ROLES)


def _safe_next(url: str | None) -> str:
    """Only same-site relative paths (no open redirect). Control characters are refused: browsers drop
    tabs and newlines from a URL, so "/<TAB>/evil.example" would be followed as "//evil.example"."""
    if (url and url.startswith("/") and not url.startswith("//") and "\\" not in url
            and not any(ord(ch) < 0x20 or ord(ch) == 0x7F for ch in url)):
        return url
    return "/"


DEVICE_COOKIE = "shouhou_device"


@dataclass
class _VersionForm:
    version: Annotated[int, Version()]


@dataclass
class _LangForm:
    lang: Annotated[str, Choice(LOCALES, required=True)]
    next: Annotated[str, Text(max_len=2000)] = "/"


class AuthController(Controller):
    path = ""

    @get("/login", opt=PUBLIC, name="login")
    async def login_page(self, request: Request, next: FromQuery[str | None] = None) -> Response:
        if request.scope.get("user") is not None:
            return redirect(request, _safe_next(next))
        return await self._render_login(request, next_url=_safe_next(next))

    async def _render_login(self, request: Request, *, next_url: str, error: str = "", username: str = "", status_code: int = 200) -> Response:
        demo = await services.demo_users_present()
        return render(request, "accounts/login.html", status_code=status_code, next_url=next_url, error=error,
                      username=username, demo_roles=DEMO_ROLES if demo else [], role_names=ROLES, role_duties=ROLE_DUTIES)

    @post("/login", opt=PUBLIC)
    async def login(self, request: Request) -> Response:
        data = await form_data(request)
        username, password = str(data.get("username", "")), str(data.get("password", ""))
        next_url = _safe_next(str(data.get("next", "") or "/"))
        try:
            user = await services.authenticate(username, password, client_ip(request.scope), request.scope.get("request_id", ""),
                                               device_cookie=request.cookies.get(DEVICE_COOKIE))
        except DomainError as exc:
            return await self._render_login(request, next_url=next_url, error=exc.message, username=username, status_code=exc.status)
        token = await services.start_session(
            user, ip=client_ip(request.scope), user_agent=request.headers.get("user-agent", ""),
            old_token=request.cookies.get(SESSION_COOKIE),
        )
        response = redirect(request, next_url)
        response.set_cookie(Cookie(key=SESSION_COOKIE, value=token, path="/", httponly=True, samesite="lax",
                                   secure=get_settings().secure_cookies))
        # known device (issue #11): this browser may sign this user in even while its address is throttled
        response.set_cookie(Cookie(key=DEVICE_COOKIE, value=services.add_known_device(request.cookies.get(DEVICE_COOKIE),
                                                                                       user.username),
                                   path="/login", httponly=True, samesite="lax", max_age=180 * 86400,
                                   secure=get_settings().secure_cookies))
        return response

    @post("/lang", opt=PUBLIC)
    async def switch_language(self, request: Request) -> Response:
        """The language switch: a POST (a GET with ?lang= changes only the page and the cookie, never the
        account). Signed-in users get it remembered on their account (audited)."""
        form, errors = parse(_LangForm, await form_data(request))
        if form is None:
            raise DomainError(_("Choose one of the offered values."), errors=errors)
        if request.scope.get("user") is not None:
            await services.set_language(actor(request), form.lang)
        response = redirect(request, _safe_next(form.next))
        response.set_cookie(Cookie(key=LANG_COOKIE, value=form.lang, path="/", max_age=31536000, samesite="lax",
                                   secure=get_settings().secure_cookies))
        return response

    @post("/logout", opt=perm(SIGNED_IN))
    async def logout(self, request: Request) -> Response:
        await services.end_session(actor(request), request.cookies.get(SESSION_COOKIE))
        response = redirect(request, "/login", flash=_("You have signed out."))
        response.delete_cookie(SESSION_COOKIE, path="/")
        return response


def _user_input(data: dict) -> services.UserInput:
    return services.UserInput(
        username=str(data.get("username", "")),
        full_name=str(data.get("full_name", "")),
        phone=str(data.get("phone", "")),
        roles=tuple(as_list(data.get("roles"))),
        password=str(data.get("password", "")),
    )


class UserAdminController(Controller):
    path = "/admin/users"
    opt = perm("shell.users")

    @get("/", name="users.list")
    async def list_users(
        self, request: Request, q: FromQuery[str] = "", role: FromQuery[str] = "", after: FromQuery[str | None] = None
    ) -> Response:
        rows, cursor = await services.list_users(q=q.strip(), role=role if role in ROLES else "", after=after)
        return render(request, "accounts/users.html", partial="accounts/_user_rows.html", rows=rows,
                      cursor=cursor, q=q, role=role, role_names=ROLES)

    @get("/new")
    async def new_user(self, request: Request) -> Response:
        return render(request, "accounts/user_form.html", form=services.UserInput(), errors={}, user_row=None, role_names=ROLES)

    @post("/new")
    async def create_user(self, request: Request) -> Response:
        data = _user_input(await form_data(request))
        try:
            user_id = await services.create_user(actor(request), data)
        except DomainError as exc:
            return render(request, "accounts/user_form.html", status_code=400, form=data, errors=exc.errors,
                          message=exc.message, user_row=None, role_names=ROLES)
        return redirect(request, f"/admin/users/{user_id}", flash=_("User %(name)s created.", name=data.username))

    @get("/{user_id:int}")
    async def edit_user(self, request: Request, user_id: FromPath[int]) -> Response:
        row = await services.get_user(user_id)
        if row is None:
            raise NotFoundException()
        form = services.UserInput(username=row["username"], full_name=row["full_name"], phone=row["phone"],
                                  roles=tuple(row["role_set"]))
        return render(request, "accounts/user_form.html", form=form, errors={}, user_row=row, role_names=ROLES)

    @post("/{user_id:int}")
    async def update_user(self, request: Request, user_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        data = _user_input(raw)
        row = await services.get_user(user_id)
        if row is None:
            raise NotFoundException()
        try:
            version = parse_or_raise(_VersionForm, raw).version  # missing or unreadable → 400, never "no check" (#11)
            await services.update_user(actor(request), user_id, data, version=version)
        except DomainError as exc:
            data.username = row["username"]
            return render(request, "accounts/user_form.html", status_code=exc.status, form=data, errors=exc.errors,
                          message=exc.message, user_row=row, role_names=ROLES)
        return redirect(request, f"/admin/users/{user_id}", flash=_("Changes saved."))

    @post("/{user_id:int}/active")
    async def set_active(self, request: Request, user_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        active = raw.get("active") == "1"
        try:
            await services.set_active(actor(request), user_id, active)
        except DomainError as exc:
            return redirect(request, f"/admin/users/{user_id}", flash=exc.message, level="danger")
        return redirect(request, f"/admin/users/{user_id}",
                        flash=_("User enabled.") if active else _("User disabled; their sessions have ended."))

    @post("/{user_id:int}/password")
    async def reset_password(self, request: Request, user_id: FromPath[int]) -> Response:
        raw = await form_data(request)
        row = await services.get_user(user_id)
        if row is None:
            raise NotFoundException()
        try:
            await services.reset_password(actor(request), user_id, str(raw.get("new_password", "")))
        except DomainError as exc:
            form = services.UserInput(username=row["username"], full_name=row["full_name"], phone=row["phone"],
                                      roles=tuple(row["role_set"]))
            return render(request, "accounts/user_form.html", status_code=exc.status, form=form,
                          errors={"new_password": exc.errors.get("password", exc.message)}, message=exc.message,
                          user_row=row, role_names=ROLES)
        return redirect(request, f"/admin/users/{user_id}", flash=_("Password reset; the user must sign in again."))


class ThrottleController(Controller):
    """/admin/throttles: who is being slowed down at sign-in right now, and a way to let them in (issue #11)."""

    path = "/admin/throttles"
    opt = perm("shell.users")

    @get("/", name="throttles.list")
    async def list_throttles(self, request: Request) -> Response:
        return render(request, "accounts/throttles.html", rows=await services.list_throttles(),
                      limits=get_settings())

    @post("/{throttle_id:int}/clear")
    async def clear(self, request: Request, throttle_id: FromPath[int]) -> Response:
        await services.clear_throttle(actor(request), throttle_id)
        return redirect(request, "/admin/throttles", flash=_("Throttle cleared."))

"""Shared HTTP helpers: rendering (full page or HTMX fragment), redirects, flash, forms."""

from __future__ import annotations

import base64
import html
import json
from typing import Any
from urllib.parse import urlencode

from litestar import Request, Response
from litestar.utils.empty import value_or_default
from litestar.utils.scope.state import ScopeState
from markupsafe import Markup
from litestar.datastructures import Cookie
from litestar.status_codes import HTTP_303_SEE_OTHER

from app.core.audit.services import Actor
from app.core.middleware import client_ip

FLASH_COOKIE = "shouhou_flash"


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


def is_partial(request: Request) -> bool:
    """An HTMX request that wants a fragment (not a boosted navigation)."""
    return is_htmx(request) and request.headers.get("hx-boosted") != "true"


def current_user(request: Request):
    return request.scope.get("user")


def actor(request: Request) -> Actor:
    user = current_user(request)
    ip = client_ip(request.scope)
    request_id = request.scope.get("request_id", "")
    if user is None:
        return Actor(user_id=None, username="", ip=ip, request_id=request_id)
    return Actor(user_id=user.id, username=user.username, roles=user.roles, ip=ip, request_id=request_id,
                 name=getattr(user, "full_name", "") or "")


def render_string(request: Request, template: str, **context: Any) -> str:
    engine = request.app.template_engine
    assert engine is not None
    flashes = context.pop("_flashes", None)
    token = value_or_default(ScopeState.from_scope(request.scope).csrf_token, "")
    ctx = {
        "request": request,
        "user": current_user(request),
        "flashes": flashes if flashes is not None else read_flash(request),
        "csrf_input": Markup(f'<input type="hidden" name="_csrf_token" value="{html.escape(token)}">'),
    }
    ctx.update(context)
    return engine.get_template(template).render(**ctx)


def render(request: Request, template: str, *, status_code: int = 200, partial: str | None = None, **context: Any) -> Response:
    """Render `template`, or only `partial` when this is an HTMX fragment request."""
    name = partial if (partial and is_partial(request)) else template
    response = Response(content=render_string(request, name, **context), status_code=status_code, media_type="text/html",
                        # one URL answers a page or a fragment: caches (and the back button) must key on it
                        headers={"Vary": "HX-Request"} if partial else None)
    if request.cookies.get(FLASH_COOKIE):
        response.delete_cookie(FLASH_COOKIE, path="/")
    return response


def redirect(request: Request, url: str, *, flash: str | None = None, level: str = "success") -> Response:
    """After a successful write: 303 to `url` (HTMX: HX-Redirect), with an optional flash message."""
    if is_htmx(request):
        response = Response(content="", status_code=200, headers={"HX-Redirect": url})
    else:
        response = Response(content="", status_code=HTTP_303_SEE_OTHER, headers={"Location": url})
    if flash:
        set_flash(response, flash, level)
    return response


def set_flash(response: Response, message: str, level: str = "success") -> None:
    payload = base64.urlsafe_b64encode(json.dumps([[level, message]], ensure_ascii=False).encode()).decode()
    from app.core.config import get_settings

    response.set_cookie(Cookie(key=FLASH_COOKIE, value=payload, path="/", httponly=True, samesite="lax",
                               secure=get_settings().secure_cookies))


def read_flash(request: Request) -> list[tuple[str, str]]:
    raw = request.cookies.get(FLASH_COOKIE)
    if not raw:
        return []
    try:
        items = json.loads(base64.urlsafe_b64decode(raw.encode()).decode())
        return [(str(level), str(message)) for level, message in items][:5]
    except Exception:  # noqa: BLE001 - a broken flash cookie is ignored
        return []


async def form_data(request: Request) -> dict[str, Any]:
    """URL-encoded or multipart form as a dict; repeated fields become lists."""
    form = await request.form()
    data: dict[str, Any] = {}
    for key in form.keys():
        values = form.getall(key)
        data[key] = values if len(values) > 1 else values[0]
    return data


def as_list(value: Any) -> list[str]:
    if value is None or value == "":
        return []
    return value if isinstance(value, list) else [value]


def page_url(request: Request, **changes: Any) -> str:
    """The current URL with some query parameters replaced (None removes one)."""
    params = dict(request.query_params)
    params.pop("lang", None)
    for key, value in changes.items():
        if value is None or value == "":
            params.pop(key, None)
        else:
            params[key] = value
    query = urlencode(params)
    return request.url.path + ("?" + query if query else "")

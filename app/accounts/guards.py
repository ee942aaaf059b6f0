"""Deny by default: every route handler declares `opt=PUBLIC` or `opt=roles(...)`.

The app-level `access_guard` lets a request through only when the handler is public
or the signed-in user holds one of its roles; a handler that declares neither is
refused for everybody (and `tests/test_routes.py` fails on it).
"""

from __future__ import annotations

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from app.accounts.roles import ROLES

PUBLIC = {"public": True}
ANY_ROLE = frozenset(ROLES)


def roles(*names: str) -> dict:
    """`opt=roles("warehouse", "manager")`; `roles()` with no names = any signed-in user."""
    unknown = set(names) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    return {"roles": frozenset(names) if names else ANY_ROLE}


def handler_access(handler: BaseRouteHandler) -> tuple[bool, frozenset[str] | None]:
    opt = handler.opt or {}
    return bool(opt.get("public")), opt.get("roles")


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    public, allowed = handler_access(handler)
    if public:
        return
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("sign in required")
    if not allowed or not user.roles.intersection(allowed):
        raise PermissionDeniedException("your roles do not allow this page")

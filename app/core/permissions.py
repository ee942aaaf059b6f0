"""Permissions by name (ARCHITECTURE rule 5; NetBox `utilities/permissions.py`).

Each domain declares its names once, in its manifest: `{"loaners.checkout": {"warehouse"}, …}`.
Routes ask with `opt=perm("loaners.checkout")`, services with `require(actor, "loaners.checkout")`,
templates with `can("loaners.checkout")`. The role sets live only here, so the three never drift.
`PUBLIC` marks the few routes anyone may open (login, health, static files).
"""

from __future__ import annotations

from typing import Any, Iterable, Mapping

from litestar.connection import ASGIConnection
from litestar.exceptions import NotAuthorizedException, PermissionDeniedException
from litestar.handlers.base import BaseRouteHandler

from app.core.roles import ROLES

PUBLIC = {"public": True}
SIGNED_IN = "signed_in"  # the permission every signed-in user holds (home page, own profile)

PERMISSIONS: dict[str, frozenset[str]] = {SIGNED_IN: frozenset(ROLES)}


def declare(perms: Mapping[str, Iterable[str]]) -> None:
    """Register a domain's permission names (from its manifest). A name is declared once."""
    for name, roles in perms.items():
        roles = frozenset(roles)
        unknown = roles - set(ROLES)
        if unknown:
            raise ValueError(f"permission {name!r}: unknown roles {sorted(unknown)}")
        if name in PERMISSIONS and PERMISSIONS[name] != roles:
            raise ValueError(f"permission {name!r} declared twice with different roles")
        PERMISSIONS[name] = roles


def roles_for(*names: str) -> frozenset[str]:
    """The roles that hold any of these permissions; an undeclared name is a programming error."""
    out: set[str] = set()
    for name in names:
        if name not in PERMISSIONS:
            from app.core.manifest import ensure_installed

            if not ensure_installed() or name not in PERMISSIONS:
                raise KeyError(f"undeclared permission {name!r}")
        out |= PERMISSIONS[name]
    return frozenset(out)


def perm(*names: str) -> dict:
    """`opt=perm("loaners.checkout")` — the route is open to whoever holds any of the named permissions."""
    if not names:
        raise ValueError("perm() needs at least one name; use PUBLIC for public routes")
    return {"perms": tuple(names)}


def _roles_of(who: Any) -> frozenset[str]:
    if who is None:
        return frozenset()
    return frozenset(getattr(who, "roles", None) or ())


def can(who: Any, *names: str) -> bool:
    """Does this user (or Actor) hold any of the named permissions?"""
    return bool(_roles_of(who) & roles_for(*names))


def require(who: Any, *names: str) -> None:
    """In a service: refuse (403 DomainError) unless the actor holds one of the permissions."""
    if not can(who, *names):
        from app.core.errors import refused

        raise refused()


def handler_access(handler: BaseRouteHandler) -> tuple[bool, frozenset[str] | None]:
    """(public?, allowed roles) — from `opt=PUBLIC` or `opt=perm(...)` (or a legacy `opt=roles(...)`)."""
    opt = handler.opt or {}
    if opt.get("public"):
        return True, None
    if "perms" in opt:
        return False, roles_for(*opt["perms"])
    return False, opt.get("roles")


def roles(*names: str) -> dict:
    """Legacy `opt=roles("warehouse", …)`; new code declares a permission name and uses `perm()`."""
    unknown = set(names) - set(ROLES)
    if unknown:
        raise ValueError(f"unknown roles {unknown}")
    return {"roles": frozenset(names) if names else frozenset(ROLES)}


ANY_ROLE = frozenset(ROLES)


async def access_guard(connection: ASGIConnection, handler: BaseRouteHandler) -> None:
    """Deny by default: public, or a signed-in user holding one of the route's roles."""
    public, allowed = handler_access(handler)
    if public:
        return
    user = connection.scope.get("user")
    if user is None:
        raise NotAuthorizedException("sign in required")
    if not allowed or not user.roles.intersection(allowed):
        raise PermissionDeniedException("your roles do not allow this page")

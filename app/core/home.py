"""Home page (what is waiting for each role) and the public health check."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.core.permissions import PUBLIC, SIGNED_IN, perm
from app.core.roles import ROLE_DUTIES, ROLES
from app.core.db import fetch, healthcheck
from app.core.nav import panels_for
from app.core.web import render


async def my_recent_activity(user) -> dict | None:
    """The signed-in user's last actions (index audit_event(user_id, id))."""
    rows = await fetch(
        "SELECT action, entity_type, entity_id, created_at FROM audit_event WHERE user_id = {} ORDER BY id DESC LIMIT 6",
        user.id,
    )
    return {"rows": rows}




class HomeController(Controller):
    path = ""

    @get("/", opt=perm(SIGNED_IN), name="home")
    async def home(self, request: Request) -> Response:
        user = request.scope["user"]
        rendered = []
        for panel in panels_for(user):
            context = await panel.load(user)
            if context is not None:
                rendered.append((panel, context))
        my_roles = [role for role in ROLES if role in user.roles]
        waiting = [panel for panel, _ in rendered if panel.key != "recent"]
        return render(request, "home.html", panels=rendered, waiting=waiting, my_roles=my_roles, role_names=ROLES, role_duties=ROLE_DUTIES)

    @get("/healthz", opt=PUBLIC, name="healthz")
    async def healthz(self) -> Response:
        ok = await healthcheck()
        return Response(
            content={"status": "ok" if ok else "error", "db": "ok" if ok else "unreachable"},
            status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        )

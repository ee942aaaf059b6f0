"""Home page (what is waiting for each role) and the public health check."""

from __future__ import annotations

from litestar import Controller, Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.accounts.guards import PUBLIC, roles
from app.accounts.roles import ROLE_DUTIES, ROLES
from app.db import healthcheck
from app.nav import panels_for
from app.web import render


class HomeController(Controller):
    path = ""

    @get("/", opt=roles(), name="home")
    async def home(self, request: Request) -> Response:
        user = request.scope["user"]
        rendered = []
        for panel in panels_for(user):
            context = await panel.load(user)
            if context is not None:
                rendered.append((panel, context))
        my_roles = [role for role in ROLES if role in user.roles]
        return render(request, "home.html", panels=rendered, my_roles=my_roles, role_names=ROLES, role_duties=ROLE_DUTIES)

    @get("/healthz", opt=PUBLIC, name="healthz")
    async def healthz(self) -> Response:
        ok = await healthcheck()
        return Response(
            content={"status": "ok" if ok else "error", "db": "ok" if ok else "unreachable"},
            status_code=HTTP_200_OK if ok else HTTP_503_SERVICE_UNAVAILABLE,
        )

"""create_app(): plugins, templates, lifespan, route list — nothing else."""

from __future__ import annotations

from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from litestar import Litestar
from litestar.config.csrf import CSRFConfig
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.plugins.jinja import JinjaTemplateEngine

import app  # noqa: F401  (PICCOLO_CONF)
from app import db
from app.accounts.controllers import AuthController, UserAdminController
from app.accounts.guards import PUBLIC, access_guard
from app.audit.controllers import AuditController
from app.config import BASE_DIR, get_settings
from app.errors import EXCEPTION_HANDLERS
from app.home import HomeController
from app.middleware import LocaleMiddleware, RequestContextMiddleware, SessionMiddleware
from app.templating import configure_environment
from app.core.controllers import CONTROLLERS as CORE_CONTROLLERS
from app.customers.controllers import CONTROLLERS as CUSTOMER_CONTROLLERS
from app.ledger.controllers import CONTROLLERS as LEDGER_CONTROLLERS
from app.loaners.controllers import CONTROLLERS as LOANER_CONTROLLERS
from app.parts.controllers import CONTROLLERS as PARTS_CONTROLLERS
from app.rma.controllers import CONTROLLERS as RMA_CONTROLLERS

ROUTE_HANDLERS = [
    HomeController, AuthController, UserAdminController, AuditController, *CORE_CONTROLLERS,
    *CUSTOMER_CONTROLLERS, *PARTS_CONTROLLERS, *RMA_CONTROLLERS, *LOANER_CONTROLLERS, *LEDGER_CONTROLLERS,
]


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    await db.startup()
    try:
        yield
    finally:
        await db.shutdown()


def create_app() -> Litestar:
    settings = get_settings()
    template_config = TemplateConfig(
        directory=Path(BASE_DIR / "templates"),
        engine=JinjaTemplateEngine,
        engine_callback=lambda engine: configure_environment(engine.engine),
    )
    static = create_static_files_router(
        path="/static", directories=[BASE_DIR / "static"], opt=PUBLIC, include_in_schema=False,
        send_as_attachment=False,
    )
    return Litestar(
        route_handlers=[*ROUTE_HANDLERS, static],
        guards=[access_guard],
        middleware=[RequestContextMiddleware, SessionMiddleware, LocaleMiddleware],
        csrf_config=CSRFConfig(
            secret=settings.secret_key, cookie_secure=settings.secure_cookies, cookie_samesite="lax", cookie_httponly=True
        ),
        template_config=template_config,
        plugins=[HTMXPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        openapi_config=None,  # no /schema: nothing unguarded but what is marked public
        debug=settings.debug,
    )

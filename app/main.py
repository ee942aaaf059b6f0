"""create_app(): plugins, templates, lifespan, and the routes of every manifest in app.domains — nothing else."""

from __future__ import annotations

import gc
from contextlib import asynccontextmanager
from pathlib import Path
from typing import AsyncIterator

from litestar import Litestar
from litestar.plugins.htmx import HTMXPlugin
from litestar.static_files import create_static_files_router
from litestar.template.config import TemplateConfig
from litestar.plugins.jinja import JinjaTemplateEngine

import app  # noqa: F401  (PICCOLO_CONF)
from app.core import db, periodic
from app.core.config import BASE_DIR, get_settings
from app.core.errors import EXCEPTION_HANDLERS
from app.core.manifest import install_all
from app.core.csrf import LazyCSRFMiddleware
from app.core.middleware import ShellMiddleware
from app.core.permissions import PUBLIC, access_guard
from app.core.templating import configure_environment
from app.domains import manifests


@asynccontextmanager
async def lifespan(_: Litestar) -> AsyncIterator[None]:
    await db.startup()
    # Everything loaded at start (templates, catalogs, manifests) goes to the permanent generation: the
    # collector stops re-scanning it on every full collection — fewer long pauses in the tail (p99, issue #15).
    gc.collect()
    gc.freeze()
    jobs = periodic.start()  # the manifests' periodic jobs (e.g. the SLA breach sweep), one loop per worker
    try:
        yield
    finally:
        await periodic.stop(jobs)
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
        route_handlers=[*install_all(manifests()), static],
        guards=[access_guard],
        # one shell middleware, then CSRF (issue #15); Litestar's own csrf_config is not used: app/core/csrf.py
        # keeps its token format and its check on unsafe methods, and sends the cookie only with HTML pages
        middleware=[ShellMiddleware, LazyCSRFMiddleware],
        template_config=template_config,
        plugins=[HTMXPlugin()],
        exception_handlers=EXCEPTION_HANDLERS,  # type: ignore[arg-type]
        lifespan=[lifespan],
        openapi_config=None,  # no /schema: nothing unguarded but what is marked public
        debug=settings.debug,
    )

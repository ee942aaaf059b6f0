"""Home page (what is waiting for each role) and the public health check.

Speed (#15): the panels of one person's home page are computed once and kept per process under
(user, roles, language, day) while the database's commit stamp is unchanged — one cheap statement per view
instead of one or more per panel. The stamp changes with every commit from anywhere (any worker, any table):
SQLite's `data_version` on the shared read connection (it moves whenever another connection commits; all
writes use other connections), PostgreSQL's `pg_current_snapshot()` (its xmax / in-progress list move
whenever a writing transaction starts or ends). So nothing is served stale after a commit; panels that
depend on the clock alone (an "overdue" tipping over) are at most HOME_TTL seconds behind. Without the
shared reader (SQLite, `SHOUHOU_SQLITE_SHARED_READER=0`) there is no stamp and every view computes.
"""

from __future__ import annotations

import asyncio
import time
from typing import Any

from litestar import Controller, Request, Response, get
from litestar.status_codes import HTTP_200_OK, HTTP_503_SERVICE_UNAVAILABLE

from app.core.permissions import PUBLIC, SIGNED_IN, perm
from app.core.roles import ROLE_DUTIES, ROLES
from app.core.db import engine, fetch, healthcheck
from app.core.dates import today
from app.core.i18n import current_locale
from app.core.nav import panels_for


from app.core.web import render

HOME_TTL = 30.0  # seconds: the clock alone (no commit) moves a panel at most this late
_HOME_MAX = 1024  # cached home pages (one per person and language); cleared whole when full
_HOME: dict[tuple, tuple[Any, float, list]] = {}
_HOME_INFLIGHT: dict[tuple, asyncio.Future] = {}


async def commit_stamp() -> Any:
    """A value that changes whenever any transaction commits, or None where there is none to read."""
    db = engine()
    if db.engine_type == "sqlite":
        reader = getattr(db, "_reader", None)
        if reader is None:
            return None
        rows = await fetch("SELECT data_version AS v FROM pragma_data_version")
        return (id(reader), rows[0]["v"]) if rows else None
    rows = await fetch("SELECT pg_current_snapshot()::text AS v")
    return rows[0]["v"] if rows else None


def clear_home_cache() -> None:
    _HOME.clear()


async def _compute(user) -> list:
    rendered = []
    for panel in panels_for(user):
        context = await panel.load(user)
        if context is not None:
            rendered.append((panel, context))
    return rendered


async def home_panels(user) -> list:
    """[(panel, context)] for this person: from the cache while no commit happened, else computed once
    (concurrent misses for the same person share one computation)."""
    stamp = await commit_stamp()
    if stamp is None:
        return await _compute(user)
    key = (user.id, frozenset(user.roles), current_locale(), today())
    now = time.monotonic()
    hit = _HOME.get(key)
    if hit is not None and hit[0] == stamp and now - hit[1] < HOME_TTL:
        return hit[2]
    flight = (key, stamp)
    pending = _HOME_INFLIGHT.get(flight)
    if pending is not None:
        return await asyncio.shield(pending)
    future = asyncio.get_running_loop().create_future()
    _HOME_INFLIGHT[flight] = future
    try:
        value = await _compute(user)
    except BaseException as exc:
        future.set_exception(exc)
        future.exception()  # retrieved: waiters (if any) re-raise it
        raise
    finally:
        _HOME_INFLIGHT.pop(flight, None)
    future.set_result(value)
    if len(_HOME) >= _HOME_MAX:
        _HOME.clear()
    _HOME[key] = (stamp, now, value)
    return value


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
        rendered = await home_panels(user)
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

"""Audit page for managers and admins: filters and keyset pagination."""

from __future__ import annotations

import datetime as dt

from litestar import Controller, Request, Response, get
from litestar.params import FromQuery

from app.core.permissions import perm
from app.core.audit.services import AuditFilter, list_events, present_events
from app.core.web import render


def _date(value: str) -> dt.date | None:
    try:
        return dt.date.fromisoformat(value) if value else None
    except ValueError:
        return None


class AuditController(Controller):
    path = "/audit"
    opt = perm("shell.audit")

    @get("/", name="audit.list")
    async def list_events(
        self, request: Request, user: FromQuery[str] = "", action: FromQuery[str] = "", entity: FromQuery[str] = "",
        entity_id: FromQuery[str] = "", date_from: FromQuery[str] = "", date_to: FromQuery[str] = "",
        before: FromQuery[int | None] = None,
    ) -> Response:
        flt = AuditFilter(username=user.strip().lower(), action=action.strip(), entity_type=entity.strip(),
                          entity_id=entity_id.strip(), date_from=_date(date_from), date_to=_date(date_to))
        rows, cursor = await list_events(flt, before_id=before)
        bad_dates = (date_from and not flt.date_from) or (date_to and not flt.date_to)
        return render(request, "audit/list.html", partial="audit/_rows.html", rows=present_events(rows), cursor=cursor,
                      flt=flt, raw={"user": user, "action": action, "entity": entity, "entity_id": entity_id,
                                    "date_from": date_from, "date_to": date_to}, bad_dates=bad_dates, first_page=before is None)

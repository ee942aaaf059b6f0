"""Audit events (X-03): who, when, what, before/after — in the same transaction as the change."""

from __future__ import annotations

import datetime as dt
import json
from dataclasses import dataclass, field
from decimal import Decimal
from typing import Any

from app.core.audit.tables import AuditEvent
from app.core.db import Where, fetch, utcnow
from app.core.rows import insert
from app.core.i18n import tz


from app.core.actor import SYSTEM, Actor  # noqa: E402,F401  (re-exported for callers of record())


def _default(value: Any) -> Any:
    if isinstance(value, (dt.date, dt.datetime)):
        return value.isoformat()
    if isinstance(value, Decimal):
        return str(value)
    if isinstance(value, (set, frozenset)):
        return sorted(value)
    return str(value)


def to_json(value: Any) -> str | None:
    if value is None:
        return None
    return json.dumps(value, default=_default, ensure_ascii=False, sort_keys=True)


async def record(
    actor: Actor,
    action: str,
    entity_type: str = "",
    entity_id: Any = "",
    *,
    before: Any = None,
    after: Any = None,
) -> None:
    """Append one audit event; call inside the service's write transaction."""
    await insert(AuditEvent, created_at=utcnow(), user_id=actor.user_id, username=actor.username,
                 roles=" ".join(sorted(actor.roles)), action=action, entity_type=entity_type,
                 entity_id="" if entity_id is None else str(entity_id), before=to_json(before), after=to_json(after),
                 request_id=actor.request_id, ip=actor.ip)


@dataclass
class AuditFilter:
    username: str = ""
    action: str = ""
    entity_type: str = ""
    entity_id: str = ""
    date_from: dt.date | None = None
    date_to: dt.date | None = None


async def list_events(flt: AuditFilter, *, before_id: int | None = None, limit: int = 50) -> tuple[list[dict], int | None]:
    """Newest first, keyset on id (no COUNT(*)); returns (rows, next cursor)."""
    where = Where().eq("audit_event.username", flt.username)
    if flt.action:
        if flt.action.endswith("."):
            where.add("audit_event.action LIKE {}", flt.action + "%")
        else:
            where.add("audit_event.action = {}", flt.action)
    where.eq("audit_event.entity_type", flt.entity_type).eq("audit_event.entity_id", flt.entity_id)
    if flt.date_from:
        where.add("audit_event.created_at >= {}", dt.datetime.combine(flt.date_from, dt.time.min, tzinfo=tz()))
    if flt.date_to:
        where.add("audit_event.created_at < {}",
                  dt.datetime.combine(flt.date_to + dt.timedelta(days=1), dt.time.min, tzinfo=tz()))
    if before_id:
        where.add("audit_event.id < {}", before_id)
    # the person's name next to the username; a read-only join to the shell's users table
    return await where.page("SELECT audit_event.*, app_user.full_name AS person_name FROM audit_event "
                            "LEFT JOIN app_user ON app_user.id = audit_event.user_id", "audit_event.id", limit)

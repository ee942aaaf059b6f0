"""Operator-editable settings (SPEC: every number a seed gives is data, never a constant).

Values live in `app_setting` (JSON). A domain declares each of its numbers once:

    register_setting(SettingSpec("rma.repair_days", _l("Repair window (days)"), 3, kind="int", minimum=1))

and reads it with `await get_int("rma.repair_days", 3)`. The admin page
/admin/settings lists every registered setting with its default and lets an admin
change it (validated, audited).
"""

from __future__ import annotations

import json
from contextvars import ContextVar, Token
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from typing import Any

from app.core.actor import Actor
from app.core.db import fetch, in_transaction, utcnow, write_transaction
from app.core.rows import insert, update
from app.core.tables import AppSetting


@dataclass(frozen=True)
class SettingSpec:
    key: str
    label: Any  # lazy_gettext
    default: Any
    kind: str = "int"  # int | number | decimal | text | bool
    minimum: float | None = None
    maximum: float | None = None
    help: Any = ""
    domain: str = ""


REGISTRY: dict[str, SettingSpec] = {}


class SettingError(ValueError):
    pass


def register_setting(spec: SettingSpec) -> None:
    REGISTRY.setdefault(spec.key, spec)


# One snapshot of app_setting per HTTP request (issue #15): the first read loads the whole (small) table in one
# query, later reads in the same request use it — a board asked four settings, four queries. Nothing outlives the
# request, so no worker can serve another's stale value; a write in the request drops the snapshot.
_REQUEST: ContextVar[dict | None] = ContextVar("settings_snapshot", default=None)
_LOADED = object()


def begin_request() -> Token:
    return _REQUEST.set({})


def end_request(token: Token) -> None:
    _REQUEST.reset(token)


async def get_setting(key: str, default: Any = None) -> Any:
    snapshot = _REQUEST.get()
    if snapshot is None:  # outside a request (services called from tests, scripts, seed)
        rows = await fetch("SELECT value FROM app_setting WHERE key = {}", key)
        if not rows:
            return default
        value = rows[0]["value"]
    else:
        if _LOADED not in snapshot:
            snapshot.update({row["key"]: row["value"] for row in await fetch("SELECT key, value FROM app_setting")})
            snapshot[_LOADED] = True
        if key not in snapshot:
            return default
        value = snapshot[key]
    if isinstance(value, str):
        try:
            value = json.loads(value)
        except ValueError:
            return default
    return default if value is None else value


async def setting(key: str) -> Any:
    """The current value of a registered setting, typed by its spec; its default when nobody changed it.
    Call sites name the key only: the default lives once, in the spec (issue #10, item 9)."""
    if key not in REGISTRY:
        from app.core.manifest import ensure_installed

        ensure_installed()
    spec = REGISTRY[key]  # KeyError: the key was never declared in a manifest
    value = await get_setting(key, spec.default)
    try:
        if spec.kind == "int":
            return int(value)
        if spec.kind == "number":
            return float(value)
        if spec.kind == "decimal":
            return Decimal(str(value))
        if spec.kind == "bool":
            return bool(value)
    except (TypeError, ValueError, InvalidOperation):
        return spec.default
    return value


async def get_int(key: str, default: int) -> int:
    try:
        return int(await get_setting(key, default))
    except (TypeError, ValueError):
        return default


async def get_number(key: str, default: float) -> float:
    try:
        return float(await get_setting(key, default))
    except (TypeError, ValueError):
        return default


def parse_value(spec: SettingSpec, raw: str) -> Any:
    """Form text → typed value; raises SettingError with a translated message."""
    from app.core.i18n import _

    text = (raw or "").strip()
    if spec.kind == "bool":
        return text.lower() in {"1", "true", "on", "yes"}
    if spec.kind == "text":
        if len(text) > 500:
            raise SettingError(_("At most 500 characters."))
        return text
    try:
        number = Decimal(text)
    except InvalidOperation as exc:
        raise SettingError(_("Enter a number.")) from exc
    if not number.is_finite():
        raise SettingError(_("Enter a number."))
    if spec.kind == "int" and number != number.to_integral_value():
        raise SettingError(_("Enter a whole number."))
    if spec.minimum is not None and number < Decimal(str(spec.minimum)):
        raise SettingError(_("At least %(n)s.", n=spec.minimum))
    if spec.maximum is not None and number > Decimal(str(spec.maximum)):
        raise SettingError(_("At most %(n)s.", n=spec.maximum))
    if spec.kind == "decimal":
        return str(number)
    return int(number) if spec.kind == "int" else float(number)


async def set_setting(actor: Actor, key: str, value: Any) -> None:
    """Store a setting (upsert) and audit `setting.updated`; joins the caller's transaction."""
    if in_transaction():
        await _store(actor, key, value)
    else:
        async with write_transaction():
            await _store(actor, key, value)


async def _store(actor: Actor, key: str, value: Any) -> None:
    from app.core.audit.services import record

    before = await get_setting(key)
    encoded = json.dumps(value, ensure_ascii=False)
    updated = await update(AppSetting, AppSetting.key == key, returning=AppSetting.id, value=encoded, updated_at=utcnow())
    if not updated:
        await insert(AppSetting, key=key, value=encoded, updated_at=utcnow())
    snapshot = _REQUEST.get()
    if snapshot is not None:
        snapshot.clear()
    await record(actor, "setting.updated", "app_setting", key, before={"value": before}, after={"value": value})


async def current_values() -> dict[str, Any]:
    keys = list(REGISTRY)
    if not keys:
        return {}
    rows = await fetch(
        "SELECT key, value FROM app_setting WHERE key IN (" + ", ".join(["{}"] * len(keys)) + ")", *keys
    )
    values = {}
    for row in rows:
        value = row["value"]
        values[row["key"]] = json.loads(value) if isinstance(value, str) else value
    return values

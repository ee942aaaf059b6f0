"""The customer and device lists as the pages show them (#15): every label, badge and date formatted once
per page here, so the row templates only print plain strings (no gettext, dict lookups or filters per cell)."""

from __future__ import annotations

from types import SimpleNamespace

from app.core.i18n import _
from app.customers.services import CONTRACT_TYPES, SYSTEMS

BADGE_CLASS = {"warranty": "bg-green-lt", "annual": "bg-blue-lt", "per_visit": "bg-azure-lt", "liaison": "bg-purple-lt"}


def contract_badges(types) -> list[tuple[str, str]]:
    return [(BADGE_CLASS.get(t, "bg-secondary-lt"), str(CONTRACT_TYPES.get(t, t))) for t in types or ()]


def present_customers(rows: list[dict]) -> list[SimpleNamespace]:
    labels = {t: str(label) for t, label in CONTRACT_TYPES.items()}
    for row in rows:
        row["badges"] = [(BADGE_CLASS.get(t, "bg-secondary-lt"), labels.get(t, t)) for t in row.get("contract_types") or ()]
    return [SimpleNamespace(**row) for row in rows]


def present_devices(rows: list[dict]) -> list[SimpleNamespace]:
    systems = {code: str(label) for code, label in SYSTEMS.items()}
    not_started, replace = _("not started"), _("replace")
    extended = _("Extended for unresolvable failures")
    for row in rows:
        state, end = row.get("warranty_state"), row.get("warranty_end")
        if state == "in":
            row["w_class"], row["w_text"] = "bg-green-lt", _("until %(d)s", d=end)
        elif state == "expired":
            row["w_class"], row["w_text"] = "bg-secondary-lt", _("expired %(d)s", d=end)
        else:
            row["w_class"], row["w_text"] = "bg-azure-lt", not_started
        row["system_label"] = systems.get(row.get("system"), row.get("system") or "")
        row["accepted"] = row.get("acceptance_date") or "—"
        row["extended_title"], row["replace_label"] = extended, replace
    # attribute objects, not dicts: Jinja's `d.x` on a dict first fails getattr (an exception per cell)
    return [SimpleNamespace(**row) for row in rows]

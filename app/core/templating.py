"""Jinja environment: gettext, formatting filters and the globals every page needs."""

from __future__ import annotations

import json
import re

from jinja2 import Environment, pass_context

from app.core import faults, i18n
from app.core.roles import ROLES
from app.core import permissions
from app.core.audit import labels as audit_labels
from app.core.nav import nav_for


_RULE_ID = re.compile(r"\(?\bR-[A-Z]{2,5}-\d{2}\b\)?[:：]?\s*")


@pass_context
def _can(context, *names: str) -> bool:
    """`{% if can("loaners.checkout") %}` — the signed-in user holds one of the named permissions."""
    return permissions.can(context.get("user"), *names)


def configure_environment(env: Environment) -> None:
    env.add_extension("jinja2.ext.i18n")
    env.install_gettext_callables(i18n.template_gettext, i18n.template_ngettext, newstyle=True)  # type: ignore[attr-defined]
    env.autoescape = True
    env.trim_blocks = True
    env.lstrip_blocks = True
    env.filters.update(
        money=i18n.format_money,
        datetime=i18n.format_datetime,
        date=i18n.format_date,
        role_name=lambda code: str(ROLES.get(code, code)),
        fault=faults.fault_name,  # fault codes shown by their catalogue name
        no_rule_ids=lambda text: _RULE_ID.sub("", str(text or "")).strip(),
        tojson_compact=lambda value: json.dumps(value, ensure_ascii=False, sort_keys=True),
    )
    env.globals.update(
        current_locale=i18n.current_locale,
        language_names=i18n.LANGUAGE_NAMES,
        nav_for=nav_for,
        can=_can,
        fault_choices=faults.choices,
        action_label=audit_labels.action_label,
        entity_label=audit_labels.entity_label,
        audit_entities=[(code, label) for code, label in audit_labels.ENTITIES.items()],
        static_version="1",
    )

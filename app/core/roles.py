"""The roles of SPEC.md "Who uses it"; one person may hold several."""

from app.core.i18n import lazy_gettext as _l

ROLES = {
    "desk": _l("Service desk"),
    "field": _l("Field technician"),
    "eng_manager": _l("Engineering manager"),
    "bench": _l("Bench repair"),
    "qc": _l("Quality control"),
    "warehouse": _l("Warehouse keeper"),
    "finance": _l("Finance"),
    "manager": _l("Department manager"),
    "gm": _l("General manager"),
    "admin": _l("System administrator"),
}

ROLE_DUTIES = {
    "desk": _l("Takes requests, dispatches, calls back, logs complaints and duty calls."),
    "field": _l("On-site service: fills slips and gets the customer's signature."),
    "eng_manager": _l("Assigns the slips the desk could not place."),
    "bench": _l("Repairs returned units on the bench."),
    "qc": _l("Unboxing check, QC test, burn-in and final test."),
    "warehouse": _l("Spare parts, the emergency store, the loaner pool and scrap custody."),
    "finance": _l("Issues slip books, reconciles slips, follows receivables."),
    "manager": _l("Approvals, reports and KPIs."),
    "gm": _l("Releases the emergency store, final scrap approval, escalations."),
    "admin": _l("Users, roles, settings and tariffs."),
}


def parse_roles(value: str | None) -> frozenset[str]:
    return frozenset(role for role in (value or "").split() if role in ROLES)


def join_roles(roles) -> str:
    return " ".join(role for role in ROLES if role in set(roles))

"""The tickets domain's manifest: everything it plugs into the shell (issue #13 on the kit of #10)."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.manifest import DomainManifest, SeedStep
from app.core.nav import HomePanel, NavEntry
from app.core.periodic import Periodic
from app.core.sections import CustomerSection
from app.core.settings import SettingSpec
from app.tickets.tables import ALL_TABLES

PERMS = {
    "tickets.view": {"desk", "field", "eng_manager", "manager", "gm", "admin"},
    "tickets.read_all": {"desk", "eng_manager", "manager", "gm", "admin"},  # a technician reads only their own
    "tickets.intake": {"desk", "eng_manager"},
    "tickets.dispatch": {"desk", "eng_manager"},  # R-TKT-03
    "tickets.visit": {"field"},  # R-TKT-04/06: only on visits assigned to them
    "tickets.pause": {"desk", "eng_manager", "field"},
    "tickets.close": {"desk", "eng_manager"},
}

# R-TKT-05 / R-TKT-08 numbers: data the operator can change (defaults from SPEC).
SETTINGS = [
    SettingSpec("tickets.respond_hours", _l("Tickets: respond within (hours) without a contract SLA"), 1, minimum=1,
                maximum=72, help=_l("003 §11 (001 says 2 h).")),
    SettingSpec("tickets.onsite_hours_city", _l("Tickets: on site within (hours), city"), 2, minimum=1, maximum=72),
    SettingSpec("tickets.onsite_hours_suburb", _l("Tickets: on site within (hours), suburbs"), 12, minimum=1, maximum=72),
    SettingSpec("tickets.onsite_hours_max", _l("Tickets: on site never later than (hours)"), 36, minimum=1, maximum=240,
                help=_l("001 §3.1.6.")),
    SettingSpec("tickets.fix_hours", _l("Tickets: fixed within (hours) after arrival, else a free loaner"), 2, minimum=1,
                maximum=72, help=_l("001 §6.5.1.")),
    SettingSpec("tickets.loaner_hours", _l("Tickets: same-model loaner within (hours) when it cannot be solved"), 72,
                minimum=1, maximum=720, help=_l("001 §3.1.6.")),
    SettingSpec("tickets.mobile_depart_minutes", _l("Tickets: mobile service leaves within (minutes) of dispatch"), 10,
                minimum=1, maximum=240, help=_l("004 §二.")),
    SettingSpec("tickets.resident_onsite_minutes", _l("Tickets: resident service on site within (minutes)"), 5,
                minimum=1, maximum=240, help=_l("004 §二.")),
    SettingSpec("tickets.warn_minutes", _l("Tickets: list as breaching this many minutes before a deadline"), 30,
                minimum=1, maximum=1440),
    SettingSpec("tickets.score_very", _l("Tickets: score for “very satisfied”"), 5, minimum=0, maximum=100),
    SettingSpec("tickets.score_satisfied", _l("Tickets: score for “satisfied”"), 3, minimum=0, maximum=100),
    SettingSpec("tickets.score_average", _l("Tickets: score for “average”"), 2, minimum=0, maximum=100),
    SettingSpec("tickets.score_unhappy", _l("Tickets: score for “unhappy”"), 0, minimum=0, maximum=100),
    SettingSpec("tickets.sweep_seconds", _l("Tickets: record SLA breaches every (seconds) while the app runs"), 60,
                minimum=10, maximum=3600,
                help=_l("Each worker process sweeps; recording is idempotent. Cron can run python -m app.tickets sweep too.")),
    SettingSpec("tickets.signature_max_kb", _l("Tickets: largest customer signature (KB)"), 500, minimum=10, maximum=5000),
]


def _labelled(rows: list[dict]) -> list[dict]:
    from app.core.status import label_of
    from app.tickets.status import LABELS

    for row in rows:
        row["status_label"] = label_of(LABELS, row["status"])
    return rows


async def _customer_tickets(customer_id: int, user) -> dict | None:
    from app.tickets.queries import tickets_for_customer

    return {"rows": _labelled(await tickets_for_customer(customer_id)), "customer_id": customer_id}


async def _device_tickets(device_id: int, user) -> dict | None:
    from app.tickets.queries import tickets_for_device

    return {"rows": _labelled(await tickets_for_device(device_id)), "device_id": device_id}


async def _home_panel(user) -> dict | None:
    from app.tickets.queries import TicketFilter, list_tickets

    if "field" in user.roles and not (user.roles & {"desk", "eng_manager"}):
        rows, _cursor = await list_tickets(TicketFilter(view="mine"), user_id=user.id, limit=8)
    else:
        rows, _cursor = await list_tickets(TicketFilter(view="unassigned"), user_id=user.id, limit=8)
    return {"rows": rows}


def _controllers() -> list:
    from app.tickets.controllers import CONTROLLERS

    return CONTROLLERS


MANIFEST = DomainManifest(
    name="tickets",
    controllers=_controllers(),
    tables=ALL_TABLES,
    perms=PERMS,
    nav=[NavEntry("tickets", _l("Tickets"), "/tickets", "tickets.view", order=20),
         NavEntry("tickets_my", _l("My day"), "/tickets/my", "tickets.visit", order=21)],
    panels=[HomePanel("tickets", _l("Service tickets"), "tickets/_home_panel.html", "tickets.view", _home_panel, order=20)],
    customer_sections=[CustomerSection("tickets", _l("Service tickets"), "tickets/_customer_section.html", "tickets.view",
                                       _customer_tickets, order=10)],
    device_sections=[CustomerSection("tickets", _l("Service tickets"), "tickets/_customer_section.html", "tickets.view",
                                     _device_tickets, order=10)],
    settings=SETTINGS,
    seed=[SeedStep("tickets", "seed.tickets:seed_tickets", order=60)],
    periodic=[Periodic("tickets.sla_sweep", "app.tickets.services:sweep_recent", every="tickets.sweep_seconds")],
)

"""The customers domain's manifest: everything it plugs into the shell (issue #10)."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.manifest import DomainManifest, SeedStep
from app.core.nav import HomePanel, NavEntry
from app.core.roles import ROLES
from app.core.settings import SettingSpec
from app.customers import renewals
from app.customers.controllers import CONTROLLERS
from app.customers.tables import TABLES as TABLES

# Who may do what (README.customers.md); the role sets live only here.
PERMS = {
    "customers.view": set(ROLES),  # every signed-in role reads customers, contracts and devices
    "customers.edit": {"desk", "manager"},  # customers, contracts, stages, devices, documents, imports
    "customers.export": {"desk", "manager", "finance", "admin"},
    "customers.quote": {"desk", "manager", "finance", "admin"},  # quotes and the price list
    "customers.price_edit": {"admin"},
    "customers.renewals": {"desk", "manager"},
    "customers.configure": {"manager", "admin"},  # service offices, the reminder window
    "customers.record_event": {"desk", "manager", "field", "bench", "eng_manager"},
}

SETTINGS = [
    SettingSpec("customers.renewal_days", _l("Renewal reminder: days before the end"), 10,
                minimum=1, maximum=120,
                help=_l("Contracts and device warranties ending within this many days are listed on the renewals page.")),
    SettingSpec("customers.default_warranty_months", _l("Default hardware warranty (months)"), 36,
                minimum=1, maximum=120,
                help=_l("Used when neither the device nor its contract sets a warranty term.")),
    SettingSpec("customers.warranty_extension_days", _l("Warranty extension per unclearable failure (days)"), 60,
                minimum=0, maximum=365,
                help=_l("Added to a device's warranty for each failure that could not be cleared while it was covered.")),
    SettingSpec("customers.repeat_repair_count", _l("Repairs of the same fault before a new unit is proposed"), 2,
                minimum=1, maximum=10,
                help=_l("When a device fails again with a fault repaired this many times, a free replacement with a "
                        "new unit of the same brand and model is proposed.")),
    SettingSpec("customers.upload_max_mb", _l("Largest hand-over document (MB)"), 20,
                minimum=1, maximum=60, help=_l("Uploads larger than this are refused.")),
]

MANIFEST = DomainManifest(
    name="customers",
    controllers=CONTROLLERS,
    tables=TABLES,
    perms=PERMS,
    nav=[
        NavEntry("customers", _l("Customers"), "/customers", "customers.view", order=20),
        NavEntry("devices", _l("Devices"), "/devices", "customers.view", order=21),
        NavEntry("renewals", _l("Renewals"), "/renewals", "customers.renewals", order=22),
    ],
    panels=[HomePanel("renewals", _l("Renewals due"), "customers/_home_panel.html", "customers.renewals",
                      renewals.home_panel, order=30)],
    settings=SETTINGS,
    seed=[SeedStep("customers", "seed.customers:seed_customers", order=10)],
)

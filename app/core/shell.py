"""The shell's own manifest: sign-in, users, the audit log, settings, the home page and health check."""

from __future__ import annotations

from app.core.accounts.controllers import AuthController, ThrottleController, UserAdminController
from app.core.accounts.tables import AppUser, LoginAttempt, LoginThrottle, UserSession
from app.core.audit.controllers import AuditController
from app.core.audit.tables import AuditEvent
from app.core.controllers import SettingsController
from app.core.home import HomeController, my_recent_activity
from app.core.i18n import lazy_gettext as _l
from app.core.manifest import DomainManifest
from app.core.nav import HomePanel, NavEntry
from app.core.permissions import SIGNED_IN
from app.core.printing import SETTINGS as PRINT_SETTINGS
from app.core.manifest import SeedStep
from app.core.tables import AppSetting, DocCounter, DocNumber, DocSeries, StatusChange

MANIFEST = DomainManifest(
    name="shell",
    controllers=[HomeController, AuthController, UserAdminController, ThrottleController, AuditController, SettingsController],
    tables=[AppUser, UserSession, LoginAttempt, LoginThrottle, AuditEvent, AppSetting, DocSeries, DocCounter, DocNumber, StatusChange],
    perms={
        "shell.audit": {"manager", "admin"},
        "shell.users": {"admin"},
        "shell.settings": {"admin"},
    },
    nav=[
        NavEntry("home", _l("Home"), "/", SIGNED_IN, order=0),
        NavEntry("audit", _l("Audit log"), "/audit", "shell.audit", order=900),
        NavEntry("users", _l("Users"), "/admin/users", "shell.users", order=910),
        NavEntry("throttles", _l("Sign-in throttles"), "/admin/throttles", "shell.users", order=915),
        NavEntry("settings", _l("Settings"), "/admin/settings", "shell.settings", order=920),
    ],
    settings=PRINT_SETTINGS,
    seed=[SeedStep("company", "seed.company:seed_company", order=5)],
    panels=[HomePanel("recent", _l("Your recent activity"), "_home_recent.html", SIGNED_IN, my_recent_activity, order=1000)],
)

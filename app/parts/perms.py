"""The parts domain's permission names and their roles (listed in the manifest's `perms=`).

`allowed()` is what the services ask: core's `can()`, after making sure these names are declared —
services also run without an app (seeds, the reconcile command, other domains' service tests), and
core's registries are filled only when `create_app()` installs the manifests. `ensure_installed()`
does the same for the settings before a service reads one. Both are idempotent.
"""

from __future__ import annotations

from typing import Any

from app.core import permissions

READERS = {"desk", "field", "eng_manager", "bench", "qc", "warehouse", "manager", "gm"}

PERMS: dict[str, set[str]] = {
    "parts.view": READERS,  # catalogue, stock, locations, units, labels, issue notes
    "parts.move": {"warehouse", "manager", "gm"},  # book movements; reorder list; reconciliation
    "parts.edit": {"warehouse", "manager"},  # catalogue, locations, keepers, minimums
    "parts.purchases": {"warehouse", "manager", "gm"},  # purchase request pages
    "parts.purchase.request": {"warehouse", "manager"},
    "parts.purchase.approve": {"manager", "gm"},
    "parts.purchase.receive": {"warehouse"},
    "parts.emergency.request": {"desk", "field", "eng_manager", "warehouse", "manager", "gm"},
    "parts.emergency.approve": {"gm"},  # R-INV-05: only the general manager releases the emergency store
    "parts.emergency.issue": {"warehouse"},
    "parts.emergency.cancel_any": {"warehouse", "manager", "gm"},  # besides the requester
    "parts.stocktake": {"warehouse", "manager", "gm"},
    "parts.stocktake.approve": {"manager", "gm"},
    "parts.home.warehouse": {"warehouse"},
    "parts.home.gm": {"gm"},
    "parts.home.manager": {"manager"},
}


def allowed(who: Any, name: str) -> bool:
    if name not in permissions.PERMISSIONS:
        permissions.declare(PERMS)
    return permissions.can(who, name)


def ensure_installed() -> None:
    """Install the parts manifest (as create_app() does) when a service runs without an app."""
    from app.core.settings import REGISTRY

    if "parts.min_stock_percent" not in REGISTRY:
        from app.core.manifest import install
        from app.parts.manifest import MANIFEST

        install(MANIFEST)

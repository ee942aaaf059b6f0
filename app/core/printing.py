"""What every printout shares: the issuing company's letterhead and the label stock's page size (issue #12).

The values are operator settings (`company.*`, `print.*`, declared in the shell's manifest, edited at
/admin/settings). A print route passes `**await paper()` to its template; templates/print/base.html
prints the letterhead, templates/print/labels_base.html sizes the label page.
"""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.settings import SettingSpec, setting

COMPANY_KEYS = ("name", "address", "phone", "bank_name", "bank_account", "tax_id")

SETTINGS = [
    SettingSpec("company.name", _l("Printouts: company name"), "", kind="text"),
    SettingSpec("company.address", _l("Printouts: company address"), "", kind="text"),
    SettingSpec("company.phone", _l("Printouts: company phone"), "", kind="text"),
    SettingSpec("company.bank_name", _l("Printouts: bank (on statements)"), "", kind="text"),
    SettingSpec("company.bank_account", _l("Printouts: bank account (on statements)"), "", kind="text"),
    SettingSpec("company.tax_id", _l("Printouts: taxpayer ID"), "", kind="text"),
    SettingSpec("print.label_width_mm", _l("Labels: label width (mm)"), 60, kind="int", minimum=20, maximum=200),
    SettingSpec("print.label_height_mm", _l("Labels: label height (mm)"), 40, kind="int", minimum=15, maximum=200),
    SettingSpec("print.label_copies_max", _l("Labels: most copies in one print"), 60, kind="int", minimum=1, maximum=500),
]


async def company() -> dict[str, str]:
    return {key: str(await setting(f"company.{key}") or "") for key in COMPANY_KEYS}


async def label_page() -> dict[str, int]:
    return {"width_mm": await setting("print.label_width_mm"), "height_mm": await setting("print.label_height_mm"),
            "copies_max": await setting("print.label_copies_max")}


async def paper() -> dict:
    """The context every print template reads: `company` (letterhead) and `label_page` (label stock)."""
    return {"company": await company(), "label_page": await label_page()}


def copies(requested: int | None, maximum: int) -> int:
    """How many copies of each label: at least one, at most the setting (a typo must not print a roll)."""
    try:
        n = int(requested or 1)
    except (TypeError, ValueError):
        n = 1
    return max(1, min(n, maximum))

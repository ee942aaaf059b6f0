"""The fault catalogue (X-04, issue #12): fault codes stay in the data and in reports (NO-POWER, HDD-ERR …), people see
names — Chinese in zh, English in en. Shared by the bench, tickets and the device history, so it lives in the shell.

Fault fields are free text ("code or short name"): a typed catalogue name (in either language) is stored as its code
(`to_code`), anything else is kept as typed; `fault_name` (also the Jinja filter `fault`) shows a code's name and
passes other text through unchanged."""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l, translations

# code → name (English source; the Chinese names are in app/core/translations/zh)
CATALOGUE = {
    "NO-POWER": _l("No power"),
    "NO-VIDEO": _l("No video"),
    "NO-SOUND": _l("No sound"),
    "REBOOT": _l("Keeps rebooting"),
    "HDD-ERR": _l("Hard disk error"),
    "HDD-FAIL": _l("Hard disk failure"),
    "NET-DOWN": _l("Network down"),
    "IR-FAIL": _l("Infrared night vision failed"),
    "PTZ-STUCK": _l("Pan/tilt stuck"),
    "KEYPAD": _l("Keypad not responding"),
    "FAN": _l("Fan noise or failure"),
    "ALARM-FALSE": _l("False alarms"),
    "CARD-READER": _l("Card reader failure"),
    "REPAIR": _l("Repair"),
    "REPLACED": _l("Replaced with a new unit"),
}
_SOURCE = {code: name._args[0] for code, name in CATALOGUE.items()}  # LazyProxy(_translate, message, …)


def fault_name(code: object) -> str:
    """The catalogue name of `code` in the current language; other text unchanged."""
    text = str(code or "").strip()
    name = CATALOGUE.get(text.upper())
    return str(name) if name is not None else text


def to_code(text: str) -> str:
    """A typed code or catalogue name (English or Chinese) → its code; other text unchanged (stripped)."""
    value = (text or "").strip()
    if value.upper() in CATALOGUE:
        return value.upper()
    zh = translations("zh")
    for code, source in _SOURCE.items():
        if value.lower() == source.lower() or value == zh.gettext(source):
            return code
    return value


def choices() -> list[tuple[str, str]]:
    """(code, name) for pickers, in catalogue order."""
    return [(code, str(name)) for code, name in CATALOGUE.items() if code not in ("REPAIR", "REPLACED")]

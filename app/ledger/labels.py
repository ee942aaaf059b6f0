"""Display labels for ledger states (the state labels live in app.ledger.status) (gettext at display time) and fast formatters for long tables."""

from functools import lru_cache

from app.core.i18n import lazy_gettext as _l
from app.ledger.status import BOOK_LABELS, EXTENSION_LABELS, SLIP_LABELS, STATEMENT_LABELS

SLIP_STATES = SLIP_LABELS
SLIP_BADGES = {"unused": "bg-secondary-lt", "used": "bg-green-lt", "void": "bg-orange-lt", "transferred": "bg-blue-lt",
               "returned": "bg-purple-lt", "missing": "bg-red text-white"}
BOOK_STATUS = BOOK_LABELS
BOOK_KINDS = {"regular": _l("Regular"), "backup": _l("Backup book")}
CLASSES = {"monthly": _l("Monthly-settled"), "retail": _l("Retail")}
METHODS = {"cash": _l("Cash"), "transfer": _l("Bank transfer"), "cheque": _l("Cheque"), "other": _l("Other")}
STATEMENT_STATUS = STATEMENT_LABELS
STATEMENT_BADGES = {"draft": "bg-yellow-lt", "reviewed": "bg-orange-lt", "checked": "bg-blue-lt", "sent": "bg-azure-lt",
                    "settled": "bg-green-lt", "cancelled": "bg-secondary-lt"}
EXT_STATUS = EXTENSION_LABELS
BUCKETS = {"b0": _l("0–30 days"), "b1": _l("31–60 days"), "b2": _l("61–90 days"), "b3": _l("Over 90 days")}
SOURCES = {"ticket": _l("Service ticket"), "rma": _l("Return repair"), "sales_confirmation": _l("Sales confirmation"),
           "manual": _l("Manual"), "bench": _l("Bench repair"),
           "other": _l("Other job")}


def fen(value) -> str:
    """Integer fen → '¥1,234.50': integer arithmetic, exact, and the same text as app.core.i18n.format_money
    for both UI locales (',' grouping, '.' decimals) at a fraction of babel's cost on long tables."""
    n = int(value or 0)
    sign = "-" if n < 0 else ""
    n = abs(n)
    return f"{sign}¥{n // 100:,}.{n % 100:02d}"


@lru_cache(maxsize=4096)
def _date(value, locale: str) -> str:
    from app.core.i18n import format_date

    return format_date(value)


def d(value) -> str:
    """A date as the `|date` filter shows it, memoised (a month has ~30 distinct dates, a table 500 rows)."""
    if value is None or value == "":
        return ""
    from app.core.i18n import current_locale
    from app.core.dates import as_date

    return _date(as_date(value), current_locale())


def period(value) -> str:
    """A statement's month as people say it: 2026年10月 / Oct 2026 (never its last day)."""
    if value is None or value == "":
        return ""
    from babel.dates import format_skeleton

    from app.core.dates import as_date
    from app.core.i18n import BABEL_LOCALE, current_locale

    return format_skeleton("yMMM", as_date(value), locale=BABEL_LOCALE[current_locale()])


def context() -> dict:
    return {"fen": fen, "d": d, "period": period, "slip_states": SLIP_STATES, "slip_badges": SLIP_BADGES, "book_status": BOOK_STATUS, "book_kinds": BOOK_KINDS,
            "classes": CLASSES, "methods": METHODS, "statement_status": STATEMENT_STATUS,
            "statement_badges": STATEMENT_BADGES, "ext_status": EXT_STATUS, "bucket_names": BUCKETS, "sources": SOURCES}

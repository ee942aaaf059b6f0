"""Languages (X-04): English source strings, Simplified Chinese the default, English selectable.

The current locale lives in a context variable set per request by `LocaleMiddleware`;
`_()` in Python and `_()` / `gettext()` in templates read it. Catalogs are compiled
from `app/translations/<lang>/LC_MESSAGES/messages.po` by `make` (pybabel compile).
"""

from __future__ import annotations

import datetime as dt
from contextvars import ContextVar
from decimal import Decimal
from functools import lru_cache
from pathlib import Path
from typing import Any
from zoneinfo import ZoneInfo

from babel import Locale
from babel.dates import format_date as _format_date
from babel.numbers import format_decimal
from babel.support import LazyProxy, NullTranslations, Translations

from app.config import get_settings

LOCALES = ("zh", "en")
BABEL_LOCALE = {"zh": "zh_Hans_CN", "en": "en_US"}
LANGUAGE_NAMES = {"zh": "简体中文", "en": "English"}
TRANSLATIONS_DIR = Path(__file__).resolve().parent / "translations"

_current: ContextVar[str | None] = ContextVar("shouhou_locale", default=None)


def normalize(lang: str | None) -> str | None:
    if not lang:
        return None
    lang = lang.strip().lower().replace("_", "-")
    if lang.startswith("zh"):
        return "zh"
    if lang.startswith("en"):
        return "en"
    return None


def current_locale() -> str:
    return _current.get() or get_settings().default_locale


def set_locale(lang: str) -> Any:
    return _current.set(normalize(lang) or get_settings().default_locale)


def reset_locale(token: Any) -> None:
    _current.reset(token)


@lru_cache(maxsize=8)
def translations(lang: str) -> NullTranslations:
    """The shell's catalog merged with every domain's (`app/<domain>/translations`)."""
    if lang == "en":
        return NullTranslations()
    merged = Translations.load(str(TRANSLATIONS_DIR), [lang], domain="messages")
    for domain_dir in sorted(TRANSLATIONS_DIR.parent.glob("*/translations")):
        extra = Translations.load(str(domain_dir), [lang], domain="messages")
        if isinstance(extra, Translations) and isinstance(merged, Translations):
            merged.merge(extra)
        elif isinstance(extra, Translations):
            merged = extra
    return merged


def gettext(message: str, **variables: Any) -> str:
    text = translations(current_locale()).gettext(message)
    return text % variables if variables else text


def ngettext(singular: str, plural: str, n: int, **variables: Any) -> str:
    text = translations(current_locale()).ngettext(singular, plural, n)
    variables.setdefault("num", n)
    return text % variables


_ = gettext


def lazy_gettext(message: str) -> LazyProxy:
    """For module-level strings (role names, menu labels): translated when shown."""
    return LazyProxy(gettext, message, enable_cache=False)


def babel_locale() -> Locale:
    return Locale.parse(BABEL_LOCALE[current_locale()])


@lru_cache(maxsize=1)
def tz() -> ZoneInfo:
    return ZoneInfo(get_settings().timezone)


def format_money(amount: Decimal | int | str | None) -> str:
    """¥ and two decimals, grouped per locale; money is always Decimal (never float)."""
    if amount is None or amount == "":
        return ""
    value = Decimal(str(amount))
    sign = "-" if value < 0 else ""
    return f"{sign}¥{format_decimal(abs(value), format='#,##0.00', locale=babel_locale())}"


def format_datetime(value: dt.datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if value.tzinfo is None:
        value = value.replace(tzinfo=dt.timezone.utc)
    # ISO-like digits read the same in both languages (and strftime is ~20× faster than Babel patterns).
    local = value.astimezone(tz())
    return local.strftime("%Y-%m-%d %H:%M" if fmt == "short" else "%Y-%m-%d %H:%M:%S")


def format_date(value: dt.date | dt.datetime | None, fmt: str = "medium") -> str:
    if value is None:
        return ""
    if isinstance(value, dt.datetime):
        if value.tzinfo is None:
            value = value.replace(tzinfo=dt.timezone.utc)
        value = value.astimezone(tz()).date()
    return _format_date(value, format=fmt, locale=babel_locale())

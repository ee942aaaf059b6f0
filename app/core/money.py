"""Money (R-TKT-13): `Decimal` in Python, integer fen (分) in the database.

Why fen and not NUMERIC: Piccolo's SQLite adapter turns Decimal into float and
SQLite's NUMERIC affinity stores REAL, so SUM() over money would drift. Integer fen
is exact on SQLite and PostgreSQL alike, and SUM() stays exact.
Columns holding money are named `*_fen` (INTEGER / BIGINT).
"""

from __future__ import annotations

from decimal import ROUND_HALF_UP, Decimal, InvalidOperation

CENT = Decimal("0.01")
# Far above any after-sales amount, far below BIGINT fen (9.2e18): a typo such as 1e20 gets a
# form message instead of an overflow in the database.
MAX_AMOUNT = Decimal("1000000000000")  # ¥1e12


class MoneyError(ValueError):
    pass


def parse_money(text: str | int | Decimal | None) -> Decimal:
    """'1,234.5' / '¥12' / Decimal → Decimal rounded to the fen; raises MoneyError on junk."""
    if text is None:
        raise MoneyError("empty")
    if isinstance(text, (int, Decimal)):
        value = Decimal(text)
    else:
        cleaned = text.strip().replace(",", "").replace("¥", "").replace("￥", "").replace(" ", "")
        if not cleaned:
            raise MoneyError("empty")
        try:
            value = Decimal(cleaned)
        except InvalidOperation as exc:
            raise MoneyError(text) from exc
    if not value.is_finite():
        raise MoneyError(str(text))
    if abs(value) >= MAX_AMOUNT:
        raise MoneyError(str(text))
    if value.as_tuple().exponent < -2 and value != value.quantize(CENT, rounding=ROUND_HALF_UP):
        # ARCHITECTURE rule 11 / X-05: more than two decimals is a form error, never a silent rounding
        raise MoneyError(str(text))
    try:
        return value.quantize(CENT, rounding=ROUND_HALF_UP)
    except InvalidOperation as exc:  # '1e30': more digits than the context holds
        raise MoneyError(str(text)) from exc


def to_fen(amount: Decimal | int | str) -> int:
    return int((parse_money(amount) * 100).to_integral_value(rounding=ROUND_HALF_UP))


def from_fen(fen: int | None) -> Decimal:
    return (Decimal(int(fen or 0)) / 100).quantize(CENT)

"""Money parsing (R-TKT-13): junk is a MoneyError (a form message), never an unhandled exception."""

from __future__ import annotations

from decimal import Decimal

import pytest

from app.core.money import MoneyError, parse_money, to_fen


def test_huge_exponent_is_a_money_error_not_a_crash():
    """'1e30' cannot be quantized to the fen: MoneyError (forms show 'enter an amount'), not InvalidOperation (500)."""
    for text in ("1e30", "9E+99", Decimal("1E+40")):
        with pytest.raises(MoneyError):
            parse_money(text)


def test_ordinary_amounts_still_parse():
    """Commas and the yuan sign are read; trailing zeros past the fen are fine; a third real decimal is refused (X-05)."""
    assert parse_money("¥1,234.50") == Decimal("1234.50")
    assert parse_money("12.300") == Decimal("12.30")
    for text in ("¥1,234.505", "1.1234567890", "0.005"):
        with pytest.raises(MoneyError):
            parse_money(text)
    assert to_fen("12.30") == 1230


def test_amounts_too_large_for_the_database_are_refused():
    """1e20 parses as a number but would overflow BIGINT fen: MoneyError, so every money form shows a message."""
    for text in ("1e20", "1000000000000", "-1000000000000"):
        with pytest.raises(MoneyError):
            parse_money(text)
    assert to_fen("999999999999.99") == 99999999999999


async def test_fragment_pages_vary_on_hx_request(login_as):
    """A URL that answers a page or an HTMX fragment says so (Vary), so back/refresh never show a bare fragment."""
    client = await login_as("manager")
    assert "HX-Request" in (await client.get("/audit")).headers.get("vary", "")

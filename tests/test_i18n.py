"""X-04: Simplified Chinese by default, English selectable and remembered; locale formatting."""

from __future__ import annotations

import datetime as dt
from decimal import Decimal

import pytest

from app.core import i18n
from app.core.db import fetch
from app.core.money import MoneyError, from_fen, parse_money, to_fen


async def test_lang_query_switches_any_page_and_sets_cookie(anon):
    """`?lang=en` switches the page to English and sets the language cookie; `?lang=zh` back."""
    response = await anon.get("/login", params={"lang": "en"})
    assert "Sign in to your account" in response.text
    assert response.headers["content-language"] == "en"
    assert "shouhou_lang=en" in response.headers.get("set-cookie", "")
    again = await anon.get("/login")
    assert "Sign in to your account" in again.text
    back = await anon.get("/login", params={"lang": "zh"})
    assert "登录您的账号" in back.text


async def test_language_is_remembered_per_user(login_as, app):
    """The chosen language is stored on the user and follows them to a new browser."""
    client = await login_as("finance")
    await client.post_form("/lang", {"lang": "en"})  # the switch POSTs (a GET ?lang= is side-effect free, #11)
    row = (await fetch("SELECT lang FROM app_user WHERE username = {}", client.username))[0]
    assert row["lang"] == "en"
    from tests.conftest import login

    fresh = await login(app, client.username)
    response = await fresh.get("/")
    assert "Sign out" in response.text


def test_money_formatting_per_locale():
    """Money is Decimal, shown with ¥ and two decimals; fen conversion is exact."""
    token = i18n.set_locale("zh")
    try:
        assert i18n.format_money(Decimal("1234.5")) == "¥1,234.50"
        assert i18n.format_money(Decimal("-0.1")) == "-¥0.10"
    finally:
        i18n.reset_locale(token)
    assert to_fen("0.1") + to_fen("0.2") == to_fen("0.3") == 30
    assert from_fen(12345) == Decimal("123.45")
    assert parse_money("¥1,000.50") == Decimal("1000.50")
    with pytest.raises(MoneyError):  # more than two decimals is a form error, not a rounding
        parse_money("¥1,000.005")


def test_dates_shown_in_local_time_zone():
    """UTC times are shown in Asia/Shanghai."""
    token = i18n.set_locale("en")
    try:
        assert i18n.format_datetime(dt.datetime(2026, 1, 1, 16, 30, tzinfo=dt.timezone.utc), "short") == "2026-01-02 00:30"
    finally:
        i18n.reset_locale(token)


def test_every_catalog_entry_is_translated():
    """No untranslated entries in any Chinese catalog (the build compiles them)."""
    from pathlib import Path

    from babel.messages.pofile import read_po

    root = Path(__file__).resolve().parent.parent / "app"
    catalogs = list(root.glob("*/translations/zh/LC_MESSAGES/messages.po"))
    assert root / "core" / "translations" / "zh" / "LC_MESSAGES" / "messages.po" in catalogs
    missing = []
    for path in catalogs:
        with path.open("rb") as fh:
            for message in read_po(fh):
                if message.id and not message.string:
                    missing.append(f"{path.parent.parent.parent.parent.name}: {message.id}")
    assert not missing, missing


def test_each_domain_reads_its_own_catalog_first():
    """The same English text may mean different things per domain: a domain's own catalog wins,
    texts it lacks fall back to the shell's."""
    from app.core.i18n import _domain_of_module, _domain_of_template, translations

    assert _domain_of_template("parts/detail.html") == "parts"
    assert _domain_of_template("print/ledger/statement.html") == "ledger"
    assert _domain_of_template("base.html") is None and _domain_of_template("_macros/forms.html") is None
    assert _domain_of_module("app.parts.services") == "parts" and _domain_of_module("app.core.web") is None
    shell = translations("zh")
    assert shell.gettext("Sign out") == "退出"
    for domain_dir in i18n.APP_DIR.glob("*/translations"):
        own = translations("zh", domain_dir.parent.name)
        assert own.gettext("Sign out") == "退出"  # falls back to the shell


async def test_service_message_reaches_the_user_on_409(app):
    """A 4xx raised with an explanation shows that explanation, not only the generic text."""
    from litestar import Request
    from litestar.exceptions import HTTPException

    from app.core.errors import http_error
    from tests.conftest import Client

    await Client(app).get("/login")  # app warm
    scope = {"type": "http", "method": "GET", "path": "/x", "headers": [], "query_string": b"", "app": app,
             "litestar_app": app, "state": {}, "request_id": "r1", "user": None, "path_params": {}}
    request = Request(scope)
    response = http_error(request, HTTPException(status_code=409, detail="已被 li.na 于 10:42 推进"))
    assert response.status_code == 409 and "已被 li.na 于 10:42 推进" in response.content

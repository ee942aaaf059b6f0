"""Operator-editable settings: typed, validated, audited; admin only."""

from __future__ import annotations

import pytest

from app.core.audit.services import Actor
from app.core import settings
from app.core.db import fetch
from seed.factories import unique


@pytest.fixture
def spec():
    key = f"test.{unique('k')}"
    item = settings.SettingSpec(key, "Test window (days)", 3, kind="int", minimum=1, maximum=30)
    settings.register_setting(item)
    yield item
    settings.REGISTRY.pop(key, None)


async def test_defaults_then_stored_values(spec):
    """Unset → the declared default; set → the stored value; set again → upsert."""
    assert await settings.get_int(spec.key, 3) == 3
    await settings.set_setting(Actor(None, "t"), spec.key, 5)
    await settings.set_setting(Actor(None, "t"), spec.key, 6)
    assert await settings.get_int(spec.key, 3) == 6
    assert len(await fetch("SELECT 1 FROM app_setting WHERE key = {}", spec.key)) == 1
    events = await fetch("SELECT before, after FROM audit_event WHERE action = 'setting.updated' AND entity_id = {}", spec.key)
    assert len(events) == 2


def test_parse_value_validates_kind_and_range(spec):
    """Whole numbers within the range only."""
    assert settings.parse_value(spec, " 7 ") == 7
    for bad in ("abc", "2.5", "0", "31", ""):
        with pytest.raises(settings.SettingError):
            settings.parse_value(spec, bad)


async def test_admin_edits_settings_page(login_as, spec):
    """Admin sees every registered setting and saves a change; bad input → 400, nothing stored."""
    admin = await login_as("admin")
    page = await admin.get("/admin/settings")
    assert page.status_code == 200 and spec.key in page.text
    bad = await admin.post_form("/admin/settings", {spec.key: "99"})
    assert bad.status_code == 400 and "is-invalid" in bad.text
    assert not await fetch("SELECT 1 FROM app_setting WHERE key = {}", spec.key)
    ok = await admin.post_form("/admin/settings", {spec.key: "12"})
    assert ok.status_code == 303
    assert await settings.get_int(spec.key, 3) == 12


async def test_settings_page_refused_to_other_roles(login_as, spec):
    """Only admin edits settings."""
    client = await login_as("manager")
    assert (await client.get("/admin/settings")).status_code == 403
    assert (await client.post_form("/admin/settings", {spec.key: "4"})).status_code == 403
    assert await settings.get_int(spec.key, 3) == 3

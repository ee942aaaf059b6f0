"""The bench on the domain kit (issue #10): named permissions with today's role sets, settings in the
manifest, every move through core.status.move(), a form's version required, other domains' cards."""

from __future__ import annotations

import pytest

from app.core.actor import Actor
from app.core.db import fetch
from app.core.errors import DomainError, Stale
from app.core.i18n import _
from app.core.sections import PAGE_SECTIONS, CustomerSection
from app.rma import services as svc
from app.rma.manifest import MANIFEST
from tests.rma.factories import make_rma

HX = {"HX-Request": "true"}


def test_permission_names_keep_the_old_role_sets():
    """Same access as before the kit: each name holds exactly the roles of the tuple it replaced."""
    read = {"desk", "bench", "qc", "manager", "finance", "warehouse", "gm", "eng_manager"}
    expected = {
        "rma.view": read, "rma.bench": {"bench", "qc"}, "rma.receive": {"bench", "qc", "desk"},
        "rma.ship": {"bench", "qc", "desk"}, "rma.callback": {"desk"}, "rma.close": {"desk", "bench", "qc", "manager"},
        "rma.quote": {"desk"}, "rma.consult": {"desk"}, "rma.pay": {"finance"}, "rma.approve": {"manager"},
        "rma.replacements": {"manager", "bench", "qc"}, "rma.burn_in.view": {"manager", "admin", "bench", "qc"},
        "rma.burn_in.edit": {"manager", "admin"}, "rma.report": {"manager", "qc", "bench", "gm"},
    }
    for name, roles in expected.items():
        assert set(MANIFEST.perms[name]) == roles, name
    for code, action in svc.ACTIONS.items():
        assert action.perm in MANIFEST.perms, code


def test_settings_declared_once_in_the_manifest():
    """Every rma.* key the migration seeds (plus the photo limit and the board's cards per column, #15) is a spec with a
    label and help."""
    specs = {spec.key: spec for spec in MANIFEST.settings}
    assert set(specs) == {"rma.burn_in_hours", "rma.repair_days", "rma.ship_days", "rma.photo_max_mb",
                          "rma.board_cards_per_column"}
    assert all(str(spec.label) and str(spec.help) for spec in specs.values())
    assert (specs["rma.burn_in_hours"].default, specs["rma.repair_days"].default, specs["rma.ship_days"].default) == (24, 3, 2)


async def test_rules_read_the_settings():
    assert await svc.rules() == {"burn_in_hours": 24, "repair_days": 3, "ship_days": 2}


async def test_move_writes_history_and_the_movers_name():
    """core.status.move(): one status_change row per move; the card shows the person's name (X-04)."""
    rma_id = await make_rma("inspected")
    rma = await svc.get_rma(rma_id)
    li = Actor(user_id=None, username="li.na", roles=frozenset({"bench"}), name="李娜")
    moved = await svc.confirm(li, rma_id, rma["version"])
    assert moved["status"] == "registered" and moved["from_status"] == "inspected"
    after = await svc.get_rma(rma_id)
    assert after["moved_by"] == "李娜" and after["version"] == rma["version"] + 1
    history = await fetch("SELECT from_status, to_status, action, username FROM status_change WHERE table_name = 'rma' "
                          "AND row_id = {}", rma_id)
    assert [(h["from_status"], h["to_status"], h["action"], h["username"]) for h in history] == [
        ("inspected", "registered", "confirm", "li.na")]
    with pytest.raises(Stale) as exc:
        await svc.confirm(li, rma_id, rma["version"])
    assert exc.value.status == 409 and "李娜" in exc.value.message


@pytest.mark.parametrize("version", ["", None, "abc", "0"])
async def test_missing_or_unreadable_version_is_refused(version):
    """A form without a readable version is a 400, never "no check"."""
    rma_id = await make_rma("inspected")
    from tests.rma.factories import BENCH

    with pytest.raises(DomainError) as exc:
        await svc.confirm(BENCH, rma_id, version)
    assert exc.value.status == 400
    assert (await svc.get_rma(rma_id))["status"] == "inspected"


async def test_transition_post_without_version_400(login_as):
    rma_id = await make_rma("inspected")
    client = await login_as("bench")
    r = await client.post_form(f"/bench/{rma_id}/confirm", {"from_board": "1"}, headers=HX)
    assert r.status_code == 400
    assert (await svc.get_rma(rma_id))["status"] == "inspected"


async def test_quote_moves_through_its_own_machine():
    """The quote's steps are moves on rma_quote; a second send is refused with the bench's message."""
    from tests.rma.factories import BENCH, DESK

    rma_id = await make_rma("waiting", in_warranty=False)
    await svc.cost_quote(BENCH, rma_id, fault="主板", amount="100.00")
    await svc.cost_quote(BENCH, rma_id, fault="主板", amount="120.00")  # re-costed before it is sent
    await svc.send_quote(DESK, rma_id)
    with pytest.raises(DomainError) as exc:
        await svc.send_quote(DESK, rma_id)
    assert exc.value.status == 409 and exc.value.message == _("There is no costed quote to send.")
    quote = await svc.get_quote(rma_id)
    assert quote["status"] == "quoted" and quote["amount_fen"] == 12000 and quote["version"] == 3
    with pytest.raises(DomainError) as exc:
        await svc.cost_quote(BENCH, rma_id, fault="x", amount="1.00")
    assert exc.value.status == 409


async def test_detail_page_renders_other_domains_cards(login_as, monkeypatch):
    """The RMA page shows the cards other domains list for it (the loaner offer), not route sniffing."""
    seen = []

    async def load(rma_id, user):
        seen.append(rma_id)
        return {"marker": True}

    card = CustomerSection("test-card", "Test", "rma/_style.html", "rma.view", load)
    monkeypatch.setitem(PAGE_SECTIONS, "rma", [card])
    rma_id = await make_rma("inspected")
    client = await login_as("bench")
    r = await client.get(f"/bench/{rma_id}")
    assert r.status_code == 200 and seen == [rma_id]
    assert "/loaners/offer" not in r.text


async def test_receive_refuses_control_characters(login_as):
    """X-05 / issue #11: a NUL or control character in the intake form is a 400 with the field marked, never a 500."""
    client = await login_as("desk")
    r = await client.post_form("/bench/receive", {"serial": "AB\x00C", "fault_reported": "x\x07y", "customer_name": "张"})
    assert r.status_code == 400
    assert not await fetch("SELECT id FROM rma WHERE serial LIKE {}", "AB%C")

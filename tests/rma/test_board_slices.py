"""The board shows the first N cards per stage with a "more" button loading the next slice (keyset on the column's
FIFO order), per-card HTML is cached by version, and N is an editable setting (issue #15)."""

from __future__ import annotations

import re

import pytest

from app.core.db import fetch, write_transaction
from app.core.settings import setting
from app.rma import board_cards
from app.rma import services as svc
from tests.rma.factories import BENCH, make_rma

KEY = "rma.board_cards_per_column"
N = 5  # the setting's minimum


@pytest.fixture
async def per_column(login_as):
    """The admin sets N through /admin/settings; the default is put back afterwards (other tests see 10)."""
    admin = await login_as("admin")
    r = await admin.post_form("/admin/settings", {KEY: str(N)})
    assert r.status_code == 303 and await setting(KEY) == N
    yield N
    async with write_transaction():
        await fetch("DELETE FROM app_setting WHERE key = {}", KEY)


async def _own_column(client, count: int) -> tuple[int, list[int]]:
    """`count` inspected cards assigned to a technician of their own (the ?tech= filter isolates them)."""
    uid = (await fetch("SELECT id FROM app_user WHERE username = {}", client.username))[0]["id"]
    ids = [await make_rma("inspected") for _ in range(count)]
    async with write_transaction():
        for rma_id in ids:
            await fetch("UPDATE rma SET technician_id = {} WHERE id = {}", uid, rma_id)
    return uid, ids


def _column(html: str, status: str) -> str:
    start = html.index(f'id="col-{status}"')
    end = html.find("<section", start)
    return html[start:end if end > 0 else len(html)]


def _card_ids(html: str) -> list[int]:
    return [int(x) for x in re.findall(r'class="rma-card[^"]*" id="rma-(\d+)"', html)]


async def test_setting_is_listed_and_refuses_out_of_range(login_as):
    """/admin/settings lists the cards-per-column setting in Chinese; a value under its minimum is refused."""
    admin = await login_as("admin")
    page = await admin.get("/admin/settings")
    assert page.status_code == 200 and "看板每列显示卡片数" in page.text
    bad = await admin.post_form("/admin/settings", {KEY: "1"})
    assert bad.status_code == 400 and await setting(KEY) == 10  # the default


async def test_exactly_n_cards_no_more_button(login_as, per_column):
    """A column holding exactly N cards shows them all and no "more" button."""
    client = await login_as("bench")
    uid, ids = await _own_column(client, N)
    col = _column((await client.get(f"/bench?tech={uid}")).text, "inspected")
    assert _card_ids(col) == ids and 'id="more-inspected"' not in col


async def test_n_plus_one_cards_first_slice_then_the_rest(login_as, per_column):
    """N+1 cards: the first N (oldest first), a button after the N-th; the slice it loads holds the last card only,
    no further button, and the live region's text says how many were loaded."""
    client = await login_as("bench")
    uid, ids = await _own_column(client, N + 1)
    page = (await client.get(f"/bench?tech={uid}")).text
    col = _column(page, "inspected")
    assert _card_ids(col) == ids[:N]
    assert f'hx-get="/bench/column/inspected?after={ids[N - 1]}&amp;tech={uid}"' in col
    assert "还有 1 张未显示" in col and 'id="rma-live"' in page and 'aria-live="polite"' in page
    assert f'id="count-inspected" class="badge bg-secondary-lt">{N + 1}<' in page  # the header count stays exact
    more = await client.get(f"/bench/column/inspected?after={ids[N - 1]}&tech={uid}", headers={"hx-request": "true"})
    assert more.status_code == 200 and _card_ids(more.text) == ids[N:]
    assert "more-inspected" not in more.text and "已加载1张" in more.text and "data-slice-start" in more.text


async def test_slice_from_the_middle_and_a_second_button(login_as, per_column):
    """Keyset: after the 2nd of 2N+2 cards come the next N, then a button after the last of them."""
    client = await login_as("bench")
    uid, ids = await _own_column(client, 2 * N + 2)
    more = (await client.get(f"/bench/column/inspected?after={ids[1]}&tech={uid}")).text
    assert _card_ids(more) == ids[2:2 + N]
    assert f"after={ids[1 + N]}&amp;tech={uid}" in more and "还有 %s 张未显示" % N in more


async def test_slice_of_unknown_stage_is_404(login_as):
    client = await login_as("bench")
    assert (await client.get("/bench/column/closed")).status_code == 404
    assert (await client.get("/bench/column/nonsense")).status_code == 404


async def test_cached_card_never_served_after_its_version_changed(login_as):
    """The board is rendered (card cached), the card moves on: the next board shows it in its new stage, with the
    new stage's action, never the cached old card."""
    client = await login_as("bench")
    uid, (rma_id,) = await _own_column(client, 1)
    first = (await client.get(f"/bench?tech={uid}")).text
    assert _card_ids(_column(first, "inspected")) == [rma_id] and f'hx-post="/bench/{rma_id}/confirm"' in first
    hits = board_cards.stats["hits"]
    again = (await client.get(f"/bench?tech={uid}")).text
    assert board_cards.stats["hits"] > hits and again.count(f'id="rma-{rma_id}"') == 1  # served from the cache
    rma = await svc.get_rma(rma_id)
    await svc.confirm(BENCH, rma_id, rma["version"])
    after = (await client.get(f"/bench?tech={uid}")).text
    assert _card_ids(_column(after, "inspected")) == [] and _card_ids(_column(after, "registered")) == [rma_id]
    assert f'hx-post="/bench/{rma_id}/confirm"' not in after


async def test_cache_key_holds_version_language_and_allowed_actions():
    """Same card, other version / language / allowed actions → another cache entry (rendered afresh)."""
    card = await svc.card(await make_rma("inspected"))
    calls = []

    class Module:
        @staticmethod
        def card(c, open_id=None, tech=None):
            calls.append(c.row["version"])
            return f"<div>{c.row['version']}</div>"

    labels = {"allowed": {"confirm"}}
    board_cards.render_cards(lambda: Module, [card], labels=labels)
    board_cards.render_cards(lambda: Module, [card], labels=labels)
    assert len(calls) == 1
    board_cards.render_cards(lambda: Module, [card], labels={"allowed": set()})
    assert len(calls) == 2
    card.row["version"] += 1
    assert board_cards.render_cards(lambda: Module, [card], labels=labels) == [f"<div>{card.row['version']}</div>"]
    assert len(calls) == 3


async def test_scanned_card_past_the_first_slice_is_shown_on_top_once(login_as, per_column):
    """A scan opens a card that is past its column's first N: it is shown on top (opened), and the "more" slice
    leaves it out, so it never appears twice."""
    client = await login_as("bench")
    uid, ids = await _own_column(client, N + 2)
    col = _column((await client.get(f"/bench?open={ids[-1]}&tech={uid}")).text, "inspected")
    assert _card_ids(col) == [ids[-1]] + ids[:N] and f'class="rma-card is-open" id="rma-{ids[-1]}"' in col
    assert f"after={ids[N - 1]}&amp;tech={uid}&amp;skip={ids[-1]}" in col and "还有 1 张未显示" in col
    more = (await client.get(f"/bench/column/inspected?after={ids[N - 1]}&tech={uid}&skip={ids[-1]}")).text
    assert _card_ids(more) == [ids[N]] and "more-inspected" not in more

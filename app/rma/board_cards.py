"""Board cards rendered once and reused (issue #15: the board spent 72–91% of its time rendering ~450 cards).

Each card's HTML is kept in a bounded in-process LRU keyed by everything the card shows:
  * the card's row as read — it holds the RMA id and its `version`, and the joined values that change without a
    new RMA version (quote and replacement status, the receivable, the technician's name);
  * what moves with the clock alone (`Card.live()`: age to 0.1 d, repair window in whole hours, burn-in to 0.1 h,
    overdue flags, why the next step is refused now);
  * the language, the viewer's allowed actions (they change the card's buttons), the technician filter (carried by
    the buttons) and whether the card is the one opened by a scan.
Keyed by version (and the rest of the row), a cached card can never be stale: any write gives a new key, so a
second worker — or this one after another worker's write — renders afresh rather than serving an old card.
Entries for old versions simply age out of the LRU. Nothing here needs sharing between processes.
"""

from __future__ import annotations

from collections import OrderedDict
from typing import Any, Iterable

from markupsafe import Markup

from app.core.i18n import current_locale

MAX_ENTRIES = 5000  # ~1 KB of HTML each: a few MB at most per worker

_cache: "OrderedDict[tuple, Markup]" = OrderedDict()
stats = {"hits": 0, "misses": 0}


def clear() -> None:
    _cache.clear()


def _key(c: Any, lang: str, allowed: frozenset, tech: int | None, open_id: int | None) -> tuple:
    row = c.row
    return (row["id"], row["version"], lang, allowed, tech, open_id == row["id"], tuple(row.values()), c.live())


def render_cards(macro_source: Any, cards: Iterable[Any], *, labels: dict, tech: int | None = None,
                 open_id: int | None = None) -> list[Markup]:
    """The HTML of each card, from the cache or rendered by the `card` macro (made at most once per call).
    `macro_source()` returns the template module holding `card` (bound to this request's context)."""
    lang = current_locale()
    allowed = frozenset(labels["allowed"])
    out: list[Markup] = []
    macro = None
    for c in cards:
        key = _key(c, lang, allowed, tech, open_id)
        html = _cache.get(key)
        if html is None:
            stats["misses"] += 1
            if macro is None:
                macro = macro_source().card
            html = Markup(macro(c, open_id=open_id, tech=tech))
            _cache[key] = html
            if len(_cache) > MAX_ENTRIES:
                _cache.popitem(last=False)
        else:
            stats["hits"] += 1
            _cache.move_to_end(key)
        out.append(html)
    return out

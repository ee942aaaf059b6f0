"""Cross-domain hooks, so domains enforce each other's rules without importing each other.

Closing rule (issue #6): a case (ticket, RMA …) cannot close while something else
still holds it open — e.g. a loaner still out at the customer. The domain that owns
the obstacle registers a guard; the domain that closes asks `close_blockers()`:

    # app/loaners/services.py
    register_close_guard("rma", loans_blocking_close)      # async (case_id) -> list[Blocker]

    # app/bench/services.py, inside the close transition
    blockers = await close_blockers("rma", rma_id)
    if blockers: raise …(blockers[0].message, link=blockers[0].url)
"""

from __future__ import annotations

from dataclasses import dataclass
from typing import Awaitable, Callable


@dataclass(frozen=True)
class Blocker:
    message: str  # already translated, shown to the user
    url: str = ""  # where to resolve it (e.g. the loan)
    kind: str = ""  # e.g. "loaner"


CloseGuard = Callable[[int], Awaitable[list[Blocker]]]
_CLOSE_GUARDS: dict[str, list[CloseGuard]] = {}


def register_close_guard(case_type: str, guard: CloseGuard) -> None:
    guards = _CLOSE_GUARDS.setdefault(case_type, [])
    if guard not in guards:
        guards.append(guard)


async def close_blockers(case_type: str, case_id: int) -> list[Blocker]:
    """Everything that still keeps `case_type` #`case_id` from closing (empty list = may close)."""
    found: list[Blocker] = []
    for guard in _CLOSE_GUARDS.get(case_type, []):
        found.extend(await guard(case_id))
    return found


# "Case finished" notices: the owner of a case (bench, tickets) announces that its work is done,
# inside its own transaction; listeners react (loaners: the loan joins "case finished, loaner still out").
FinishListener = Callable[[int], Awaitable[object]]
_FINISH_LISTENERS: dict[str, list[FinishListener]] = {}


def register_finish_listener(case_type: str, listener: FinishListener) -> None:
    listeners = _FINISH_LISTENERS.setdefault(case_type, [])
    if listener not in listeners:
        listeners.append(listener)


async def case_finished(case_type: str, case_id: int) -> None:
    """Tell every listener that `case_type` #`case_id` is finished (joins the caller's transaction)."""
    for listener in _FINISH_LISTENERS.get(case_type, []):
        await listener(case_id)


# Case finders (issue #12 item 2): the domain that owns numbered cases (the bench's RMAs …) answers "which open
# cases match?", so another domain (the keeper issuing a part) offers a picker and refuses an unknown number
# without importing it. A finder is `async (query, limit) -> [{"id", "number", "label"}]`, open cases only.
CaseFinder = Callable[[str, int], Awaitable[list[dict]]]
_CASE_FINDERS: dict[str, CaseFinder] = {}


def register_case_finder(case_type: str, finder: CaseFinder) -> None:
    _CASE_FINDERS[case_type] = finder


async def open_cases(case_type: str, query: str = "", limit: int = 50) -> list[dict]:
    """Open cases of `case_type` whose number (or label) contains `query`; [] when no domain answers."""
    finder = _CASE_FINDERS.get(case_type)
    return list(await finder(query.strip(), limit)) if finder else []


async def open_case(case_type: str, number: str) -> dict | None:
    """The open case numbered exactly `number` (case-insensitive), or None."""
    wanted = (number or "").strip().upper()
    if not wanted:
        return None
    return next((c for c in await open_cases(case_type, wanted, 20) if str(c["number"]).upper() == wanted), None)

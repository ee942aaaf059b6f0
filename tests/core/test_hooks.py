"""Cross-domain close guards (the rule 'nothing closes while a loaner is out' plugs in here)."""

from app.core.hooks import Blocker, close_blockers, register_close_guard


async def test_close_guards_collect_blockers_per_case_type():
    """Registered guards answer for their case type only; no guard → nothing blocks."""

    async def guard(case_id: int) -> list[Blocker]:
        return [Blocker(f"loaner out on {case_id}", "/loaners/1", "loaner")] if case_id == 7 else []

    register_close_guard("test-case", guard)
    register_close_guard("test-case", guard)  # idempotent
    assert await close_blockers("test-case", 7) == [Blocker("loaner out on 7", "/loaners/1", "loaner")]
    assert await close_blockers("test-case", 8) == []
    assert await close_blockers("other-case", 7) == []

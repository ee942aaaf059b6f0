"""Hypothesis stateful test (R-INV-03): random receive / issue / transfer / return / adjust
sequences keep on-hand = ledger sum ≥ 0 after every step, and a refusal happens exactly
when the model says the stock is short.

Hypothesis drives a synchronous state machine; it runs in a worker thread and hands each
service call to the test's event loop (the database pool lives there).
"""

from __future__ import annotations

import asyncio

from hypothesis import HealthCheck, settings
from hypothesis import strategies as st
from hypothesis.stateful import RuleBasedStateMachine, initialize, invariant, rule, run_state_machine_as_test

from app.core.audit.services import Actor
from app.core.db import fetch
from app.parts import services
from app.core.errors import DomainError
from app.parts.services import is_not_enough_stock
from seed.parts import make_part

KEEPER = Actor(user_id=None, username="hypo", roles=frozenset({"warehouse"}))
LOCS = ["CENTRAL", "BENCH", "LOANER", "QUARANTINE"]
loc_st = st.sampled_from(LOCS)
qty_st = st.integers(min_value=1, max_value=6)


def make_machine(loop: asyncio.AbstractEventLoop):
    def run(coro):
        return asyncio.run_coroutine_threadsafe(coro, loop).result(timeout=60)

    class Ledger(RuleBasedStateMachine):
        @initialize()
        def new_part(self):
            self.part = run(make_part())
            self.model = {loc: 0 for loc in LOCS}

        def _out(self, loc: str, qty: int, call):
            if self.model[loc] >= qty:
                run(call())
                self.model[loc] -= qty
                return True
            try:
                run(call())
            except DomainError as exc:
                if not is_not_enough_stock(exc):
                    raise
                return False
            raise AssertionError("a movement larger than the stock was booked")

        @rule(loc=loc_st, qty=qty_st)
        def receive(self, loc, qty):
            run(services.receive(KEEPER, self.part, qty, loc, document_type="purchase_request", document_id=1))
            self.model[loc] += qty

        @rule(loc=loc_st, qty=qty_st)
        def issue(self, loc, qty):
            self._out(loc, qty, lambda: services.issue_to(KEEPER, self.part, qty, loc, "ticket", 1))

        @rule(src=loc_st, dst=loc_st, qty=qty_st)
        def transfer(self, src, dst, qty):
            if src == dst:
                return
            if self._out(src, qty, lambda: services.transfer(KEEPER, self.part, qty, src, dst)):
                self.model[dst] += qty

        @rule(loc=loc_st, qty=qty_st)
        def give_back(self, loc, qty):
            run(services.return_stock(KEEPER, self.part, qty, loc, document_type="ticket", document_id=1, reason="unused"))
            self.model[loc] += qty

        @rule(loc=loc_st, delta=st.integers(min_value=-6, max_value=6).filter(lambda d: d != 0))
        def adjust(self, loc, delta):
            if delta > 0:
                run(services.adjust(KEEPER, self.part, loc, delta, "count"))
                self.model[loc] += delta
            else:
                self._out(loc, -delta, lambda: services.adjust(KEEPER, self.part, loc, delta, "count"))

        @invariant()
        def on_hand_equals_ledger(self):
            if not hasattr(self, "part"):
                return
            for loc in LOCS:
                have = run(services.on_hand(self.part, loc))
                assert have == self.model[loc] >= 0, (loc, have, self.model)
            report = run(services.reconcile(self.part))
            assert report["mismatches"] == []

    return Ledger


async def test_random_movement_sequences_keep_on_hand_equal_to_ledger_sum():
    """R-INV-03: on-hand = ledger sum ≥ 0 after every step of random movement sequences."""
    loop = asyncio.get_running_loop()
    machine = make_machine(loop)
    config = settings(max_examples=12, stateful_step_count=15, deadline=None, derandomize=True,
                      suppress_health_check=list(HealthCheck))
    await loop.run_in_executor(None, lambda: run_state_machine_as_test(machine, settings=config))
    rows = await fetch("SELECT COUNT(*) AS n FROM stock_move WHERE username = 'hypo'")
    assert int(rows[0]["n"]) > 0

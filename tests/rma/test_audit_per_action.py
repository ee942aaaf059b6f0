"""X-03 from a table of actions: every successful bench transition leaves exactly one audit event (issue #11).

Removing the audit row of any RMA transition fails here: each stage the unit passes through is one row in the
transition history and exactly one `rma.moved` audit event with the same from → to."""

from __future__ import annotations

import json

import pytest

from app.core.db import fetch
from tests.rma import factories

STAGES = ["qc_passed", "repairing", "repaired", "burn_in", "final_passed", "shipped", "delivered",
          "called_back", "closed"]


@pytest.mark.parametrize("target", STAGES)
async def test_x03_one_audit_event_per_transition(target):
    """Up to `target`: status_change rows (who moved it) and rma.moved audit events agree one to one."""
    rma_id = await factories.make_rma(target)
    moves = await fetch("SELECT version, from_status, to_status FROM status_change WHERE table_name = 'rma' AND row_id = {} "
                        "ORDER BY version", rma_id)
    audits = await fetch("SELECT before, after FROM audit_event WHERE action = 'rma.moved' AND entity_type = 'rma' "
                         "AND entity_id = {} ORDER BY id", str(rma_id))
    assert moves, "no transition recorded"
    assert len(audits) == len(moves)
    pairs = [(json.loads(a["before"])["status"], json.loads(a["after"])["status"]) for a in audits]
    assert pairs == [(m["from_status"], m["to_status"]) for m in moves]

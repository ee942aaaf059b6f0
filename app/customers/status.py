"""The customers domain's states (issue #10): a contract's QYBS stage and its status.

The stage (R-CUS-02: Q signed → Y accepted & archived → B warranty service → S follow-up /
renewal) may be set to any other stage by the desk or a manager; every change goes through
`app.core.status.move(..., column="stage")` and is also kept in `contract_stage_change`.
"""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.status import Status, Transition


class ContractStage(Status):
    Q = "Q"
    Y = "Y"
    B = "B"
    S = "S"


STAGE_LABELS = {
    ContractStage.Q: _l("Q · signed"),
    ContractStage.Y: _l("Y · accepted & archived"),
    ContractStage.B: _l("B · warranty service"),
    ContractStage.S: _l("S · follow-up / renewal"),
}


class ContractStatus(Status):
    ACTIVE = "active"
    TERMINATED = "terminated"


CONTRACT_STATUS_LABELS = {ContractStatus.ACTIVE: _l("Active"), ContractStatus.TERMINATED: _l("Terminated")}

# Groups: a contract that still decides billing vs. one that no longer does.
OPEN = frozenset({ContractStatus.ACTIVE})
FINISHED = frozenset({ContractStatus.TERMINATED})

# One move per target stage, from any other stage (the desk corrects a stage as well as advancing it).
TRANSITIONS = {
    f"stage_{to.value}": Transition(f"stage_{to.value}", tuple(s for s in ContractStage if s != to), to,
                                    perm="customers.edit", label=STAGE_LABELS[to])
    for to in ContractStage
}

"""Ticket and visit states (issue #13, R-TKT-03…07) with their moves; every move goes through core.status.move().

    new ──assign──▶ assigned ──depart──▶ on_way ──arrive──▶ on_site ──finish──▶ done ──sign──▶ signed ──close──▶ closed
     └──queue──▶ queued ──assign──┘                                      └──▶ not_done ──revisit──▶ assigned (a new child slip)
                                                                                  └──close (all visits signed)──▶ closed
The SLA pause (R-TKT-05) is not a state: it stops the clocks in whatever state the ticket is.
"""

from __future__ import annotations

from app.core.i18n import lazy_gettext as _l
from app.core.status import Status, Transition


class TicketStatus(Status):
    NEW = "new"
    QUEUED = "queued"  # in the engineering manager's queue (R-TKT-03)
    ASSIGNED = "assigned"
    ON_WAY = "on_way"
    ON_SITE = "on_site"
    DONE = "done"
    NOT_DONE = "not_done"
    SIGNED = "signed"
    CLOSED = "closed"


class VisitStatus(Status):
    PLANNED = "planned"
    ON_WAY = "on_way"
    ON_SITE = "on_site"
    FINISHED = "finished"
    SIGNED = "signed"
    CANCELLED = "cancelled"


S, V = TicketStatus, VisitStatus
OPEN = frozenset({S.NEW, S.QUEUED, S.ASSIGNED, S.ON_WAY, S.ON_SITE, S.DONE, S.NOT_DONE, S.SIGNED})
ACTIVE = frozenset({S.NEW, S.QUEUED, S.ASSIGNED, S.ON_WAY, S.ON_SITE})  # SLA clocks running
FINISHED = frozenset({S.CLOSED})

LABELS = {
    S.NEW: _l("New"), S.QUEUED: _l("In the engineering manager's queue"), S.ASSIGNED: _l("Assigned"),
    S.ON_WAY: _l("On the way"), S.ON_SITE: _l("On site"), S.DONE: _l("Done, awaiting signature"),
    S.NOT_DONE: _l("Not done"), S.SIGNED: _l("Signed"), S.CLOSED: _l("Closed"),
}
TONES = {S.NEW: "info", S.QUEUED: "warn", S.ASSIGNED: "info", S.ON_WAY: "info", S.ON_SITE: "info", S.DONE: "ok",
         S.NOT_DONE: "danger", S.SIGNED: "ok", S.CLOSED: "muted"}
VISIT_LABELS = {
    V.PLANNED: _l("Planned"), V.ON_WAY: _l("On the way"), V.ON_SITE: _l("On site"), V.FINISHED: _l("Awaiting signature"),
    V.SIGNED: _l("Signed"), V.CANCELLED: _l("Cancelled"),
}

TRANSITIONS = {
    "queue": Transition("queue", (S.NEW,), S.QUEUED, "tickets.dispatch", _l("Send to the engineering manager")),
    "assign": Transition("assign", (S.NEW, S.QUEUED), S.ASSIGNED, "tickets.dispatch", _l("Assign")),
    "reassign": Transition("reassign", (S.ASSIGNED,), S.ASSIGNED, "tickets.dispatch", _l("Reassign")),
    "depart": Transition("depart", (S.ASSIGNED,), S.ON_WAY, "tickets.visit", _l("Depart")),
    "arrive": Transition("arrive", (S.ON_WAY,), S.ON_SITE, "tickets.visit", _l("Arrive")),
    "finish_done": Transition("finish", (S.ON_SITE,), S.DONE, "tickets.visit", _l("Finish")),
    "finish_not_done": Transition("finish", (S.ON_SITE,), S.NOT_DONE, "tickets.visit", _l("Finish")),
    "sign": Transition("sign", (S.DONE,), S.SIGNED, "tickets.visit", _l("Customer signs")),
    "revisit": Transition("revisit", (S.NOT_DONE,), S.ASSIGNED, "tickets.dispatch", _l("Another visit")),
    "close": Transition("close", (S.SIGNED, S.NOT_DONE), S.CLOSED, "tickets.close", _l("Close")),
}

VISIT_TRANSITIONS = {
    "depart": Transition("depart", (V.PLANNED,), V.ON_WAY, "tickets.visit"),
    "arrive": Transition("arrive", (V.ON_WAY,), V.ON_SITE, "tickets.visit"),
    "finish": Transition("finish", (V.ON_SITE,), V.FINISHED, "tickets.visit"),
    "sign": Transition("sign", (V.FINISHED,), V.SIGNED, "tickets.visit"),
    "cancel": Transition("cancel", (V.PLANNED,), V.CANCELLED, "tickets.dispatch"),
}

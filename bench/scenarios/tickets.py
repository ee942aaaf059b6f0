"""Ticket pages (issue #13 "Speed"): /tickets filtered by status and office (compare its p99 at --scale
1000000 with a 10k run: within 1.5×; one query per filter, keyset, no COUNT), the technician's day and the
ticket page (under 50 ms p50 on one SQLite worker), the breaching list and the dispatch board.
`--scale N` adds N tickets (seed step "tickets")."""

SEED_STEP = "tickets"

PAGES = [
    ("ticket list, all, first page (desk)", "/tickets?view=all", "desk", "list"),
    ("tickets filtered by status + office (desk)", "/tickets?view=all&status=closed&office={ticket_office}", "desk", "list"),
    ("tickets by status + office, deep keyset page", "/tickets?view=all&status=closed&office={ticket_office}&before={ticket_deep_id}", "desk", "list"),
    ("breaching within 30 min (desk)", "/tickets?view=breaching", "desk", "list"),
    ("unassigned queue (engineering manager)", "/tickets?view=unassigned", "eng_manager", "list"),
    ("ticket page", "/tickets/{ticket_id}", "desk"),
    ("technician's day (field)", "/tickets/my", "field"),
    ("dispatch board", "/tickets/board?office={ticket_office}", "desk", "board"),
]


async def params() -> dict:
    from app.core.db import fetch

    top = (await fetch("SELECT MAX(id) AS m FROM ticket"))[0]["m"] or 1
    office = await fetch("SELECT office_id FROM ticket WHERE id = {}", top)
    return {"ticket_id": top, "ticket_deep_id": max(1, top // 2),
            "ticket_office": (office[0]["office_id"] if office else "") or ""}

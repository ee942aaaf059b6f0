"""Loaner pages (issue #6): the keeper's pool and overdue lists, the check-out form, a loan, the
embeddable availability fragment. `--scale N` adds N returned historical loans (seed step "loaners")."""

SEED_STEP = "loaners"

PAGES = [
    ("loaner pool + availability by model (warehouse)", "/loaners", "warehouse"),
    ("overdue + finished-case-still-out (warehouse)", "/loaners/overdue", "warehouse", "list"),
    ("loans out at customers (desk)", "/loaners/out", "desk", "list"),
    ("all loans, first page", "/loaners/out?status=", "warehouse", "list"),
    ("all loans, deep keyset page", "/loaners/out?status=&before={loaner_deep_id}", "warehouse", "list"),
    ("availability fragment for a model", "/loaners/availability?model={loaner_model}", "desk"),
    ("check-out form prefilled by scan", "/loaners/checkout?serial={loaner_serial}", "warehouse"),
    ("loan detail", "/loaners/{loaner_loan_id}", "warehouse"),
]


async def params() -> dict:
    from app.core.db import fetch

    top = (await fetch("SELECT MAX(id) AS m FROM loan"))[0]["m"] or 1
    unit = await fetch("SELECT su.serial, p.model FROM serial_unit su JOIN part p ON p.id = su.part_id "
                       "JOIN stock_location l ON l.id = su.location_id WHERE l.code = 'LOANER' ORDER BY su.id LIMIT 1")
    return {"loaner_deep_id": max(1, top // 10), "loaner_loan_id": top,
            "loaner_serial": unit[0]["serial"] if unit else "", "loaner_model": unit[0]["model"] if unit else ""}

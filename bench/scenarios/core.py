"""Foundation pages: the audit log (1M events at --scale 1000000) and the login page. Home pages: homes.py."""

SEED_STEP = "users"  # --scale N → N audit events

PAGES = [
    ("login page (anonymous)", "/login", None),
    ("audit log, first page", "/audit", "admin", "list"),
    ("audit log, filtered by user", "/audit?user=desk", "admin", "list"),
    ("audit log, deep keyset page", "/audit?before={deep_id}", "admin", "list"),
]


async def params() -> dict:
    from app.core.db import fetch

    rows = await fetch("SELECT MAX(id) AS m FROM audit_event")
    top = rows[0]["m"] or 1
    return {"deep_id": max(1, top // 10)}

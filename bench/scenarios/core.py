"""Foundation pages: the audit log (the biggest list until domains arrive), home, login."""

SEED_STEP = "users"  # --scale N → N audit events

PAGES = [
    ("login page (anonymous)", "/login", None),
    ("home (warehouse)", "/", "warehouse"),
    ("audit log, first page", "/audit", "admin"),
    ("audit log, filtered by user", "/audit?user=desk", "admin"),
    ("audit log, deep keyset page", "/audit?before={deep_id}", "admin"),
]


async def params() -> dict:
    from app.core.db import fetch

    rows = await fetch("SELECT MAX(id) AS m FROM audit_event")
    top = rows[0]["m"] or 1
    return {"deep_id": max(1, top // 10)}

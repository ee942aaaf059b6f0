"""Every role's home page (issue #15: ≥ 35% of /healthz with at most 4 queries). The demo seed has one user
per role, named after the role (password "demo"); the panels read every domain's data at the current scale."""

from app.core.roles import ROLES

SEED_STEP = None  # the other scenario modules grow the tables the panels read

PAGES = [(f"home ({role})", "/", role, "home") for role in ROLES]

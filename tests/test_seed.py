"""Demo seed: one user per role with password `demo`, idempotent."""

from __future__ import annotations

from app.core.roles import ROLES
from app.core.db import fetch
from seed import demo


async def test_demo_seed_is_idempotent_and_creates_role_users(app):
    """Running the demo seed twice creates each role's demo user once; the login page lists them."""
    await demo.run(quiet=True)
    first = (await fetch("SELECT COUNT(*) AS n FROM app_user"))[0]["n"]
    await demo.run(quiet=True)
    assert (await fetch("SELECT COUNT(*) AS n FROM app_user"))[0]["n"] == first
    rows = await fetch("SELECT username, roles FROM app_user WHERE username IN ({})".format(", ".join(["{}"] * len(ROLES))), *ROLES)
    assert {row["username"]: row["roles"] for row in rows} == {role: role for role in ROLES}
    from tests.conftest import Client, login

    page = await Client(app).get("/login")
    assert 'id="demo-users"' in page.text
    client = await login(app, "warehouse", "demo")
    assert (await client.get("/")).status_code == 200

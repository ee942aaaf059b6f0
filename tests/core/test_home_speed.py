"""Home page speed (#15): every role's home runs at most 4 statements once its panels are warm, and a
commit from anywhere shows on the next view (the panels are cached on the database's commit stamp)."""

from __future__ import annotations

import pytest

from app.core import home
from app.core.db import engine, fetch, write_transaction
from app.core.roles import ROLES

HOME_BUDGET = 4

# PostgreSQL's stamp (pg_current_snapshot) is cluster-wide: on a shared test server other databases' transactions
# move it between two views, so the warm-cache budget is asserted on SQLite (the stamp is per database file);
# freshness after a commit is asserted on both engines.
from tests.conftest import is_postgres  # noqa: E402

sqlite_only = pytest.mark.skipif(is_postgres(), reason="the PostgreSQL stamp is cluster-wide (shared test server)")


class _Counter:
    def __init__(self, monkeypatch):
        self.statements: list[str] = []
        cls = type(engine())  # patched on the class: PostgresEngine instances have read-only attributes
        original = cls.run_querystring

        async def counting(engine_self, querystring, *args, **kwargs):
            self.statements.append(str(querystring)[:120])
            return await original(engine_self, querystring, *args, **kwargs)

        monkeypatch.setattr(cls, "run_querystring", counting)


@sqlite_only
@pytest.mark.parametrize("role", sorted(ROLES))
async def test_home_page_of_every_role_runs_at_most_four_statements(role, login_as, monkeypatch):
    client = await login_as(role)
    assert (await client.get("/")).status_code == 200  # the first view fills this person's panels
    counter = _Counter(monkeypatch)
    response = await client.get("/")
    assert response.status_code == 200
    assert len(counter.statements) <= HOME_BUDGET, counter.statements


@sqlite_only
async def test_all_roles_at_once_within_budget(login_as, monkeypatch):
    client = await login_as(*ROLES)
    await client.get("/")
    counter = _Counter(monkeypatch)
    assert (await client.get("/")).status_code == 200
    assert len(counter.statements) <= HOME_BUDGET, counter.statements


async def test_a_commit_shows_on_the_next_home_view(login_as):
    """The user's own recent-activity panel: a new audit event (any commit) is there on the next view."""
    from app.core.audit.services import Actor, record

    client = await login_as("desk")
    await client.get("/")
    user_id = (await fetch("SELECT id FROM app_user WHERE username = {}", client.username))[0]["id"]
    async with write_transaction():
        await record(Actor(user_id, client.username), "customer.created", "customer", 987654)
    assert "987654" in (await client.get("/")).text


async def test_stamp_moves_with_a_commit_and_not_without():
    first = await home.commit_stamp()
    assert first is not None
    if not is_postgres():  # PostgreSQL: other databases on the server move the cluster-wide snapshot too
        assert await home.commit_stamp() == first
    async with write_transaction():
        await fetch("UPDATE app_setting SET key = key WHERE 1 = 0")
        await fetch("INSERT INTO audit_event (created_at, user_id, username, roles, action, entity_type, entity_id, "
                    "request_id, ip) VALUES (CURRENT_TIMESTAMP, NULL, 'x', '', 'test.stamp', '', '', '', '')")
    assert await home.commit_stamp() != first

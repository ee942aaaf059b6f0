"""Audit page filters by username: index (username, id) so a rare user's events do not scan the table."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T01:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "audit_event (username, id) index"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run("CREATE INDEX audit_event_username ON audit_event (username, id)")

    manager.add_raw(run)
    return manager

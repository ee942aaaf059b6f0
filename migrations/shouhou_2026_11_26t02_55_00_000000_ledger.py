"""R-AR-03: at most one pending extension request per receivable line, held by the database
(the service's check-then-insert alone let two simultaneous requests both wait on PostgreSQL)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T02:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: one pending extension per receivable"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run("CREATE UNIQUE INDEX ar_extension_one_pending ON ar_extension (receivable_id) WHERE status = 'pending'")

    manager.add_raw(run)
    return manager

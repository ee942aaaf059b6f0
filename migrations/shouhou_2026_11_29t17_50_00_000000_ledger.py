"""Domain kit (issue #10): the ledger's read-cache revision stamp moves out of app_setting into a
one-row table of its own. `ledger.rev` was never an operator setting (it is touched by every
ledger write), so it must not sit among the settings /admin/settings lists."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T17:50:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: revision stamp in its own table"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            'CREATE TABLE ledger_revision ("id" INTEGER PRIMARY KEY NOT NULL, "updated_at" TIMESTAMPTZ NOT NULL)',
            "DELETE FROM app_setting WHERE key = 'ledger.rev'",
        )

    manager.add_raw(run)
    return manager

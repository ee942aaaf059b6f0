"""Issue #12.5: a used slip points at a real job — an RMA or a ticket by its number, or a clearly marked
"other" job with a note saying what it was. The note gets its own column."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T17:56:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: slip.job_note for jobs of kind 'other'"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run("ALTER TABLE slip ADD COLUMN job_note VARCHAR(200) NOT NULL DEFAULT ''")

    manager.add_raw(run)
    return manager

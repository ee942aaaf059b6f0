"""Return repair (issue #5): unboxing photos (R-RMA-01) stored as files under the upload
root (`rma/`), one row each."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T02:22:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rma: unboxing photos"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            """CREATE TABLE rma_photo ({pk},
                rma_id INTEGER NOT NULL REFERENCES rma (id),
                stored_name VARCHAR(80) NOT NULL UNIQUE,
                original_name VARCHAR(200) NOT NULL DEFAULT '',
                content_type VARCHAR(40) NOT NULL,
                size INTEGER NOT NULL CHECK (size > 0),
                username VARCHAR(100) NOT NULL DEFAULT '',
                created_at TIMESTAMPTZ NOT NULL DEFAULT current_timestamp)""",
            "CREATE INDEX rma_photo_rma ON rma_photo (rma_id, id)",
        )

    manager.add_raw(run)
    return manager

"""Stocktake by scanning (issue #12 item 1): a blind-count option on the sheet, and the serialised units the sheet
expected or found (each scan of a serial marks its unit present; missing and extra units are posted on approval)."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T17:20:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "parts: blind stocktakes and the units a stocktake expected or found"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            "ALTER TABLE stocktake ADD COLUMN blind BOOLEAN NOT NULL DEFAULT false",
            """CREATE TABLE stocktake_unit ({pk},
                stocktake_id INTEGER NOT NULL REFERENCES stocktake (id),
                part_id INTEGER NOT NULL REFERENCES part (id),
                serial_unit_id INTEGER DEFAULT NULL REFERENCES serial_unit (id),
                serial VARCHAR(100) NOT NULL,
                expected BOOLEAN NOT NULL DEFAULT false,
                present BOOLEAN NOT NULL DEFAULT false)""",
            "CREATE UNIQUE INDEX stocktake_unit_serial ON stocktake_unit (stocktake_id, part_id, serial)",
        )

    manager.add_raw(run)
    return manager

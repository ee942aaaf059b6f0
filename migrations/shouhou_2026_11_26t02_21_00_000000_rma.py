"""Return repair (issue #5): one open RMA per serial, enforced by the database
(a partial UNIQUE index over the stages where the unit is in the building), so two
desks receiving the same unit at once cannot both create an RMA."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-26T02:21:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "rma: one open RMA per serial"

IN_BUILDING = ("received", "inspected", "registered", "waiting", "repairing", "repaired", "burn_in", "ready_to_ship")


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        statuses = ", ".join(f"'{s}'" for s in IN_BUILDING)
        await ddl.run(f"CREATE UNIQUE INDEX rma_one_open_per_serial ON rma (serial) WHERE status IN ({statuses})")

    manager.add_raw(run)
    return manager

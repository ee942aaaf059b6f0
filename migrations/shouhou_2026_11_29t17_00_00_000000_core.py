"""Domain kit (issue #10): one history table for every status move made through core.status.move()
(who moved which row from what to what, and when), so a stale second click can be told "already
changed by X at HH:MM" whatever the domain. Append-only like the audit log."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T17:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core: status_change history"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            'CREATE TABLE status_change ({pk}, "table_name" VARCHAR(40) NOT NULL, "row_id" BIGINT NOT NULL, '
            '"version" INTEGER NOT NULL, "from_status" VARCHAR(30) NOT NULL DEFAULT \'\', '
            '"to_status" VARCHAR(30) NOT NULL, "action" VARCHAR(40) NOT NULL DEFAULT \'\', '
            '"user_id" INTEGER NULL, "username" VARCHAR(100) NOT NULL DEFAULT \'\', '
            '"display_name" VARCHAR(100) NOT NULL DEFAULT \'\', "note" VARCHAR(1000) NOT NULL DEFAULT \'\', '
            '"created_at" TIMESTAMPTZ NOT NULL)',
            "CREATE UNIQUE INDEX status_change_row_version ON status_change (table_name, row_id, version)",
            *ddl.append_only("status_change"),
        )

    manager.add_raw(run)
    return manager

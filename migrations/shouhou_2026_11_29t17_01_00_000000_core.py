"""Sign-in throttles (issue #11): one counter row per key ("pair:<user>|<ip>", "ip:<ip>", "user:<user>"),
bumped by a single conditional UPDATE before the password is checked, so however many attempts arrive at
once at most the limit get through; admins see and clear them on /admin/throttles."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T17:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "core: login_throttle"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            'CREATE TABLE login_throttle ({pk}, "key" VARCHAR(300) NOT NULL, "window_start" TIMESTAMPTZ NOT NULL, '
            '"failures" INTEGER NOT NULL DEFAULT 0, "last_ip" VARCHAR(64) NOT NULL DEFAULT \'\', '
            '"updated_at" TIMESTAMPTZ NOT NULL)',
            "CREATE UNIQUE INDEX login_throttle_key ON login_throttle (key)",
            "CREATE INDEX login_throttle_updated ON login_throttle (updated_at)",
        )

    manager.add_raw(run)
    return manager

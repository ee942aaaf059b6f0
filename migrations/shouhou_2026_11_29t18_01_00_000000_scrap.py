"""Scrap (issue #14, item 1): photos of the item to be scrapped (JPEG/PNG files under the upload directory;
the row holds the random stored name, the original name as data only); indexes for the list's search box."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T18:01:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "scrap: photos, search indexes"

TS = "TIMESTAMPTZ NOT NULL DEFAULT current_timestamp"


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(
            f"""CREATE TABLE scrap_photo ({{pk}},
                request_id INTEGER NOT NULL REFERENCES scrap_request (id),
                stored_name VARCHAR(60) NOT NULL UNIQUE,
                original_name VARCHAR(200) NOT NULL DEFAULT '',
                content_type VARCHAR(40) NOT NULL CHECK (content_type IN ('image/jpeg', 'image/png')),
                size INTEGER NOT NULL CHECK (size > 0),
                user_id INTEGER DEFAULT NULL,
                user_name VARCHAR(100) NOT NULL DEFAULT '',
                created_at {TS})""",
            "CREATE INDEX scrap_photo_request ON scrap_photo (request_id, id)",
            # the list's search box: a serial or a part number (the number has its UNIQUE index)
            "CREATE INDEX scrap_request_serial ON scrap_request (serial)",
            "CREATE INDEX scrap_request_part_no ON scrap_request (part_no, id)",
        )

    manager.add_raw(run)
    return manager

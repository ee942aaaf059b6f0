"""Issue #11: the official working-day calendar now comes from the `chinesecalendar` package; work_calendar
holds only overrides. The 2026 public holidays the first ledger migration typed in (and nobody changed
since: same day, still a day off, same name) are what the package says anyway — they go, so the calendar
page lists them once, as official, and only real overrides as "entered here". 2027-01-01 stays: the
package does not know 2027 yet."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager

from app.core import ddl

ID = "2026-11-29T17:55:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "ledger: work_calendar holds only overrides of the official calendar"

TYPED_2026 = [
    ("2026-01-01", "元旦"), ("2026-01-02", "元旦"),
    ("2026-02-16", "春节"), ("2026-02-17", "春节"), ("2026-02-18", "春节"), ("2026-02-19", "春节"),
    ("2026-02-20", "春节"), ("2026-02-23", "春节"),
    ("2026-04-06", "清明节"), ("2026-05-01", "劳动节"), ("2026-05-04", "劳动节"), ("2026-05-05", "劳动节"),
    ("2026-06-19", "端午节"), ("2026-09-25", "中秋节"),
    ("2026-10-01", "国庆节"), ("2026-10-02", "国庆节"), ("2026-10-05", "国庆节"), ("2026-10-06", "国庆节"),
    ("2026-10-07", "国庆节"),
]


async def forwards() -> MigrationManager:
    manager = MigrationManager(migration_id=ID, app_name="shouhou", description=DESCRIPTION)

    async def run() -> None:
        await ddl.run(*[f"DELETE FROM work_calendar WHERE day = '{day}' AND is_working = false AND name = '{name}'"
                        for day, name in TYPED_2026])

    manager.add_raw(run)
    return manager

"""The one Piccolo app: every domain's tables, migrations in ../migrations."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from app.domains import all_tables

APP_CONFIG = AppConfig(
    app_name="shouhou",
    migrations_folder_path=str(Path(__file__).resolve().parent.parent / "migrations"),
    table_classes=all_tables(),
    migration_dependencies=[],
    commands=[],
)

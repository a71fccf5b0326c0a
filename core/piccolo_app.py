"""The core as a piccolo app, so piccolo's migration tooling finds its tables and folder."""

from pathlib import Path

from piccolo.conf.apps import AppConfig

from core.tables import ALL_TABLES

MIGRATIONS_FOLDER = str(Path(__file__).resolve().parent.parent / "migrations" / "core")

APP_CONFIG = AppConfig(
    app_name="core",
    migrations_folder_path=MIGRATIONS_FOLDER,
    table_classes=list(ALL_TABLES),
    migration_dependencies=[],
    commands=[],
)

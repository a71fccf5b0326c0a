"""A throwaway plugin migration used by test_hook_register_migrations."""

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.columns.column_types import Text

ID = "2026-11-23T18:00:00:000000"
VERSION = "1.38.0"
DESCRIPTION = "sample notes table"


async def forwards():
    manager = MigrationManager(migration_id=ID, app_name="sample", description=DESCRIPTION)
    manager.add_table(class_name="SampleNote", tablename="sample_notes", schema=None, columns=None)
    manager.add_column(table_class_name="SampleNote", tablename="sample_notes", column_name="body",
                       db_column_name="body", column_class_name="Text", column_class=Text,
                       params={"default": "", "null": False, "primary_key": False, "unique": False,
                               "index": False, "choices": None, "db_column_name": None, "secret": False},
                       schema=None)
    return manager

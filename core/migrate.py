"""Run piccolo migrations for the core and every enabled plugin, on SQLite and PostgreSQL alike."""

from __future__ import annotations

from typing import Callable

from piccolo.apps.migrations.auto.migration_manager import MigrationManager
from piccolo.apps.migrations.commands.base import BaseMigrationManager
from piccolo.apps.migrations.tables import Migration

from core.piccolo_app import MIGRATIONS_FOLDER


async def pending(apps: list[tuple[str, str]]) -> list[tuple[str, str]]:
    """(app, migration id) pairs not yet applied, in the order they will run."""
    await Migration.create_table(if_not_exists=True).run()
    loader = BaseMigrationManager()
    todo: list[tuple[str, str]] = []
    for app_name, folder in apps:
        done = set(await Migration.get_migrations_which_ran(app_name=app_name))
        modules = loader.get_migration_modules(folder)
        todo += [(app_name, mid) for mid in sorted(loader.get_migration_ids(modules)) if mid not in done]
    return todo


async def migrate(plugin_apps: list[tuple[str, str]] | None = None,
                  progress: Callable[[str, str], None] | None = None) -> int:
    """Apply every pending migration; returns how many ran. Safe to run again."""
    apps = [("core", MIGRATIONS_FOLDER), *(plugin_apps or [])]
    folders = dict(apps)
    loader = BaseMigrationManager()
    count = 0
    for app_name, migration_id in await pending(apps):
        module = loader.get_migration_modules(folders[app_name])[migration_id]
        manager = await module.forwards()
        if isinstance(manager, MigrationManager):
            await manager.run()
        await Migration.insert(Migration(name=migration_id, app_name=app_name)).run()
        count += 1
        if progress:
            progress(app_name, migration_id)
    return count

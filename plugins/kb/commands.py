"""`relaydesk kb export DIR` and `relaydesk kb import DIR`: the knowledge base as a folder."""

from __future__ import annotations

import asyncio
import sys
from pathlib import Path

import click


def _run(work):
    from core.plugin_api import db, desk_from_config

    desk = desk_from_config()

    async def main():
        await db.connect(desk.settings.database)
        try:
            return await work()
        finally:
            await db.disconnect()

    return asyncio.run(main())


@click.group(name="kb")
def kb() -> None:
    """Knowledge base: import and export articles as a folder of files."""


@kb.command(name="export")
@click.argument("directory", type=click.Path(file_okay=False, path_type=Path))
def export_command(directory: Path) -> None:
    """Write categories.yaml and <slug>/<language>.html files into DIRECTORY."""
    from plugins.kb.folder import export_files

    files = _run(export_files)
    for name, text in files.items():
        target = directory / name
        target.parent.mkdir(parents=True, exist_ok=True)
        target.write_text(text, encoding="utf-8")
    click.echo(f"Wrote {len(files)} files to {directory}")


@kb.command(name="import")
@click.argument("directory", type=click.Path(exists=True, file_okay=False, path_type=Path))
def import_command(directory: Path) -> None:
    """Read a folder written by export (or by hand: .html or .md files with front matter)."""
    from plugins.kb.folder import import_files

    files = {p.relative_to(directory).as_posix(): p.read_text(encoding="utf-8")
             for p in sorted(directory.rglob("*")) if p.is_file()}
    from core.plugin_api import RelaydeskError

    try:
        counts = _run(lambda: import_files(files, "cli"))
    except RelaydeskError as exc:  # a bad file: say which and why, nothing was written
        click.echo(f"Not imported: {exc.message}", err=True)
        sys.exit(2)
    click.echo(", ".join(f"{k}: {v}" for k, v in counts.items()))

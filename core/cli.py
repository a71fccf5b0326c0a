"""The `relaydesk` command: init, migrate, serve, worker, plugins, and the enabled plugins' commands
(`relaydesk demo` comes from the demo plugin, registered through register_commands)."""

from __future__ import annotations

import asyncio
import os
import secrets
import sys
from pathlib import Path

import click
from rich.console import Console
from rich.progress import Progress
from rich.table import Table as RichTable

from core.cli_config import (
    add_secret_placeholders, chosen_path, exit_for_disabled_command, standalone_commands, take_config,
)
from core.config import load_settings
from core.errors import ConfigError
from core.logs import log_format_option
from core.preflight import preflight, startup_errors

console = Console()
err = Console(stderr=True)


def load_env_file(config_path: str) -> None:
    """Load `relaydesk.env` beside the config (written by `init`): KEY=VALUE lines, never overriding
    variables already set."""
    env_file = Path(config_path).resolve().parent / "relaydesk.env"
    if not env_file.exists():
        return
    for line in env_file.read_text(encoding="utf-8").splitlines():
        line = line.strip()
        if line and not line.startswith("#") and "=" in line:
            key, value = line.split("=", 1)
            os.environ.setdefault(key.strip(), value.strip())


def _settings(config: str):
    load_env_file(config)
    try:
        return load_settings(config)
    except ConfigError as exc:
        err.print(f"[red]Configuration error[/red] {exc}", soft_wrap=True)
        sys.exit(2)


def _desk(config: str):
    from core.desk import Desk

    settings = _settings(config)
    try:
        return Desk(settings)
    except ConfigError as exc:
        err.print(f"[red]Configuration error[/red] {exc}", soft_wrap=True)
        sys.exit(2)


STOP_GRACE_SECONDS = 3  # `serve`: how long requests in flight get after a stop signal

# Every built-in command takes --config too; without it, the one given before the command.
config_option = click.option("--config", "-c", default=lambda: chosen_path(click.get_current_context()),
                             show_default="$RELAYDESK_CONFIG or plugins.toml", help="Path to plugins.toml.")


class PluginCommands(click.Group):
    """The built-in commands plus those of the plugins enabled in the config, found lazily so that
    `relaydesk init` works before any config exists."""

    def _plugin_commands(self, ctx: click.Context) -> tuple[dict[str, click.Command], list[str] | None, str | None]:
        """(the enabled plugins' commands, the enabled plugin names, why the config could not be
        read) for the config chosen for this run."""
        path = chosen_path(ctx)
        if not Path(path).exists():
            return {}, None, "no such file"
        try:
            load_env_file(path)
            from core.plugins import load_registry

            settings = load_settings(path)
            registry = load_registry(settings)
        except ConfigError as exc:
            return {}, None, str(exc)
        ctx.ensure_object(dict)["settings_path"] = path
        return {command.name: command for command in registry.commands}, list(settings.enabled), None

    def resolve_command(self, ctx: click.Context, args: list[str]) -> tuple[str | None, click.Command | None, list[str]]:
        # `relaydesk mail ingest --config X`: a plugin's command does not know --config, so the
        # root takes it from the arguments after the command's name.
        if args and args[0] not in self.commands:
            path, rest = take_config(args[1:])
            if path is not None:
                ctx.meta["relaydesk.config"] = path
                args = [args[0], *rest]
        return super().resolve_command(ctx, args)

    def list_commands(self, ctx: click.Context) -> list[str]:
        commands, enabled, _ = self._plugin_commands(ctx)
        return sorted({*super().list_commands(ctx), *commands, *standalone_commands(enabled or [])})

    def get_command(self, ctx: click.Context, name: str) -> click.Command | None:
        found = super().get_command(ctx, name)
        if found is not None:
            return found
        commands, enabled, problem = self._plugin_commands(ctx)
        if name not in commands:
            standalone = standalone_commands(enabled or []).get(name)
            if standalone is not None:  # e.g. `relaydesk demo`, which writes its own config
                return standalone
            # A plugin's command where that plugin is not enabled: a configuration error
            # (sysexits EX_CONFIG), not a typo.
            exit_for_disabled_command(ctx, name, chosen_path(ctx), enabled, problem)
        return commands.get(name)


@click.group(cls=PluginCommands)
@click.option("--config", "-c", default=None, metavar="PATH",
              help="Path to plugins.toml for any command (default: $RELAYDESK_CONFIG, else ./plugins.toml).")
@click.version_option(package_name="relaydesk")
def main(config: str | None) -> None:
    """Relaydesk: every customer conversation in one self-hosted inbox."""


async def _migrate(desk) -> int:
    from core import db
    from core.migrate import migrate, pending

    await db.connect(desk.settings.database)
    try:
        todo = await pending([("core", _core_folder()), *desk.registry.migrations])
        with Progress(console=console, transient=True) as progress:
            task = progress.add_task("Migrating", total=len(todo) or 1)
            count = await migrate(desk.registry.migrations, progress=lambda app, mid: progress.advance(task))
        return count
    finally:
        await db.disconnect()


def _core_folder() -> str:
    from core.piccolo_app import MIGRATIONS_FOLDER

    return MIGRATIONS_FOLDER


@main.command()
@startup_errors
@config_option
def migrate(config: str) -> None:
    """Apply pending database migrations (core and enabled plugins)."""
    desk = _desk(config)
    preflight(desk.settings, data_dir=False, redis=False)
    count = asyncio.run(_migrate(desk))
    console.print(f"Applied {count} migration(s); the database is up to date.")


@main.command("rebuild-counts")
@config_option
def rebuild_counts(config: str) -> None:
    """Recount the open tickets behind the inbox's navigation counts (safe while the desk runs)."""
    desk = _desk(config)

    async def run() -> int:
        from core import counts, db

        await db.connect(desk.settings.database)
        try:
            return await counts.rebuild()
        finally:
            await db.disconnect()

    keys = asyncio.run(run())
    console.print(f"Recounted: {keys} count(s) kept.")


@main.group("reports")
def reports_group() -> None:
    """Report figures: rebuild the hourly rollups from the recorded history."""


@reports_group.command("rebuild")
@config_option
@click.option("--from-tickets", is_flag=True,
              help="First replace the recorded facts with what the tickets' current state shows "
                   "(for history older than the reports; loses earlier solves and reopens).")
def reports_rebuild(config: str, from_tickets: bool) -> None:
    """Rebuild the report rollups from the recorded facts, with a progress bar."""
    from core.reports import rollups

    async def work(desk) -> int:
        if from_tickets:
            console.print(f"Recorded {await rollups.seed_from_tickets()} fact(s) from the tickets.")
        with Progress(console=console) as progress:
            task = progress.add_task("Folding facts into rollups", total=None)
            done = await rollups.rebuild(progress=lambda n, total: progress.update(task, completed=n, total=total))
        return done

    done = _on_desk(config, work)
    console.print(f"Rebuilt the report rollups from {done} fact(s).")


@main.group("agents")
def agents_group() -> None:
    """Add agents, change their roles, deactivate them, set passwords, make password links."""


def _on_desk(config: str, work):
    """Run `work(desk)` connected to the configured database; a refusal prints one line, exit 1."""
    from core import db
    from core.errors import RelaydeskError

    desk = _desk(config)
    preflight(desk.settings, data_dir=False, redis=False)

    async def run():
        await db.connect(desk.settings.database, pool_size=2)
        try:
            return await work(desk)
        finally:
            await db.disconnect()

    try:
        return asyncio.run(run())
    except RelaydeskError as exc:
        err.print(f"[red]Not done:[/red] {exc}", soft_wrap=True)
        sys.exit(1)


def _password_link(desk, agent: dict, purpose: str) -> str:
    from core import people

    return people.link_url(desk.settings.public_url, people.make_link_token(desk.settings.secret, agent, purpose))


@agents_group.command("list")
@startup_errors
@config_option
def agents_list(config: str) -> None:
    """Every agent with role and status."""
    from core.tables import Agent

    async def work(desk):
        return await Agent.select(Agent.id, Agent.name, Agent.email, Agent.role, Agent.active,
                                  Agent.password_hash).order_by(Agent.id)

    table = RichTable("id", "name", "email", "role", "status")
    for row in _on_desk(config, work):
        status = "active" if row["active"] and row["password_hash"] else ("invited" if row["active"] else "deactivated")
        table.add_row(str(row["id"]), row["name"], row["email"], row["role"], status)
    console.print(table)


@agents_group.command("add")
@startup_errors
@config_option
@click.argument("email")
@click.option("--name", default="", help="Shown to customers and colleagues (default: the email).")
@click.option("--role", type=click.Choice(["admin", "supervisor", "agent", "readonly"]), default="agent", show_default=True)
@click.option("--password", "ask_password", is_flag=True, help="Set a password now (asked for) instead of printing an invitation link.")
def agents_add(config: str, email: str, name: str, role: str, ask_password: bool) -> None:
    """Add an agent; prints a link that lets them choose their password (valid 7 days, once)."""
    from core import people

    password = click.prompt("Password", hide_input=True, confirmation_prompt=True) if ask_password else None

    async def work(desk):
        agent = await people.add(email, name, role, password, actor="cli")
        return agent, (None if password else _password_link(desk, agent, "invite"))

    agent, link = _on_desk(config, work)
    console.print(f"Added {agent['email']} as {agent['role']}.")
    if link:
        console.print(f"Send them this link to choose a password (valid 7 days, once):\n{link}", soft_wrap=True)


@agents_group.command("set-role")
@startup_errors
@config_option
@click.argument("email")
@click.argument("role", type=click.Choice(["admin", "supervisor", "agent", "readonly"]))
def agents_set_role(config: str, email: str, role: str) -> None:
    """Change an agent's role."""
    from core import people

    async def work(desk):
        agent = await people.by_email(email)
        await people.set_role(agent["id"], role, actor="cli")

    _on_desk(config, work)
    console.print(f"{email} is now {role}.")


@agents_group.command("deactivate")
@startup_errors
@config_option
@click.argument("email")
def agents_deactivate(config: str, email: str) -> None:
    """Stop an agent: sign-in refused, sessions and API tokens end at once, open tickets routed again."""
    from core import people

    async def work(desk):
        agent = await people.by_email(email)
        return await people.deactivate(desk, agent["id"], actor="cli")

    moved = _on_desk(config, work)
    console.print(f"{email} is deactivated; {moved} open ticket(s) moved on.")


@agents_group.command("activate")
@startup_errors
@config_option
@click.argument("email")
def agents_activate(config: str, email: str) -> None:
    """Let a deactivated agent work again."""
    from core import people

    async def work(desk):
        await people.activate((await people.by_email(email))["id"], actor="cli")

    _on_desk(config, work)
    console.print(f"{email} is active again.")


@agents_group.command("set-password")
@startup_errors
@config_option
@click.argument("email")
def agents_set_password(config: str, email: str) -> None:
    """Set an agent's password (asked for); their sessions end."""
    from core import people

    password = click.prompt("New password", hide_input=True, confirmation_prompt=True)

    async def work(desk):
        await people.set_password((await people.by_email(email))["id"], password, actor="cli")

    _on_desk(config, work)
    console.print(f"Password of {email} set; their sessions have ended.")


@agents_group.command("reset-link")
@startup_errors
@config_option
@click.argument("email")
def agents_reset_link(config: str, email: str) -> None:
    """Print a link that lets the agent choose a new password (valid 2 hours, once)."""

    async def work(desk):
        from core import people

        agent = await people.by_email(email)
        return _password_link(desk, agent, "reset" if agent["password_hash"] else "invite")

    console.print(_on_desk(config, work), soft_wrap=True)


@main.group("db")
def db_group() -> None:
    """Work on the desk's database as a whole."""


@db_group.command("copy")
@startup_errors
@config_option
@click.option("--to", "target", required=True, metavar="URL",
              help="The new, empty database, e.g. postgresql://relaydesk@127.0.0.1/relaydesk or sqlite:///desk.db.")
def db_copy(config: str, target: str) -> None:
    """Copy this desk's database (the configured one) into a new database, SQLite or PostgreSQL,
    and check the copy. The source is only read. Then point `database` in the configuration at the
    target and restart the desk."""
    from core.dbcopy import CopyError, copy_database

    desk = _desk(config)
    preflight(desk.settings, data_dir=False, redis=False)
    try:
        report = asyncio.run(copy_database(desk.settings.database, target, desk.registry.migrations))
    except CopyError as exc:
        err.print(f"[red]Not copied:[/red] {exc}", soft_wrap=True)
        sys.exit(1)
    table = RichTable("table", "rows", title="Copied and checked (same rows on both sides)")
    for name, rows in report.rows.items():
        table.add_row(name, str(rows))
    console.print(table)
    console.print(f"Navigation counts rebuilt ({report.counts_kept} kept, equal to a recount); "
                  f"search index built from {report.indexed} row(s).")
    console.print(f"Now set database = \"{target}\" in {config} and restart the desk.")


# uvicorn would take the client's address from X-Forwarded-For whenever the peer is loopback;
# the desk decides that itself, from [relaydesk] trusted_proxies (web/client_address.py).
UVICORN_OPTIONS = {"proxy_headers": False}

DEFAULT_CONFIG = """\
# Relaydesk configuration. Secrets are references: {{ env = "NAME" }}; `relaydesk init` keeps their
# values in relaydesk.env beside this file (keep that file private).
[relaydesk]
database = "{database}"
# redis = "redis://127.0.0.1:6379/0"   # set it to run jobs on arq workers instead of in-process
timezone = "UTC"
secret = {{ env = "RELAYDESK_SECRET" }}
data_dir = "data"
# outbound_allowlist = ["10.0.0.5"]   # non-public addresses the desk may call (webhooks, callbacks)
# trusted_proxies = ["127.0.0.1"]     # proxies whose X-Forwarded-For names the client (sign-in throttle)

[plugins]
enabled = ["api_channel"]

[plugins.api_channel.accounts.default]
secret = {{ env = "RELAYDESK_API_CHANNEL_SECRET" }}
# callback_url = "https://your-system.example/relaydesk-replies"
"""


@main.command()
@startup_errors
@config_option
@click.option("--database", default="sqlite:///relaydesk.db", show_default=True, help="Database URL.")
@click.option("--admin-email", default="admin@example.com", show_default=True)
@click.option("--admin-name", default="Admin", show_default=True)
@click.option("--admin-password", default=None, help="Generated and printed when omitted.")
def init(config: str, database: str, admin_email: str, admin_name: str, admin_password: str | None) -> None:
    """Write plugins.toml and its secrets, migrate the database and create the first admin."""
    path = Path(config)
    env_file = path.resolve().parent / "relaydesk.env"
    if not path.exists():
        path.write_text(DEFAULT_CONFIG.format(database=database), encoding="utf-8")
        console.print(f"Wrote {path}")
    else:
        console.print(f"{path} exists; keeping it")
    if not env_file.exists():
        env_file.write_text(
            f"RELAYDESK_SECRET={secrets.token_urlsafe(32)}\nRELAYDESK_API_CHANNEL_SECRET={secrets.token_urlsafe(24)}\n",
            encoding="utf-8",
        )
        env_file.chmod(0o600)
        console.print(f"Wrote {env_file} (secrets; keep it private)")
    placeholders = add_secret_placeholders(str(path), str(env_file))
    from core.cli_plugins import secret_settings, write_placeholders

    placeholders += write_placeholders(str(env_file), secret_settings(str(path)))
    if placeholders:
        console.print(f"Added empty {', '.join(placeholders)} to {env_file}: fill them in")
    desk = _desk(config)
    preflight(desk.settings, create_data_dir=True, redis=False)
    asyncio.run(_migrate(desk))
    password = admin_password or secrets.token_urlsafe(12)
    created, token = asyncio.run(_create_admin(desk, admin_email, admin_name, password))
    if created:
        console.print(f"Admin [bold]{admin_email}[/bold] created" + ("" if admin_password else f" with password [bold]{password}[/bold]"))
        console.print(f"API token: [bold]{token}[/bold] (shown once)")
    else:
        console.print(f"Admin {admin_email} already exists")
    console.print("Start the desk with: relaydesk serve")


async def _create_admin(desk, email: str, name: str, password: str) -> tuple[bool, str | None]:
    from core import db
    from core.auth import create_token, hash_password
    from core.tables import Agent

    await db.connect(desk.settings.database)
    try:
        if await Agent.exists().where(Agent.email == email.lower()):
            return False, None
        rows = await Agent.insert(Agent(name=name, email=email.lower(), role="admin",
                                        password_hash=hash_password(password), availability="online")).returning(Agent.id)
        return True, await create_token(rows[0]["id"], "init")
    finally:
        await db.disconnect()


@main.command()
@startup_errors
@config_option
@click.option("--host", default="127.0.0.1", show_default=True)
@click.option("--port", default=8000, show_default=True, type=int)
@click.option("--workers", default=1, show_default=True, type=int, help="Web processes (needs redis for jobs).")
@click.option("--access-log/--no-access-log", default=True, show_default=True,
              help="Log every request (costs throughput under load; /metrics counts requests either way).")
@log_format_option
def serve(config: str, host: str, port: int, workers: int, access_log: bool, log_format: str | None) -> None:
    """Run the web server. Without redis configured, jobs run in this process."""
    from core import logs
    from core.serving import run_uvicorn

    if workers > 1:
        # Every web process counts into the desk's multiprocess folder, so /metrics is the total.
        from web.metrics_folder import use_metrics_folder

        settings = _settings(config)
        use_metrics_folder(settings.data_dir, settings.queue_name)
    desk = _desk(config)
    if workers > 1 and not desk.settings.redis:
        err.print("[red]--workers > 1 needs \\[relaydesk] redis: in-process jobs would run in every process[/red]")
        sys.exit(2)
    log_format = logs.configure(log_format)
    preflight(desk.settings, listen=(host, port))
    asyncio.run(_migrate(desk))
    # On SIGTERM/SIGINT requests get STOP_GRACE_SECONDS to finish; live (SSE) streams, which never
    # finish, are then closed (browsers reconnect to another process), and the process exits in time.
    run_uvicorn(config, host=host, port=port, workers=workers, access_log=access_log, log_format=log_format,
                timeout_graceful_shutdown=STOP_GRACE_SECONDS, **UVICORN_OPTIONS)


@main.command()
@startup_errors
@config_option
@click.option("--burst", is_flag=True, help="Exit when the queue is empty.")
@log_format_option
def worker(config: str, burst: bool, log_format: str | None) -> None:
    """Run an arq worker that delivers replies and runs plugin jobs (needs redis)."""
    from core import logs

    desk = _desk(config)
    if not desk.settings.redis:
        err.print("[red]relaydesk worker needs \\[relaydesk] redis = \"redis://...\" in plugins.toml[/red]")
        sys.exit(2)
    logs.configure(log_format)
    preflight(desk.settings)
    asyncio.run(run_worker(desk, burst=burst))


async def run_worker(desk, *, burst: bool = False) -> int:
    """Run an arq worker for `desk` until SIGTERM/SIGINT (or the queue is empty with burst), through
    Redis and database outages (core.worker). Returns failed jobs."""
    from core.worker import run_worker as run

    return await run(desk, burst=burst)


@main.command()
@config_option
def plugins(config: str) -> None:
    """List installed plugins: enabled or not, their settings' status, hooks, channels and accounts."""
    from core.cli_plugins import inventory
    from core.plugins import load_registry

    found = inventory(config)
    registry, problem = None, None
    try:
        load_env_file(config)
        registry = load_registry(load_settings(config))
    except ConfigError as exc:
        problem = exc
    table = RichTable(title="Plugins")
    for column in ("plugin", "source", "state", "settings", "hooks", "channels", "accounts"):
        table.add_column(column)
    for item in found.plugins:
        hooks, channels, accounts = "", "", ""
        if item.enabled and registry is not None:
            plugin = registry.pm.get_plugin(item.name)
            hooks = ", ".join(sorted(c.name for c in registry.pm.get_hookcallers(plugin) or []))
            channels = ", ".join(c.label or c.name for c in registry.channels.values() if c.plugin == item.name)
            accounts = ", ".join(a.name for a in registry.accounts.values() if a.plugin == item.name)
            settings = "ok"
        elif item.enabled:
            settings = "error (below)" if item.source != "core default" else ""
        else:
            settings = "configured, not loaded" if item.configured else "-"
        table.add_row(item.name, item.source, "enabled" if item.enabled else "disabled", settings, hooks, channels,
                      accounts)
    Console().print(table)  # a console made now reads COLUMNS as this run has it, not as at import
    if problem is not None:
        err.print(f"[red]Configuration error[/red] {problem}", soft_wrap=True)
        sys.exit(2)


@main.command("secrets")
@config_option
@click.option("--write/--no-write", default=True, show_default=True,
              help="Append empty NAME= lines to relaydesk.env for secrets nothing sets yet.")
def secrets_command(config: str, write: bool) -> None:
    """List the secret settings of every enabled plugin and where each comes from."""
    from core.cli_plugins import secret_settings, write_placeholders

    env_file = Path(config).resolve().parent / "relaydesk.env"
    load_env_file(config)
    found = secret_settings(config)
    table = RichTable(title=f"Secrets ({env_file})")
    for column in ("plugin", "setting", "variable", "state"):
        table.add_column(column)
    for item in found:
        if item.variable in os.environ and os.environ[item.variable]:
            state = "set"
        elif item.referenced:
            state = "missing" if item.required else "empty (optional)"
        else:
            state = f"not in {Path(config).name}" + ("" if item.required else " (optional)")
        table.add_row(item.plugin, item.key, item.variable, state)
    Console().print(table)
    if write:
        added = write_placeholders(str(env_file), found)
        if added:
            console.print(f"Added empty {', '.join(added)} to {env_file}: fill them in")


@main.group("plugin")
def plugin_group() -> None:
    """Write a new plugin package."""


@plugin_group.command("new")
@click.argument("name")
@click.option("--dir", "directory", default=None, metavar="PATH",
              help="Where to write the package (default: ./relaydesk-NAME).")
def plugin_new(name: str, directory: str | None) -> None:
    """Write a separate, installable channel plugin NAME with tests that pass as generated."""
    from core.scaffold import ScaffoldError, write_plugin

    target = Path(directory or f"relaydesk-{name}")
    try:
        written = write_plugin(name, target)
    except ScaffoldError as exc:
        err.print(f"[red]{exc}[/red]")
        sys.exit(2)
    console.print(f"Wrote {len(written)} files to {target}")
    click.echo(f"Next: cd {target} && pip install -e '.[test]' && pytest")


if __name__ == "__main__":
    main()

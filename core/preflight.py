"""Start-up checks: before a command opens the desk, make sure what it needs is there, and when it is
not, say so in one line that names the setting and what to check.

An operator paged at 3 a.m. reads `relaydesk serve: [relaydesk] redis: cannot connect to
127.0.0.1:6379 (connection refused). Check: ...`, not eighty lines of asyncio traceback. Exit
codes: 2 for configuration that is wrong as written (fix the file), 1 for something unreachable or
missing at the moment (a service manager may retry).
"""

from __future__ import annotations

import asyncio
import errno
import functools
import os
import socket
import sys
from pathlib import Path
from typing import Any, Callable
from urllib.parse import urlsplit, urlunsplit

import click

from core.config import Settings
from core.errors import RelaydeskError

EXIT_UNAVAILABLE = 1


class StartupProblem(RelaydeskError):
    """Something a command needs at start is missing or unreachable."""

    code = "startup_problem"

    def __init__(self, setting: str, problem: str, check: str) -> None:
        self.setting, self.problem, self.check = setting, problem, check
        super().__init__(f"{setting}: {problem}. Check: {check}")


def redact(url: str) -> str:
    """A service URL without its password, fit for a log line."""
    try:
        parts = urlsplit(url)
    except ValueError:
        return "<unparsable URL>"
    if parts.password is None:
        return url
    netloc = f"{parts.username}:***@{parts.hostname}" + (f":{parts.port}" if parts.port else "")
    return urlunsplit(parts._replace(netloc=netloc))


def _reason(exc: BaseException) -> str:
    cause = exc
    while cause.__cause__ or cause.__context__:  # redis wraps the socket's error in its own
        cause = cause.__cause__ or cause.__context__  # type: ignore[assignment]
        if isinstance(cause, OSError) and cause.errno:
            exc = cause
            break
    if isinstance(exc, (asyncio.TimeoutError, TimeoutError, socket.timeout)):
        return "no answer within the timeout"
    if isinstance(exc, ConnectionRefusedError) or getattr(exc, "errno", None) == errno.ECONNREFUSED:
        return "connection refused"
    if isinstance(exc, socket.gaierror):
        return f"the host name does not resolve ({exc.strerror})"
    text = str(exc).strip().splitlines()[0] if str(exc).strip() else type(exc).__name__
    return text[:300]


async def check_database(url: str, timeout: float = 5.0) -> None:
    if url.startswith("sqlite://"):
        from core.db import sqlite_path

        path = Path(sqlite_path(url))
        folder = path.parent if str(path.parent) else Path(".")
        if path.exists():
            if not os.access(path, os.R_OK | os.W_OK):
                raise StartupProblem("[relaydesk] database", f"the SQLite file {path} is not readable and writable",
                                     f"its owner and mode (ls -l {path}); the desk's user must read and write it")
        elif not folder.is_dir():
            raise StartupProblem("[relaydesk] database", f"the folder {folder} of the SQLite file does not exist",
                                 "the path in database = \"sqlite:///...\" (create the folder or correct the path)")
        elif not os.access(folder, os.W_OK):
            raise StartupProblem("[relaydesk] database", f"the folder {folder} of the SQLite file is not writable",
                                 "its owner and mode; the desk's user must create files there")
        return
    import asyncpg

    parts = urlsplit(url)
    where = f"{parts.hostname or 'the local socket'}" + (f":{parts.port}" if parts.port else "")
    try:
        conn = await asyncpg.connect(url.replace("postgres://", "postgresql://", 1), timeout=timeout)
    except asyncpg.InvalidCatalogNameError:
        name = parts.path.lstrip("/")
        raise StartupProblem("[relaydesk] database", f"the database {name!r} does not exist on {where}",
                             f"the name in the URL, or create it (createdb {name})") from None
    except (asyncpg.InvalidPasswordError, asyncpg.InvalidAuthorizationSpecificationError) as exc:
        raise StartupProblem("[relaydesk] database", f"PostgreSQL at {where} refused the login ({_reason(exc)})",
                             "the user and password in the URL (or RELAYDESK_DATABASE) and pg_hba.conf") from None
    except Exception as exc:  # noqa: BLE001 - any failure to connect is reported the same way
        raise StartupProblem("[relaydesk] database", f"cannot connect to PostgreSQL at {where} ({_reason(exc)})",
                             "that PostgreSQL is running and the URL's host, port and database are right "
                             f"(pg_isready -h {parts.hostname or 'localhost'} -p {parts.port or 5432})") from None
    await conn.close()


async def check_redis(url: str, timeout: float = 3.0) -> None:
    from redis.asyncio import Redis

    parts = urlsplit(url)
    where = f"{parts.hostname}:{parts.port or 6379}"
    client = Redis.from_url(url, socket_connect_timeout=timeout, socket_timeout=timeout)
    try:
        await client.ping()
    except Exception as exc:  # noqa: BLE001
        raise StartupProblem("[relaydesk] redis", f"cannot connect to Redis at {where} ({_reason(exc)})",
                             f"that Redis is running and the URL is right (redis-cli -h {parts.hostname} "
                             f"-p {parts.port or 6379} ping); without redis set, jobs run in the web process") from None
    finally:
        await client.aclose()


def check_data_dir(path: str, *, create: bool = False) -> None:
    folder = Path(path)
    # A first start may make the folder itself; a missing parent means a wrong path (or a volume
    # that is not there), which an empty folder on another disk would only hide.
    create = create or (not folder.exists() and folder.resolve().parent.is_dir())
    if not folder.exists():
        if create:
            try:
                folder.mkdir(parents=True)
            except OSError as exc:
                raise StartupProblem("[relaydesk] data_dir", f"cannot create {folder.resolve()} ({exc.strerror})",
                                     "the path and the rights of its parent folder") from None
            return
        raise StartupProblem("[relaydesk] data_dir", f"the folder {folder.resolve()} does not exist, nor its "
                             f"parent {folder.resolve().parent}",
                             f"the path (or RELAYDESK_DATA_DIR); if it is a mounted volume, that it is mounted; "
                             f"on a new desk create it (mkdir -p {folder.resolve()})")
    if not folder.is_dir():
        raise StartupProblem("[relaydesk] data_dir", f"{folder.resolve()} is not a folder", "the path")
    if not os.access(folder, os.W_OK | os.X_OK):
        raise StartupProblem("[relaydesk] data_dir", f"the folder {folder.resolve()} is not writable",
                             f"its owner and mode (ls -ld {folder.resolve()}); the desk's user keeps attachments there")


def check_port(host: str, port: int) -> None:
    """Bind the address the way uvicorn will, and let it go again."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    sock = socket.socket(family, socket.SOCK_STREAM)
    sock.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        sock.bind((host, port))
    except OSError as exc:
        if exc.errno == errno.EADDRINUSE:
            raise StartupProblem("--port", f"{host}:{port} is already in use",
                                 f"which program listens there (ss -ltnp 'sport = :{port}'): stop it or "
                                 "choose another --port") from None
        if exc.errno == errno.EACCES:
            raise StartupProblem("--port", f"port {port} needs privileges this user does not have",
                                 "use a port above 1023 and put nginx in front (docs/deploying.md)") from None
        if exc.errno in (errno.EADDRNOTAVAIL, socket.EAI_NONAME) or isinstance(exc, socket.gaierror):
            raise StartupProblem("--host", f"{host} is not an address of this machine",
                                 "the address (127.0.0.1 behind a local proxy, 0.0.0.0 for every interface)") from None
        raise StartupProblem("--host/--port", f"cannot listen on {host}:{port} ({_reason(exc)})",
                             "the address and port") from None
    finally:
        sock.close()


async def check_services(settings: Settings, *, redis: bool = True) -> None:
    await check_database(settings.database)
    if redis and settings.redis:
        await check_redis(settings.redis)


def preflight(settings: Settings, *, data_dir: bool = True, create_data_dir: bool = False, redis: bool = True,
              listen: tuple[str, int] | None = None) -> None:
    """Every check a command needs, cheapest first; raises StartupProblem at the first that fails."""
    if listen is not None:
        check_port(*listen)
    if data_dir:
        check_data_dir(settings.data_dir, create=create_data_dir)
    asyncio.run(check_services(settings, redis=redis))


def one_line(exc: BaseException) -> str:
    if isinstance(exc, RelaydeskError):
        return exc.message
    return f"{type(exc).__name__}: {_reason(exc)}"


def fail(command: str, exc: BaseException) -> None:
    """Print the one line and exit: 2 for configuration, 1 for the rest."""
    from core.errors import ConfigError

    code = 2 if isinstance(exc, ConfigError) else EXIT_UNAVAILABLE
    if isinstance(exc, ConfigError):
        label = "configuration error: "
    elif isinstance(exc, StartupProblem):
        label = "cannot start: "
    else:
        label = "failed: "  # past the checks (migrating, running): still one line
    hint = "" if isinstance(exc, RelaydeskError) else " (run with --debug for the traceback)"
    click.echo(f"relaydesk {command}: {label}{one_line(exc)}{hint}", err=True)
    sys.exit(code)


def startup_errors(func: Callable[..., Any]) -> Callable[..., Any]:
    """For a CLI command: adds --debug, and turns an exception into one line and a non-zero exit
    (with --debug, or RELAYDESK_DEBUG=1, the traceback shows as usual)."""

    @click.option("--debug", is_flag=True, envvar="RELAYDESK_DEBUG",
                  help="Show the full traceback when something fails at start.")
    @functools.wraps(func)
    def wrapper(*args: Any, debug: bool = False, **kwargs: Any) -> Any:
        if debug:
            os.environ["RELAYDESK_DEBUG"] = "1"  # the web processes uvicorn starts read it too
            return func(*args, **kwargs)
        try:
            return func(*args, **kwargs)
        except (click.exceptions.Exit, click.ClickException, click.Abort, SystemExit, KeyboardInterrupt):
            raise
        except Exception as exc:  # noqa: BLE001 - the point: one line instead of a traceback
            fail(click.get_current_context().info_name or func.__name__, exc)

    return wrapper


def debug_enabled() -> bool:
    return os.environ.get("RELAYDESK_DEBUG", "") not in ("", "0", "false")

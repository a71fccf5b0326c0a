"""Start-up errors, from the operator's side: real `relaydesk` processes against a database, a
Redis, a port and a folder that are not there. Each says what is wrong in one line that names the
setting and what to check, exits non-zero and shows no traceback unless --debug asks for it."""

from __future__ import annotations

import os
import socket
import subprocess
import sys
import uuid
from pathlib import Path

ROOT = Path(__file__).resolve().parents[2]
REDIS = os.environ.get("RELAYDESK_TEST_REDIS", "redis://127.0.0.1:6379/0")


def closed_port() -> int:
    """A loopback port nothing listens on."""
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def write_desk(folder: Path, *, database: str | None = None, redis: str | None = None, timezone: str = "UTC",
               data_dir: Path | None = None, enabled: tuple[str, ...] = ("api_channel",)) -> Path:
    folder.mkdir(parents=True, exist_ok=True)
    data = data_dir or folder / "data"
    if data_dir is None:
        data.mkdir(exist_ok=True)
    lines = ["[relaydesk]", f'database = "{database or f"sqlite:///{folder}/desk.db"}"', f'timezone = "{timezone}"',
             f'data_dir = "{data}"', f'queue_name = "ops-test-{uuid.uuid4().hex[:10]}"']
    if redis:
        lines.append(f'redis = "{redis}"')
    lines += ["[plugins]", f"enabled = {list(enabled)!r}".replace("'", '"'),
              "[plugins.api_channel.accounts.main]", 'secret = { env = "OPS_TEST_SECRET" }']
    path = folder / "plugins.toml"
    path.write_text("\n".join(lines) + "\n")
    return path


def start(args: list[str], config: Path, **env: str) -> subprocess.Popen:
    return subprocess.Popen([sys.executable, "-m", "core.cli", *args, "-c", str(config)], cwd=ROOT,
                            env={**os.environ, "OPS_TEST_SECRET": "s3cret", **env},
                            stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True)


def finish(proc: subprocess.Popen, timeout: float = 60) -> tuple[int, str]:
    try:
        _, stderr = proc.communicate(timeout=timeout)
    except subprocess.TimeoutExpired:
        proc.kill()
        raise AssertionError(f"{proc.args} still running after {timeout}s: {proc.communicate()[1][-2000:]}") from None
    return proc.returncode, stderr


def one_line(stderr: str) -> str:
    lines = [line for line in stderr.splitlines() if line.strip()]
    assert len(lines) == 1, f"expected one line, got:\n{stderr[-3000:]}"
    assert "Traceback" not in stderr
    return lines[0]


def test_unreachable_database_is_one_line_for_every_command(tmp_path):
    port = closed_port()
    config = write_desk(tmp_path / "pg", database=f"postgresql://postgres@127.0.0.1:{port}/desk", redis=REDIS)
    procs = {cmd: start(args, config) for cmd, args in {
        "migrate": ["migrate"], "init": ["init"], "serve": ["serve", "--port", str(closed_port())],
        "worker": ["worker"]}.items()}
    debug = start(["migrate", "--debug"], config)
    for cmd, proc in procs.items():
        code, stderr = finish(proc)
        line = one_line(stderr)
        assert code == 1, (cmd, stderr)
        assert line.startswith(f"relaydesk {cmd}: cannot start: [relaydesk] database: "), line
        assert f"cannot connect to PostgreSQL at 127.0.0.1:{port} (connection refused)" in line
        assert "Check: that PostgreSQL is running" in line and f"pg_isready -h 127.0.0.1 -p {port}" in line
    code, stderr = finish(debug)  # --debug: the traceback, for whoever digs deeper
    assert code != 0
    assert "Traceback (most recent call last)" in stderr and "StartupProblem" in stderr


def test_unreachable_redis_port_in_use_bad_time_zone_and_missing_data_folder(tmp_path):
    redis_port = closed_port()
    no_redis = write_desk(tmp_path / "redis", redis=f"redis://127.0.0.1:{redis_port}/0")
    busy = socket.socket()
    busy.bind(("127.0.0.1", 0))
    busy.listen()
    busy_port = busy.getsockname()[1]
    missing = tmp_path / "volume" / "attachments"
    cases = {
        "serve without redis": (start(["serve", "--workers", "2", "--port", str(closed_port())], no_redis), 1,
                                f"[relaydesk] redis: cannot connect to Redis at 127.0.0.1:{redis_port} (connection refused)"),
        "worker without redis": (start(["worker"], no_redis), 1, "[relaydesk] redis: cannot connect to Redis"),
        "port in use": (start(["serve", "--port", str(busy_port)], write_desk(tmp_path / "port")), 1,
                        f"--port: 127.0.0.1:{busy_port} is already in use. Check: which program listens there"),
        "time zone": (start(["serve", "--port", str(closed_port())], write_desk(tmp_path / "tz", timezone="Europe/Berln")),
                      2, "relaydesk.timezone: unknown time zone 'Europe/Berln'"),
        "data folder": (start(["worker"], write_desk(tmp_path / "data", redis=REDIS, data_dir=missing)), 1,
                        f"[relaydesk] data_dir: the folder {missing} does not exist, nor its parent {missing.parent}. "
                        "Check: the path"),
    }
    try:
        for name, (proc, code, text) in cases.items():
            got, stderr = finish(proc)
            line = one_line(stderr)
            assert got == code, (name, stderr)
            assert text in line, (name, line)
    finally:
        busy.close()
    assert not missing.exists()  # a missing volume is reported, not papered over with an empty folder


PLUGIN = '''
from core.plugins import hookimpl


@hookimpl
def startup(desk):
    raise RuntimeError("the licence server is unreachable")
'''


def test_serve_with_workers_exits_when_its_processes_cannot_start(tmp_path):
    """Everything the parent checks is fine, but each web process fails in its own start-up (here a
    plugin's startup hook): the parent stops the others and exits non-zero with the reason."""
    site = tmp_path / "site"
    (site / "fails_at_start-0.1.dist-info").mkdir(parents=True)
    (site / "fails_at_start.py").write_text(PLUGIN)
    (site / "fails_at_start-0.1.dist-info" / "METADATA").write_text("Metadata-Version: 2.1\nName: fails-at-start\nVersion: 0.1\n")
    (site / "fails_at_start-0.1.dist-info" / "entry_points.txt").write_text("[relaydesk]\nfails_at_start = fails_at_start\n")
    config = write_desk(tmp_path / "desk", redis=REDIS, enabled=("api_channel", "fails_at_start"))
    proc = start(["serve", "--workers", "2", "--port", str(closed_port())], config, PYTHONPATH=str(site))
    code, stderr = finish(proc, timeout=90)
    assert code == 1, stderr[-3000:]
    assert stderr.splitlines()[-1] == "relaydesk serve: cannot start: RuntimeError: the licence server is unreachable"
    assert "Traceback" not in stderr

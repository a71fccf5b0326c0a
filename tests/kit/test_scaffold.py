"""`relaydesk plugin new` writes a separate package whose generated tests (the test kit and the
channel conformance suite) pass once it is installed beside the desk in a fresh virtualenv."""

from __future__ import annotations

import os
import subprocess
import sys
import sysconfig
from pathlib import Path

from click.testing import CliRunner

from core.cli import main


def test_plugin_new_refuses_bad_and_bundled_names(tmp_path):
    bad = CliRunner().invoke(main, ["plugin", "new", "Bad-Name", "--dir", str(tmp_path / "a")])
    assert bad.exit_code == 2 and "is not a plugin name" in bad.output
    bundled = CliRunner().invoke(main, ["plugin", "new", "shopify", "--dir", str(tmp_path / "b")])
    assert bundled.exit_code == 2 and "bundles a plugin named 'shopify'" in bundled.output
    assert not (tmp_path / "a").exists() and not (tmp_path / "b").exists()


def _venv_beside_the_desk(root: Path) -> Path:
    """A new virtualenv that sees the desk's environment (the desk, its dependencies, the test kit)
    through a .pth file, the way a plugin author's environment has the desk installed."""
    subprocess.run([sys.executable, "-m", "venv", str(root)], check=True)
    python = root / "bin" / "python"
    purelib = subprocess.run([str(python), "-c", "import sysconfig; print(sysconfig.get_paths()['purelib'])"],
                             check=True, capture_output=True, text=True).stdout.strip()
    desk_site = sysconfig.get_paths()["purelib"]
    (Path(purelib) / "relaydesk-desk.pth").write_text(f"import site; site.addsitedir({desk_site!r})\n")
    return python


def test_generated_plugin_installs_and_its_tests_pass(tmp_path):
    result = CliRunner().invoke(main, ["plugin", "new", "telegram", "--dir", str(tmp_path / "relaydesk-telegram")])
    assert result.exit_code == 0, result.output
    package = tmp_path / "relaydesk-telegram"
    for relative in ("pyproject.toml", "README.md", "relaydesk_telegram/__init__.py", "relaydesk_telegram/plugin.py",
                     "relaydesk_telegram/translations/zh_Hans/LC_MESSAGES/messages.po", "tests/test_conformance.py"):
        assert (package / relative).is_file(), relative
    assert not (package / "tests" / "__init__.py").exists()  # no clash with anyone's `tests` package
    python = _venv_beside_the_desk(tmp_path / "venv")
    subprocess.run([str(python), "-m", "pip", "install", "-q", "--no-deps", str(package)], check=True, timeout=300)
    found = subprocess.run([str(python), "-c", "from importlib.metadata import entry_points; "
                            "print([e.value for e in entry_points(group='relaydesk')])"],
                           check=True, capture_output=True, text=True).stdout
    assert "relaydesk_telegram" in found
    env = {k: v for k, v in os.environ.items() if not k.startswith("PYTEST_")}
    run = subprocess.run([str(python), "-m", "pytest", "-q", "-p", "no:cacheprovider", "-p", "no:xdist"], cwd=package, env=env, capture_output=True, text=True, timeout=600)
    assert run.returncode == 0, run.stdout[-4000:] + run.stderr[-2000:]
    assert "10 passed" in run.stdout, run.stdout[-2000:]

    # The desk in that environment sees the installed plugin, and what its secrets need.
    desk_dir = tmp_path / "desk"
    desk_dir.mkdir()
    (desk_dir / "plugins.toml").write_text(
        '[relaydesk]\ndatabase = "sqlite:///desk.db"\n[plugins]\nenabled = ["telegram"]\n'
        '[plugins.telegram.accounts.main]\nbot_token = { env = "TG_TOKEN" }\n')
    listed = subprocess.run([str(python), "-m", "core.cli", "plugins"], cwd=desk_dir, capture_output=True, text=True,
                            env={**env, "COLUMNS": "250", "TG_TOKEN": "1:x"}, timeout=120)
    row = next((line for line in listed.stdout.splitlines() if "│ telegram " in line), "")
    cells = [c.strip() for c in row.split("│")[1:-1]]
    assert cells[1:3] == ["relaydesk-telegram 0.1.0", "enabled"], listed.stdout + listed.stderr
    assert "webhook_secret_token" in " ".join(listed.stderr.split())  # required, missing: start-up says so
    secrets = subprocess.run([str(python), "-m", "core.cli", "secrets"], cwd=desk_dir, capture_output=True,
                             text=True, env={**env, "COLUMNS": "250"}, timeout=120)
    assert secrets.returncode == 0, secrets.stdout + secrets.stderr
    written = (desk_dir / "relaydesk.env").read_text()
    assert "\nTG_TOKEN=\n" in written and "\nRELAYDESK_TELEGRAM_MAIN_WEBHOOK_SECRET_TOKEN=\n" in written


def test_the_guide_shows_the_generated_plugin_as_it_is():
    from core.scaffold import TEMPLATE, render

    guide = (Path(__file__).resolve().parents[2] / "docs" / "writing-a-plugin.md").read_text(encoding="utf-8")
    plugin = render((TEMPLATE / "__package__" / "plugin.py.tmpl").read_text(encoding="utf-8"), "telegram")
    assert plugin in guide, "docs/writing-a-plugin.md's worked example differs from `relaydesk plugin new telegram`"

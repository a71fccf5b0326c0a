"""The commands docs/plugins/email.md gives, run as written (issue 18): a global --config, sysexits
codes for what an MTA pipe cannot hand over, the shipped example account, init's placeholders."""

from __future__ import annotations

import os
import re
from pathlib import Path

import pytest
from click.testing import CliRunner

from core.cli import main
from core.config import load_settings
from core.plugins import load_registry
from tests.plugins.email.mailhelpers import mail

REPO = Path(__file__).resolve().parents[3]
EMAIL_CONFIG = """\
[relaydesk]
database = "sqlite:///{folder}/desk.db"
data_dir = "{folder}/data"

[plugins]
enabled = ["email"]

[plugins.email.accounts.support]
from_address = "support@shop.example"
smtp_url = "smtp://127.0.0.1:2525"
smtp_password = {{ env = "RD_TEST_SMTP_PASSWORD" }}
ingest_token = {{ env = "RD_TEST_INGEST_TOKEN" }}
"""


@pytest.fixture(autouse=True)
def _restore_environment():
    """Commands load relaydesk.env into os.environ; keep that from leaking into other tests."""
    saved = dict(os.environ)
    os.environ.pop("RELAYDESK_CONFIG", None)
    yield
    os.environ.clear()
    os.environ.update(saved)


@pytest.fixture
def email_desk(tmp_path, monkeypatch) -> Path:
    """A plugins.toml with the email plugin, somewhere other than the working directory."""
    folder = tmp_path / "etc"
    folder.mkdir()
    config = folder / "plugins.toml"
    config.write_text(EMAIL_CONFIG.format(folder=folder), encoding="utf-8")
    monkeypatch.setenv("RD_TEST_SMTP_PASSWORD", "x")
    monkeypatch.setenv("RD_TEST_INGEST_TOKEN", "y")
    work = tmp_path / "work"
    work.mkdir()
    monkeypatch.chdir(work)
    return config


def test_config_is_accepted_before_and_after_every_command(email_desk):
    runner = CliRunner()
    path = str(email_desk)
    migrated = runner.invoke(main, ["--config", path, "migrate"])
    assert migrated.exit_code == 0, migrated.output
    # The MTA line from the docs: --config before the plugin's command.
    first = runner.invoke(main, ["--config", path, "mail", "ingest", "--account", "support"],
                          input=mail("<c1@buyer.example>", subject="Before"))
    assert first.exit_code == 0, first.output
    assert "stored <c1@buyer.example>" in first.output
    # ... after it, and from the environment.
    after = runner.invoke(main, ["mail", "ingest", "--config", path], input=mail("<c2@buyer.example>"))
    assert after.exit_code == 0 and "stored <c2@buyer.example>" in after.output, after.output
    from_env = CliRunner(env={"RELAYDESK_CONFIG": path}).invoke(main, ["mail", "ingest"],
                                                               input=mail("<c3@buyer.example>"))
    assert from_env.exit_code == 0 and "stored <c3@buyer.example>" in from_env.output, from_env.output
    listed = CliRunner(env={"COLUMNS": "200"}).invoke(main, ["-c", path, "plugins"])
    assert listed.exit_code == 0 and "support" in listed.output
    # A mail that starts with a line of white space is still a mail (some gateways prepend one).
    spaced = runner.invoke(main, ["--config", path, "mail", "ingest"], input=b" \r\n" + mail("<c4@buyer.example>"))
    assert spaced.exit_code == 0 and "stored <c4@buyer.example>" in spaced.output, spaced.output


def test_mail_that_cannot_be_taken_gets_sysexits_codes(email_desk, tmp_path):
    runner = CliRunner()
    path = str(email_desk)
    junk = runner.invoke(main, ["--config", path, "mail", "ingest"], input=b"\x00\x01 not a mail")
    assert junk.exit_code == 65 and "not an RFC 822 mail" in junk.output
    empty = runner.invoke(main, ["--config", path, "mail", "ingest"], input=b"")
    assert empty.exit_code == 65
    # plugins.toml without the email plugin: a configuration error the MTA retries after.
    other = tmp_path / "other.toml"
    other.write_text(f'[relaydesk]\ndatabase = "sqlite:///{tmp_path}/o.db"\n[plugins]\nenabled = []\n', encoding="utf-8")
    disabled = runner.invoke(main, ["--config", str(other), "mail", "ingest"], input=mail("<d1@buyer.example>"))
    assert disabled.exit_code == 78, disabled.output
    assert 'the email plugin is not enabled in' in disabled.output and 'add "email"' in disabled.output
    missing = runner.invoke(main, ["--config", str(tmp_path / "nope.toml"), "mail", "ingest"], input=b"From: a@b\n\nx")
    assert missing.exit_code == 78 and "could not be read" in missing.output
    # A command no plugin has stays a usage error.
    assert runner.invoke(main, ["--config", str(other), "no-such-command"]).exit_code == 2


def test_the_shipped_email_example_is_a_valid_account(tmp_path, monkeypatch):
    text = (REPO / "plugins.toml").read_text(encoding="utf-8")
    block = re.search(r"^# \[plugins\.email\.accounts\.support\]\n(?:^# .*\n)+", text, re.M)
    assert block, "plugins.toml has a commented email account example"
    account = "\n".join(line[2:] for line in block.group(0).splitlines())
    config = tmp_path / "plugins.toml"
    config.write_text(f'[relaydesk]\ndatabase = "sqlite:///{tmp_path}/x.db"\n[plugins]\nenabled = ["email"]\n'
                      + account + "\n", encoding="utf-8")
    for name in re.findall(r'env = "(\w+)"', account):
        monkeypatch.setenv(name, "set")
    registry = load_registry(load_settings(config))
    settings = registry.account("email", "support").settings
    assert settings.imap_url and settings.smtp_url and settings.from_address == "support@your-shop.example"


def test_init_writes_placeholders_for_the_secrets_the_config_names(email_desk):
    env_file = email_desk.parent / "relaydesk.env"
    for name in ("RD_TEST_SMTP_PASSWORD", "RD_TEST_INGEST_TOKEN"):
        os.environ.pop(name, None)
    done = CliRunner().invoke(main, ["--config", str(email_desk), "init", "--admin-password", "pw-123456"])
    assert done.exit_code == 0, done.output
    values = dict(line.split("=", 1) for line in env_file.read_text().splitlines() if "=" in line and line[0] != "#")
    assert values["RD_TEST_SMTP_PASSWORD"] == "" and values["RD_TEST_INGEST_TOKEN"] == ""
    assert values["RELAYDESK_SECRET"]  # generated as before
    assert env_file.stat().st_mode & 0o077 == 0

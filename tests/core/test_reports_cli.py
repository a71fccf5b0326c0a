"""`relaydesk reports rebuild`: rebuilds the rollups of a desk made by `relaydesk init`."""

from __future__ import annotations

import os

import pytest
from click.testing import CliRunner

from core.cli import main


@pytest.fixture(autouse=True)
def _restore_environment():
    saved = dict(os.environ)
    yield
    os.environ.clear()
    os.environ.update(saved)


def test_reports_rebuild_from_the_command_line(tmp_path, monkeypatch):
    monkeypatch.chdir(tmp_path)
    assert CliRunner().invoke(main, ["init", "--admin-email", "boss@example.com"]).exit_code == 0
    rebuilt = CliRunner().invoke(main, ["reports", "rebuild"])
    assert rebuilt.exit_code == 0, rebuilt.output
    assert "Rebuilt the report rollups from 0 fact(s)." in rebuilt.output
    seeded = CliRunner().invoke(main, ["reports", "rebuild", "--from-tickets"])
    assert seeded.exit_code == 0 and "Recorded 0 fact(s) from the tickets." in seeded.output, seeded.output

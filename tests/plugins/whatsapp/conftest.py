"""Fixtures for the WhatsApp plugin: a loopback Graph API and the account's secrets."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plugins.whatsapp.graph_loopback import GraphLoopback
from tests.plugins.whatsapp.wa_helpers import APP_SECRET, TOKEN, VERIFY_TOKEN


@pytest.fixture(autouse=True)
def _whatsapp_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RD_TEST_WA_TOKEN", TOKEN)
    monkeypatch.setenv("RD_TEST_WA_SECRET", APP_SECRET)
    monkeypatch.setenv("RD_TEST_WA_VERIFY", VERIFY_TOKEN)


@pytest.fixture
def graph() -> Any:
    server = GraphLoopback(token=TOKEN).start()
    yield server
    server.stop()


@pytest.fixture(autouse=True)
def _fresh_template_cache() -> None:
    from plugins.whatsapp import templates

    templates.forget()

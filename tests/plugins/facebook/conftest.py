"""Fixtures for the Facebook plugin: a loopback Graph API and the accounts' secrets."""

from __future__ import annotations

from typing import Any

import pytest

from tests.plugins.facebook.fb_helpers import APP_SECRET, PAGE_TOKEN, VERIFY_TOKEN
from tests.plugins.whatsapp.graph_loopback import GraphLoopback


@pytest.fixture(autouse=True)
def _facebook_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("RD_TEST_FB_TOKEN", PAGE_TOKEN)
    monkeypatch.setenv("RD_TEST_FB_SECRET", APP_SECRET)
    monkeypatch.setenv("RD_TEST_FB_VERIFY", VERIFY_TOKEN)


@pytest.fixture
def graph() -> Any:
    server = GraphLoopback(token=PAGE_TOKEN).start()
    yield server
    server.stop()

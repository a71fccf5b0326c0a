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


@pytest.fixture
def shifted_clock() -> Any:
    """Move the desk's clock forward by a timedelta; always restored."""
    from datetime import timedelta

    from core import clock

    offset = {"value": timedelta(0)}
    real = clock._source
    clock.set_clock(lambda: real() + offset["value"])
    try:
        yield lambda delta: offset.__setitem__("value", delta)
    finally:
        clock.set_clock(None)

"""Fixtures for the CSAT plugin: a desk with a secret, the plugin's table and an event listener."""

from __future__ import annotations

from typing import Any, Callable

import pytest
from pluggy import HookimplMarker

from core.migrate import migrate

SECRET = "csat-test-secret-0123456789"
hookimpl = HookimplMarker("relaydesk")


class Listener:
    """A throwaway plugin that records the events it hears."""

    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def ticket_event(self, event: Any) -> None:
        self.events.append(event)


@pytest.fixture(autouse=True)
def _csat_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_CSAT_SECRET", SECRET)


def csat_config(**plugin: Any) -> Callable[[dict[str, Any]], None]:
    def configure(config: dict[str, Any]) -> None:
        config["relaydesk"]["secret"] = {"env": "TEST_CSAT_SECRET"}
        config["relaydesk"]["public_url"] = "https://desk.example.com"
        config["plugins"]["enabled"] = ["api_channel", "csat"]
        config["plugins"]["csat"] = {"delay_minutes": 0, **plugin}
    return configure


async def csat_desk(make_desk: Callable[..., Any], listener: Listener | None = None, **plugin: Any) -> Any:
    extra = [("listener", listener)] if listener is not None else None
    desk = await make_desk(csat_config(**plugin), extra_plugins=extra)
    await migrate(desk.registry.migrations)
    return desk

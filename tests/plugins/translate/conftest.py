"""Fixtures for the translate plugin: a loopback provider and a desk pointed at it."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import pytest_asyncio

from core.migrate import migrate
from tests.plugins.translate.fakes import FakeProvider

KEY = "test-key"


@pytest.fixture(autouse=True)
def _translate_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_TRANSLATE_KEY", KEY)


@pytest.fixture
def provider() -> Any:
    server = FakeProvider(key=KEY).start()
    yield server
    server.stop()


def translate_config(url: str, **plugin: Any) -> Callable[[dict[str, Any]], None]:
    def configure(config: dict[str, Any]) -> None:
        config["plugins"]["enabled"] = ["api_channel", "translate"]
        config["plugins"]["translate"] = {"provider": "deepl", "base_url": url,
                                          "api_key": {"env": "TEST_TRANSLATE_KEY"}, **plugin}
    return configure


@pytest_asyncio.fixture(loop_scope="session")
async def tdesk(make_desk: Callable[..., Any], provider: FakeProvider) -> Any:
    """A desk whose translate plugin talks DeepL to the loopback provider; the plugin's tables exist."""
    desk = await make_desk(translate_config(provider.url))
    await migrate(desk.registry.migrations)
    return desk


async def desk_with(make_desk: Callable[..., Any], url: str, **plugin: Any) -> Any:
    desk = await make_desk(translate_config(url, **plugin))
    await migrate(desk.registry.migrations)
    return desk

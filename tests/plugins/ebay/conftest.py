"""Fixtures for the eBay plugin: a loopback eBay and a desk with one seller account pointing at it."""

from __future__ import annotations

from typing import Any, Callable

import pytest
import pytest_asyncio

from core.migrate import migrate
from tests.plugins.ebay.fake_ebay import CLIENT_SECRET, REFRESH_TOKEN, SELLER, CLIENT_ID, FakeEbay

VERIFICATION_TOKEN = "relaydesk-verification-token-0123456789abcdef"
ENDPOINT = "https://desk.example.com/ebay/account-deletion"


@pytest.fixture(autouse=True)
def _ebay_env(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("TEST_EBAY_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("TEST_EBAY_REFRESH", REFRESH_TOKEN)
    monkeypatch.setenv("TEST_EBAY_VERIFY", VERIFICATION_TOKEN)


@pytest.fixture
def fake() -> Any:
    server = FakeEbay().start()
    yield server
    server.stop()


def ebay_config(fake_url: str, *, account: dict[str, Any] | None = None, **plugin: Any) -> Callable[[dict[str, Any]], None]:
    def configure(config: dict[str, Any]) -> None:
        config["plugins"]["enabled"] = ["api_channel", "ebay"]
        config["plugins"]["ebay"] = {
            "verification_token": {"env": "TEST_EBAY_VERIFY"}, "deletion_endpoint": ENDPOINT, **plugin,
            "accounts": {"main": {"client_id": CLIENT_ID, "client_secret": {"env": "TEST_EBAY_SECRET"},
                                  "refresh_token": {"env": "TEST_EBAY_REFRESH"}, "seller_username": SELLER,
                                  "marketplace_id": "EBAY_DE", "api_base": fake_url, "max_wait_seconds": 2,
                                  **(account or {})}},
        }
    return configure


@pytest_asyncio.fixture(loop_scope="session")
async def ebay_desk(make_desk: Callable[..., Any], fake: FakeEbay) -> Any:
    # run_jobs=False: tests poll and deliver themselves, so no periodic poll races them.
    desk = await make_desk(ebay_config(fake.url), run_jobs=False)
    await migrate(desk.registry.migrations)  # the core's are applied; this adds the plugin's
    return desk

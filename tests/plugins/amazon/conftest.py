"""Fixtures for the Amazon plugin: the loopback SP-API, real mail servers (Dovecot, aiosmtpd) from
the email plugin's tests, and a desk with an email account and an Amazon seller account."""

from __future__ import annotations

from pathlib import Path
from typing import Any, Callable

import pytest
import pytest_asyncio

from core.migrate import migrate
from tests.plugins.amazon.fake_spapi import CLIENT_ID, CLIENT_SECRET, REFRESH_TOKEN, FakeClock, FakeSpApi
from tests.plugins.email.conftest import (  # noqa: F401  (fixtures shared with the email tests)
    _fresh_rate_limits, dovecot, smtp_factory, smtp_server, tls_cert,
)
from tests.plugins.email.mailhelpers import INGEST_TOKEN, email_config, email_env

FIXTURES = Path(__file__).parent / "fixtures"
SELLER_DE = "seller-de@shop.example"
SELLER_US = "seller-us@shop.example"
DE = "A1PA6795UKMFR9"
US = "ATVPDKIKX0DER"


def relay_mail(name: str) -> bytes:
    return (FIXTURES / name).read_bytes()


@pytest.fixture(autouse=True)
def _amazon_env(monkeypatch: pytest.MonkeyPatch) -> None:
    email_env(monkeypatch)
    monkeypatch.setenv("TEST_LWA_CLIENT_SECRET", CLIENT_SECRET)
    monkeypatch.setenv("TEST_LWA_REFRESH_TOKEN", REFRESH_TOKEN)


@pytest.fixture
def clock() -> FakeClock:
    return FakeClock()


@pytest.fixture
def fake(clock: FakeClock) -> Any:
    server = FakeSpApi(clock).start()
    yield server
    server.stop()


def account_settings(fake_url: str, **extra: Any) -> dict[str, Any]:
    return {
        "lwa_client_id": CLIENT_ID, "lwa_client_secret": {"env": "TEST_LWA_CLIENT_SECRET"},
        "refresh_token": {"env": "TEST_LWA_REFRESH_TOKEN"}, "region": "eu", "endpoint": fake_url,
        "lwa_url": f"{fake_url}/auth/o2/token", "max_wait_seconds": 5,
        "marketplaces": {"amazon.de": {"marketplace_id": DE, "seller_address": SELLER_DE},
                         "amazon.com": {"marketplace_id": US, "seller_address": SELLER_US}},
        **extra,
    }


def amazon_config(fake_url: str, *, smtp_url: str | None = None, imap_url: str | None = None,
                  user: str | None = None, plugin: dict[str, Any] | None = None,
                  account: dict[str, Any] | None = None) -> Callable[[dict[str, Any]], None]:
    mail = email_config(smtp_url=smtp_url, imap_url=imap_url, user=user, **({"imap_starttls": False} if imap_url else {}))

    def configure(config: dict[str, Any]) -> None:
        mail(config)
        config["plugins"]["enabled"].append("amazon")
        config["plugins"]["amazon"] = {**(plugin or {}),
                                       "accounts": {"eu": account_settings(fake_url, **(account or {}))}}

    return configure


async def amazon_desk(make_desk: Callable[..., Any], configure: Callable[[dict[str, Any]], None]) -> Any:
    desk = await make_desk(configure, run_jobs=False)
    await migrate(desk.registry.migrations)  # the core's ran already; this adds the plugin's
    return desk


@pytest_asyncio.fixture(loop_scope="session")
async def desk_amazon(make_desk: Callable[..., Any], fake: FakeSpApi, smtp_server: Any) -> Any:
    return await amazon_desk(make_desk, amazon_config(fake.url, smtp_url=smtp_server.url))


async def post_mail(client: Any, raw: bytes, account: str = "support") -> Any:
    """A raw mail through the email plugin's HTTP ingest endpoint (the same parse path as IMAP)."""
    response = await client.post(f"/hooks/email/{account}", content=raw,
                                 headers={"authorization": f"Bearer {INGEST_TOKEN}", "content-type": "message/rfc822"})
    assert response.status_code == 200, response.text
    return response.json()

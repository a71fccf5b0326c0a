"""Backfill through the paginated orders query, the CLI commands, and the no-tracking sweep."""

from __future__ import annotations

from datetime import timedelta
from typing import Any

from click.testing import CliRunner

from core import clock
from core.plugins import hookimpl
from core.tables import Identity
from plugins.shopify import state
from plugins.shopify.backfill import backfill, count_orders
from plugins.shopify.jobs import no_tracking_sweep
from plugins.shopify.subscribe import subscribe
from plugins.shopify.tables import ShopifyFulfillment, ShopifyOrder
from tests.plugins.shopify.conftest import shopify_config
from tests.plugins.shopify.fake_shopify import make_order


def _iso(days_ago: float) -> str:
    return (clock.now() - timedelta(days=days_ago)).strftime("%Y-%m-%dT%H:%M:%SZ")


async def test_backfill_pages_through_the_last_n_days(shop_desk, fake):
    for n in range(120):
        fake.add(make_order(1000 + n, email=f"c{n % 7}@example.com", updated_at=_iso(n * 0.2 + 0.05),
                            customer_id=900 + n % 7))
    account = shop_desk.registry.account("shopify", "main")
    client = state.client_for(account)
    pages: list[int] = []
    assert await count_orders(client, 10) == 50  # updated in the last 10 days: n < 50
    stored = await backfill(account, client, 10, page_size=20, on_page=pages.append)
    assert stored == 50 and pages == [20, 20, 10]
    assert await ShopifyOrder.count() == 50
    assert len(await Identity.select().where(Identity.channel_type == "shopify")) == 7
    # again: upserts, nothing doubles
    assert await backfill(account, client, 10, page_size=50) == 50
    assert await ShopifyOrder.count() == 50
    query = [r for r in fake.requests if r["operation"] == "RelaydeskOrders"][0]["variables"]["query"]
    assert query.startswith("updated_at:>='")


async def test_subscribe_creates_each_topic_once(shop_desk, fake):
    account = shop_desk.registry.account("shopify", "main")
    client = state.client_for(account)
    first = await subscribe(client, "https://desk.example/hooks/shopify/main")
    second = await subscribe(client, "https://desk.example/hooks/shopify/main")
    assert len(first["created"]) == 10 and second["created"] == [] and len(second["existing"]) == 10
    assert {s["topic"] for s in fake.subscriptions} >= {"ORDERS_CREATE", "FULFILLMENTS_UPDATE", "REFUNDS_CREATE"}


class Recorder:
    def __init__(self) -> None:
        self.events: list[Any] = []

    @hookimpl
    def ticket_event(self, event):
        self.events.append(event)


async def test_no_tracking_update_sweep_publishes_once(make_desk, fake):
    from core.migrate import migrate

    recorder = Recorder()
    desk = await make_desk(shopify_config(fake.url, no_tracking_update_days=4), extra_plugins=[("recorder", recorder)],
                            run_jobs=False)
    await migrate(desk.registry.migrations)
    fake.add(make_order(1001, email="a@example.com", updated_at=_iso(1), customer_id=1, fulfilled_at=_iso(6),
                        tracking_url="https://track.example/1"))
    fake.add(make_order(1002, email="b@example.com", updated_at=_iso(1), customer_id=2, fulfilled_at=_iso(2)))
    account = desk.registry.account("shopify", "main")
    await backfill(account, state.client_for(account), 30)
    assert await no_tracking_sweep({"desk": desk}) == 1
    assert await no_tracking_sweep({"desk": desk}) == 0  # told once
    [event] = [e for e in recorder.events if e.name == "shopify.no_tracking_update"]
    assert event.data["order_name"] == "#1001" and event.data["days"] >= 5
    assert event.data["tracking_url"] == "https://track.example/1"
    # tracking moves again: the fulfillment is fresh; much later, silent again -> a new warning
    fresh = (clock.now() - timedelta(hours=1))
    await ShopifyFulfillment.update({ShopifyFulfillment.tracking_updated_at: fresh,
                                     ShopifyFulfillment.stale_notified_at: None}).where(ShopifyFulfillment.id > 0)
    assert await no_tracking_sweep({"desk": desk}) == 0
    later = clock.now() + timedelta(days=5)
    clock.set_clock(lambda: later)
    try:
        assert await no_tracking_sweep({"desk": desk}) == 2
    finally:
        clock.set_clock(None)


def test_cli_backfill_and_subscribe(tmp_path, monkeypatch, fake):
    """`relaydesk shopify backfill` and `subscribe` against the loopback store, on a fresh SQLite desk."""
    import sys

    from core.cli import main

    fake.add(make_order(1001, email="a@example.com", updated_at=_iso(1), customer_id=5))
    config = tmp_path / "plugins.toml"
    config.write_text(
        f'[relaydesk]\ndatabase = "sqlite:///{tmp_path / "cli.db"}"\ndata_dir = "{tmp_path / "data"}"\n'
        f'public_url = "https://desk.example"\n'
        '[plugins]\nenabled = ["shopify"]\n'
        '[plugins.shopify.accounts.main]\nshop = "relaydesk-test.myshopify.com"\n'
        'access_token = { env = "TEST_SHOPIFY_TOKEN" }\nwebhook_secret = { env = "TEST_SHOPIFY_SECRET" }\n'
        f'base_url = "{fake.url}"\n', encoding="utf-8")
    monkeypatch.setenv("RELAYDESK_CONFIG", str(config))
    monkeypatch.setattr(sys, "argv", ["relaydesk", "shopify"])
    runner = CliRunner()
    result = runner.invoke(main, ["shopify", "backfill", "--account", "main", "--days", "7"])
    assert result.exit_code == 0, result.output
    assert "Cached 1 order(s) from main." in result.output
    result = runner.invoke(main, ["shopify", "subscribe", "--account", "main"])
    assert result.exit_code == 0, result.output
    assert fake.subscriptions[0]["callbackUrl"] == "https://desk.example/hooks/shopify/main"
    unknown = runner.invoke(main, ["shopify", "backfill", "--account", "nope"])
    assert unknown.exit_code == 2 and "No Shopify account 'nope'" in unknown.output

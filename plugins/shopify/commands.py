"""`relaydesk shopify subscribe` and `relaydesk shopify backfill`."""

from __future__ import annotations

import asyncio
import sys
from typing import Any

import click
from rich.console import Console
from rich.progress import BarColumn, MofNCompleteColumn, Progress, SpinnerColumn, TextColumn, TimeElapsedColumn

console = Console()
err = Console(stderr=True)


def _desk() -> Any:
    from core.plugin_api import desk_from_config as build

    ctx = click.get_current_context()
    path = (ctx.find_root().obj or {}).get("settings_path") or "plugins.toml"
    return build(path)


def _account(desk: Any, name: str) -> Any:
    account = desk.registry.account("shopify", name)
    if account is None:
        names = [a.name for a in desk.registry.accounts.values() if a.plugin == "shopify"]
        err.print(f"[red]No Shopify account {name!r}[/red]; configured: {', '.join(names) or 'none'}")
        sys.exit(2)
    return account


@click.group(name="shopify")
def shopify() -> None:
    """Shopify stores: webhook subscriptions and the order cache."""


@shopify.command()
@click.option("--account", "account_name", required=True, help="The store's account name in plugins.toml.")
@click.option("--address", default=None, help="Webhook URL; default <public_url>/hooks/shopify/<account>.")
def subscribe(account_name: str, address: str | None) -> None:
    """Create the store's webhook subscriptions (orders, fulfillments, refunds, customers)."""
    desk = _desk()
    account = _account(desk, account_name)
    url = address or f"{desk.settings.public_url.rstrip('/')}/hooks/shopify/{account.name}"
    result = asyncio.run(run_subscribe(account, url))
    console.print(f"Subscribed {account.name} to {url}: {len(result['created'])} created, "
                  f"{len(result['existing'])} already there.")
    console.print("The privacy topics (customers/data_request, customers/redact, shop/redact) are set in "
                  "the app's configuration; point them at the same URL.")


async def run_subscribe(account: Any, url: str) -> dict[str, Any]:
    from plugins.shopify.client import AdminClient, ShopifyError
    from plugins.shopify.subscribe import subscribe as create

    async with AdminClient(account.settings) as client:
        try:
            return await create(client, url)
        except ShopifyError as exc:
            err.print(f"[red]Shopify refused:[/red] {exc.message}")
            for error in exc.errors:
                err.print(f"  {error}")
            sys.exit(1)


@shopify.command()
@click.option("--account", "account_name", required=True, help="The store's account name in plugins.toml.")
@click.option("--days", default=30, show_default=True, type=click.IntRange(1, 3650), help="Orders updated in the last N days.")
def backfill(account_name: str, days: int) -> None:
    """Fill the order cache with the store's orders of the last N days."""
    desk = _desk()
    account = _account(desk, account_name)
    count = asyncio.run(run_backfill(desk, account, days))
    console.print(f"Cached {count} order(s) from {account.name}.")


async def run_backfill(desk: Any, account: Any, days: int) -> int:
    from plugins.shopify.backfill import backfill as fetch, count_orders
    from plugins.shopify.client import AdminClient, ShopifyError

    await desk.start(run_jobs=False, migrate=True)
    try:
        async with AdminClient(account.settings) as client:
            settings = desk.registry.plugin_settings.get("shopify")
            try:
                total = await count_orders(client, days)
                with Progress(SpinnerColumn(), TextColumn("[bold]{task.description}"), BarColumn(),
                              MofNCompleteColumn(), TimeElapsedColumn(), console=console) as progress:
                    task = progress.add_task(f"Orders of {account.name}", total=total)
                    return await fetch(account, client, days,
                                       trust_verified=settings.trust_verified_email if settings else True,
                                       on_page=lambda n: progress.advance(task, n))
            except ShopifyError as exc:
                err.print(f"[red]Shopify failed:[/red] {exc.message}")
                sys.exit(1)
    finally:
        await desk.stop()

"""Fixtures for the knowledge base: a desk with the kb plugin and its tables."""

from __future__ import annotations

from typing import Any, Callable

from core.migrate import migrate
from plugins.kb import cache, helpcenter, stats


def kb_config(public_url: str | None, **plugin: Any) -> Callable[[dict[str, Any]], None]:
    def configure(config: dict[str, Any]) -> None:
        if public_url:  # the inbox's sign-in checks the origin against it: pages tests leave it out
            config["relaydesk"]["public_url"] = public_url
        config["plugins"]["enabled"] = ["api_channel", "kb"]
        config["plugins"]["kb"] = plugin
    return configure


async def kb_desk(make_desk: Callable[..., Any], public_url: str | None = "https://desk.example.com",
                  **plugin: Any) -> Any:
    desk = await make_desk(kb_config(public_url, **plugin))
    await migrate(desk.registry.migrations)
    cache.clear()  # one process, several desks: never a page from an earlier test's database
    helpcenter._votes.clear()
    stats._pending.clear()  # counts of an earlier test's pages belong to its database
    return desk

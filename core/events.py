"""Domain events: after a change commits, plugins' ticket_event hooks hear of it and every agent's
browser gets a live update through the LiveBus."""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import asdict, dataclass, field
from typing import TYPE_CHECKING, Any

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.events")

EVENT_NAMES = (
    "created", "customer_replied", "agent_replied", "note_added", "assigned", "status_changed",
    "solved", "delivered", "delivery_failed", "sla_warning", "sla_breach",
)


@dataclass(slots=True)
class Event:
    name: str
    ticket_id: int | None
    message_id: int | None = None
    actor: str = "system"
    data: dict[str, Any] = field(default_factory=dict)

    def to_dict(self) -> dict[str, Any]:
        return asdict(self)


class LiveBus:
    """In-process fan-out of events to subscribers (the SSE endpoint). The scaled deployment
    replaces it with one that relays through Redis."""

    def __init__(self) -> None:
        self._subscribers: set[asyncio.Queue[dict[str, Any]]] = set()

    def subscribe(self) -> asyncio.Queue[dict[str, Any]]:
        queue: asyncio.Queue[dict[str, Any]] = asyncio.Queue(maxsize=1000)
        self._subscribers.add(queue)
        return queue

    def unsubscribe(self, queue: asyncio.Queue[dict[str, Any]]) -> None:
        self._subscribers.discard(queue)

    async def publish(self, payload: dict[str, Any]) -> None:
        for queue in list(self._subscribers):
            if queue.full():  # a stalled browser must not stall the desk
                continue
            queue.put_nowait(payload)


async def await_me_maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def publish(desk: "Desk", events: list[Event]) -> None:
    """Tell plugins and live subscribers; a failing plugin is logged and never undoes anything."""
    for event in events:
        # Plugins publish their own events as "<plugin>.<name>" (shopify.fulfillment_created).
        if event.name not in EVENT_NAMES and "." not in event.name:
            raise ValueError(f"unknown event {event.name!r}")
        for impl in desk.registry.hook.ticket_event.get_hookimpls():
            try:
                await await_me_maybe(impl.function(event=event))
            except Exception:
                log.exception("plugin %s failed on event %s", impl.plugin_name, event.name)
        await desk.live.publish(event.to_dict())

"""Domain events: after a change commits, plugins' ticket_event hooks hear of it and every agent's
browser gets a live update through the LiveBus."""

from __future__ import annotations

import asyncio
import inspect
import logging
from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from core.outage import OutageLog

if TYPE_CHECKING:
    from core.desk import Desk

log = logging.getLogger("relaydesk.events")

EVENT_NAMES = (
    "created", "customer_replied", "agent_replied", "note_added", "assigned", "status_changed",
    "solved", "delivered", "delivery_failed", "sla_warning", "sla_breach", "pool_alert", "message_withdrawn",
)


@dataclass(slots=True)
class Event:
    name: str
    ticket_id: int | None
    message_id: int | None = None
    actor: str = "system"
    data: dict[str, Any] = field(default_factory=dict)
    # The desk that published the event, set by publish(): listeners act through it.
    desk: Any = field(default=None, repr=False, compare=False)

    def to_dict(self) -> dict[str, Any]:
        return {"name": self.name, "ticket_id": self.ticket_id, "message_id": self.message_id,
                "actor": self.actor, "data": self.data}


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

    async def close(self) -> None:
        """Finish what is under way before the process stops."""


class RedisLiveBus(LiveBus):
    """The scaled deployment's bus: events go to a Redis pub/sub channel that every web process's
    SSE endpoint listens on (litestar's channels plugin, Redis pub/sub backend), so an event from a
    worker or another web process reaches every browser. Local subscribers still hear it too.

    Publishing does not wait on Redis: events queue here and one background task sends whatever
    has queued as one PUBLISH of a JSON array, in order. Under load that is one message for many
    events instead of one each (the SSE endpoint reads an array or a single event); `close` sends
    what is left before the process stops."""

    def __init__(self, url: str, channel: str) -> None:
        super().__init__()
        self.url = url
        self.channel = channel
        self._client: Any = None
        self._pending: list[dict[str, Any]] = []
        self._sender: asyncio.Task[None] | None = None
        self._outage = OutageLog(log, "Redis (live events)")

    async def publish(self, payload: dict[str, Any]) -> None:
        await super().publish(payload)
        self._pending.append(payload)
        if self._sender is None or self._sender.done():
            self._sender = asyncio.create_task(self._send_pending())

    async def _send_pending(self) -> None:
        import json

        from redis.asyncio import Redis

        if self._client is None:
            self._client = Redis.from_url(self.url)
        while self._pending:
            batch, self._pending = self._pending, []
            try:
                await self._client.publish(self.channel, json.dumps(batch, default=str))
            except Exception as exc:  # live updates are best effort; the database already has the change
                self._outage.failed(exc, "live updates wait; the database has every change")
            else:
                self._outage.recovered()

    async def close(self) -> None:
        if self._sender is not None:
            await self._sender
        if self._client is not None:
            await self._client.aclose()
            self._client = None


def live_channel(queue_name: str) -> str:
    """The pub/sub channel of one desk's live events (the queue name keeps desks apart)."""
    return f"{queue_name}:live"


def live_bus_for(redis_url: str | None, queue_name: str) -> LiveBus:
    return RedisLiveBus(redis_url, live_channel(queue_name)) if redis_url else LiveBus()


async def await_me_maybe(value: Any) -> Any:
    return await value if inspect.isawaitable(value) else value


async def publish(desk: "Desk", events: list[Event]) -> None:
    """Tell live subscribers, then plugins; a failing plugin is logged and never undoes anything.

    The browsers hear of every event of a batch first: the hooks (rules, SLA, plugins) take a
    query or more per event, and a group commit's batch holds up to 32 events, so the last
    message's agent used to wait for every hook of the batch. What a hook changes (a rule that
    assigns) publishes its own event after."""
    for event in events:
        # Plugins publish their own events as "<plugin>.<name>" (shopify.fulfillment_created).
        if event.name not in EVENT_NAMES and "." not in event.name:
            raise ValueError(f"unknown event {event.name!r}")
        event.desk = desk
    from core.visibility import stamp

    payloads = [event.to_dict() for event in events]
    try:
        await stamp(payloads)  # the ticket's team and assignee: who may hear of it (core.visibility)
    except Exception:  # best effort: web.inbox.live then looks the tickets up itself
        log.exception("could not read the teams of %d live events", len(payloads))
    for payload in payloads:
        await desk.live.publish(payload)
    for event in events:
        for impl in desk.registry.hook.ticket_event.get_hookimpls():
            try:
                await await_me_maybe(impl.function(event=event))
            except Exception:
                log.exception("plugin %s failed on event %s", impl.plugin_name, event.name)

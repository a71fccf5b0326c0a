"""Live updates over SSE and collision detection.

Every web process with a browser connected subscribes to the desk's live channel through litestar's
channels plugin: the Redis pub/sub backend when [relaydesk] redis is set (so an event published by a
worker or another web process reaches every browser), the in-memory backend in the embedded mode. Each SSE
message's data is the name of what changed: `ticket-<id>` for one ticket, `queue` for the lists and
counts, `presence-<id>` when someone opens a ticket or starts typing, `notifications` (to the
recipients only) when an agent gets a notification. web/static/live.js fires them on the page as
`live-<name>` events that htmx elements refresh on; one stream serves every tab of a browser
(web/static/live-worker.js), because HTTP/1.1 allows a browser six connections per host.
Who views and who types is kept in the ticket_viewers table, shared by every process.

Team visibility (core.visibility): a browser never hears of a ticket its agent may not see, not
even as a `queue` refresh. Events carry their ticket's team and assignee (core.events stamps them),
so deciding costs no query; the agent's Viewer is read again every VIEWER_REFRESH, so a change of
membership or of a team's setting reaches open streams within that time.
"""

from __future__ import annotations

import json
import time
from datetime import timedelta
from typing import Any, AsyncIterator

from litestar import Request, get, post
from litestar.channels import ChannelsPlugin
from litestar.channels.backends.memory import MemoryChannelsBackend
from litestar.response import ServerSentEvent, Template
from litestar.response.sse import ServerSentEventMessage

from core import clock, db, notifications, visibility
from core.config import Settings
from core.events import LiveBus, live_channel
from core.tables import Agent, TicketViewer
from web.inbox.common import form_value, page
from web.sessions import page_guard, session_agent

VIEWER_TTL = timedelta(seconds=30)
VIEWER_REFRESH = 30.0  # seconds between re-reading a stream's Viewer
TYPING_TTL = timedelta(seconds=8)


def channels_plugin(settings: Settings) -> ChannelsPlugin:
    if settings.redis:
        from litestar.channels.backends.redis import RedisChannelsPubSubBackend
        from redis.asyncio import Redis

        backend: Any = RedisChannelsPubSubBackend(redis=Redis.from_url(settings.redis))
    else:
        backend = MemoryChannelsBackend()
    # No channels declared up front: the process subscribes to the live channel when its first
    # browser connects and unsubscribes when its last one leaves, so a process that only takes
    # webhooks does not read every event of the desk back from Redis. The only subscriber is the
    # /inbox/live endpoint below, with the desk's own channel name.
    return LiveChannelsPlugin(backend=backend, arbitrary_channels_allowed=True, subscriber_max_backlog=1000,
                           subscriber_backlog_strategy="dropleft")


class LiveChannelsPlugin(ChannelsPlugin):
    """litestar's plugin also registers an app-wide dependency named "channels". A request body with
    a field of that name (a team's routing `channels`) then failed validation as a broken dependency:
    a 500 instead of the 400 it is. Nothing here injects the plugin by that name, so it is dropped."""

    def on_app_init(self, app_config: Any) -> Any:
        app_config = super().on_app_init(app_config)
        app_config.dependencies.pop("channels", None)
        return app_config


class ChannelsLiveBus(LiveBus):
    """The embedded mode's bus: events go through the in-memory channels backend to every SSE
    subscriber of this process (and to LiveBus subscribers, as before)."""

    def __init__(self, plugin: ChannelsPlugin, channel: str, previous: LiveBus | None = None) -> None:
        super().__init__()
        if previous is not None:  # keep whoever already listens on the desk's bus
            self._subscribers = previous._subscribers
        self.plugin = plugin
        self.channel = channel

    async def publish(self, payload: dict[str, Any]) -> None:
        await super().publish(payload)
        try:
            self.plugin.publish(json.dumps(payload, default=str), self.channel)
        except RuntimeError:  # the app's lifespan has not started the plugin (or has stopped it)
            pass


def _messages(payload: dict[str, Any], agent_id: int) -> list[ServerSentEventMessage]:
    ticket_id = payload.get("ticket_id")
    name = payload.get("name", "")
    if name == notifications.LIVE_EVENT:
        recipients = (payload.get("data") or {}).get("agents") or []
        return [ServerSentEventMessage(data="notifications")] if agent_id in recipients else []
    if name == "presence":
        return [ServerSentEventMessage(data=f"presence-{ticket_id}")]
    out = [ServerSentEventMessage(data="queue")]
    if ticket_id:
        out.append(ServerSentEventMessage(data=f"ticket-{ticket_id}"))
    return out


async def _may_hear(seen: visibility.Viewer, payload: dict[str, Any]) -> bool:
    """Whether this stream's agent may hear of the event's ticket. An event without the stamp
    (a publisher that went around core.events) is looked up, for agents who do not see all."""
    ticket_id = payload.get("ticket_id")
    if seen.sees_all or not isinstance(ticket_id, int):
        return True
    if "team" not in payload:
        await visibility.stamp([payload])
    data = payload.get("data") if isinstance(payload.get("data"), dict) else {}
    # the agent a ticket was just taken from hears that much (their Mine list drops it), nothing after
    return seen.may_see(payload) or data.get("previous_assignee") == seen.agent_id


@get("/inbox/live", include_in_schema=False, guards=[page_guard("readonly")])
async def live(request: Request) -> ServerSentEvent:
    plugin: ChannelsPlugin = request.app.plugins.get(LiveChannelsPlugin)
    scope = request.app.state.desk.settings.queue_name
    channel = live_channel(scope)
    agent = await session_agent(request)
    agent_id = agent["id"] if agent else 0
    seen = await visibility.viewer_for(agent)

    async def stream() -> AsyncIterator[ServerSentEventMessage]:
        nonlocal seen
        read_at = time.monotonic()
        async with plugin.start_subscription([channel]) as subscriber:
            yield ServerSentEventMessage(comment="connected", retry=3000)
            async for raw in subscriber.iter_events():
                try:
                    decoded = json.loads(raw)
                except ValueError:
                    continue
                if time.monotonic() - read_at > VIEWER_REFRESH:
                    seen, read_at = await visibility.viewer_for(agent), time.monotonic()
                # one event, or several sent together (core.events.RedisLiveBus)
                for payload in decoded if isinstance(decoded, list) else [decoded]:
                    if not isinstance(payload, dict) or not await _may_hear(seen, payload):
                        continue
                    for message in _messages(payload, agent_id):
                        yield message

    return ServerSentEvent(stream(), headers={"cache-control": "no-store", "x-accel-buffering": "no"})


async def viewers(ticket_id: int, me: int) -> list[dict[str, Any]]:
    now = clock.now()
    rows = await TicketViewer.select(TicketViewer.agent, TicketViewer.typing_at).where(
        (TicketViewer.ticket == ticket_id) & (TicketViewer.seen_at > now - VIEWER_TTL) & (TicketViewer.agent != me))
    if not rows:
        return []
    names = {r["id"]: r["name"] for r in await Agent.select(Agent.id, Agent.name).where(
        Agent.id.is_in([r["agent"] for r in rows]))}
    return [{"name": names.get(r["agent"], "?"),
             "typing": bool(r["typing_at"] and r["typing_at"] > now - TYPING_TTL)} for r in rows]


@post("/inbox/t/{ticket_id:int}/presence", include_in_schema=False, guards=[page_guard("readonly")])
async def presence(request: Request, ticket_id: int) -> Template:
    """A heartbeat from a browser showing the ticket (and whether its agent is typing). Tells the
    other viewers only when something changed: someone arrived or started typing."""
    agent = await session_agent(request)
    assert agent is not None
    form = await request.form()
    typing = form_value(form, "typing") == "1"
    now = clock.now()
    old = await TicketViewer.select(TicketViewer.seen_at, TicketViewer.typing_at).where(
        (TicketViewer.ticket == ticket_id) & (TicketViewer.agent == agent["id"])).first()
    await db.fetch("INSERT INTO ticket_viewers (ticket, agent, seen_at, typing_at) VALUES ({}, {}, {}, {}) "
                   "ON CONFLICT (ticket, agent) DO UPDATE SET seen_at = {}, typing_at = {}",
                   ticket_id, agent["id"], now, now if typing else None, now,
                   now if typing else (old["typing_at"] if old else None))
    arrived = old is None or old["seen_at"] < now - VIEWER_TTL
    started_typing = typing and (old is None or not old["typing_at"] or old["typing_at"] < now - TYPING_TTL)
    if arrived or started_typing:
        payload = {"name": "presence", "ticket_id": ticket_id, "actor": f"agent:{agent['id']}",
                   "data": {"typing": typing}}
        await visibility.stamp([payload])
        await request.app.state.desk.live.publish(payload)
    return await page(request, "ticket/_viewers.html", viewers=await viewers(ticket_id, agent["id"]))


@get("/inbox/t/{ticket_id:int}/viewers", include_in_schema=False, guards=[page_guard("readonly")])
async def viewers_fragment(request: Request, ticket_id: int) -> Template:
    agent = await session_agent(request)
    assert agent is not None
    return await page(request, "ticket/_viewers.html", viewers=await viewers(ticket_id, agent["id"]))


ROUTES = [live, presence, viewers_fragment]

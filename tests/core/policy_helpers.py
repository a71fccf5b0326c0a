"""What the routing, SLA and rules tests share: a clock the test moves, teams with agents, and
tickets opened through the real ingest path on the API channel's "main" account."""

from __future__ import annotations

from datetime import datetime, timezone
from typing import Any, Iterator

import pytest

from core import routing
from core.inbound import ingest
from core.tables import Agent, AgentTeam, Team, TeamRouting, Ticket
from core.types import InboundMessage

T0 = datetime(2026, 11, 23, 9, 0, tzinfo=timezone.utc)  # a Monday


@pytest.fixture
def at(controlled_clock: Any) -> Iterator[Any]:
    """A clock the test moves (the kit's controlled_clock): at(datetime) sets it. It starts at T0."""
    controlled_clock.set(T0)
    yield controlled_clock


def account(desk: Any) -> Any:
    return desk.registry.account("api_channel", "main")


def msg(external_id: str, sender: str, text: str = "Hi", **kw: Any) -> InboundMessage:
    return InboundMessage(external_id=external_id, sender_handle=sender, text=text, **kw)


async def ticket_of(desk: Any, external_id: str = "m1", sender: str = "c1", text: str = "Hi",
                    **kw: Any) -> dict[str, Any]:
    """Ingest one message and return its ticket's row."""
    result = await ingest(desk, account(desk), [msg(external_id, sender, text, **kw)])
    return await reload(result[0].ticket_id)


async def reload(ticket_id: int) -> dict[str, Any]:
    return await Ticket.select().where(Ticket.id == ticket_id).first()


async def make_team(name: str, agents: list[dict[str, Any]], **settings: Any) -> tuple[int, list[int]]:
    """A team with routing settings and one agent per spec (online unless the spec says otherwise)."""
    team = (await Team.insert(Team(name=name)).returning(Team.id))[0]["id"]
    ids = []
    for i, spec in enumerate(agents):
        row = {"name": f"{name}-{i}", "email": f"{name}-{i}@example.com", "availability": "online", **spec}
        agent_id = (await Agent.insert(Agent(**row)).returning(Agent.id))[0]["id"]
        await AgentTeam.insert(AgentTeam(agent=agent_id, team=team))
        ids.append(agent_id)
    await TeamRouting.insert(TeamRouting(team=team, **settings))
    routing.invalidate()
    return team, ids

"""The navigation counts the database keeps (core.counts) always equal a full recount: under
concurrent ingest, assignment, closing, reopening, tagging and deletion, on both databases."""

from __future__ import annotations

import asyncio
import random
import sys
from datetime import timedelta

from core import clock, counts, db
from core.inbound import ingest
from core.tables import Team, Ticket
from core.tickets import update_ticket
from core.types import InboundMessage
from tests.helpers import make_agent


async def _ingest(desk, n: int, prefix: str) -> list[int]:
    account = desk.registry.account("api_channel", "main")
    results = await ingest(desk, account, [InboundMessage(external_id=f"{prefix}-{i}", sender_handle=f"{prefix}-c{i % 7}",
                                                          text=f"message {i}") for i in range(n)])
    return [r.ticket_id for r in results]


async def _matches_recount(agent_ids: list[int]) -> None:
    assert await counts.kept() == await counts.recount()
    now = clock.now()
    for agent_id in agent_ids:
        assert await counts.navigation(agent_id, now) == await counts.navigation_by_scan(agent_id, now)


async def test_counts_follow_every_change_of_a_ticket(desk):
    agent, _ = await make_agent()
    team = (await Team.insert(Team(name="Returns")).returning(Team.id))[0]["id"]
    (ticket,) = await _ingest(desk, 1, "one")
    shown = await counts.navigation(agent, clock.now())
    assert (shown["open"], shown["unassigned"], shown["mine"]) == (1, 1, 0)
    assert shown["channels"] == [{"key": "api", "n": 1}]
    await update_ticket(desk, ticket, actor="test", assignee=agent, team=team, add_tags=["refund"])
    shown = await counts.navigation(agent, clock.now())
    assert (shown["mine"], shown["unassigned"]) == (1, 0)
    assert shown["teams"] == [{"key": team, "name": "Returns", "n": 1}]
    assert shown["tags"] == [{"key": "refund", "n": 1}]
    # an SLA due time an hour and a half ago: breached; in twenty minutes: due soon
    await Ticket.update({Ticket.sla_due_at: clock.now() - timedelta(minutes=90)}).where(Ticket.id == ticket)
    assert (await counts.navigation(agent, clock.now()))["breached"] == 1
    await Ticket.update({Ticket.sla_due_at: clock.now() + timedelta(minutes=20)}).where(Ticket.id == ticket)
    shown = await counts.navigation(agent, clock.now())
    assert (shown["breached"], shown["due_soon"]) == (0, 1)
    await update_ticket(desk, ticket, actor="test", status="solved")
    shown = await counts.navigation(agent, clock.now())
    assert (shown["open"], shown["mine"], shown["due_soon"], shown["tags"], shown["channels"]) == (0, 0, 0, [], [])
    assert shown["teams"] == [{"key": team, "name": "Returns", "n": 0}]
    await update_ticket(desk, ticket, actor="test", status="open")
    assert (await counts.navigation(agent, clock.now()))["tags"] == [{"key": "refund", "n": 1}]
    await _matches_recount([agent])
    await Ticket.delete().where(Ticket.id == ticket)
    assert await counts.kept() == {}


async def test_concurrent_changes_keep_counts_equal_to_a_recount(desk, monkeypatch):
    monkeypatch.setattr(counts, "COMPACT_AFTER", 5)  # readers fold rows while writers append
    agents = [(await make_agent(email=f"a{i}@example.com"))[0] for i in range(3)]
    teams = [(await Team.insert(Team(name=f"T{i}")).returning(Team.id))[0]["id"] for i in range(2)]
    tickets = await _ingest(desk, 14, "seed")
    rng = random.Random(5)

    async def worker(seed: int) -> None:
        local = random.Random(seed)
        for step in range(12):
            ticket = local.choice(tickets)
            action = local.choice(["assign", "close", "reopen", "tag", "untag", "team", "ingest", "read", "pend"])
            if action == "ingest":
                tickets.extend(await _ingest(desk, 2, f"w{seed}-{step}"))
            elif action == "read":
                await counts.navigation(local.choice(agents), clock.now())
            else:
                changes = {"assign": {"assignee": local.choice([*agents, None])}, "close": {"status": "solved"},
                           "reopen": {"status": "open"}, "pend": {"status": "pending"},
                           "tag": {"add_tags": [local.choice(["vip", "refund"])]},
                           "untag": {"remove_tags": [local.choice(["vip", "refund"])]},
                           "team": {"team": local.choice([*teams, None])}}[action]
                await update_ticket(desk, ticket, actor="test", **changes)

    await asyncio.gather(*(worker(rng.randrange(10**6)) for _ in range(6)))
    await _matches_recount(agents)
    assert await counts.compact()  # the periodic fold: one row per key, same counts
    rows = await db.fetch("SELECT kind, key, n FROM ticket_counts")
    assert len(rows) == len(await counts.kept())
    await _matches_recount(agents)
    await Ticket.delete().where(Ticket.id.is_in(tickets[:5]))
    await _matches_recount(agents)


async def test_rebuild_command_repairs_counts(desk, tmp_path, monkeypatch):
    await _ingest(desk, 3, "rb")
    await db.fetch("INSERT INTO ticket_counts (kind, key, n) VALUES ('open', '', 40), ('tag', 'ghost', 2)")
    assert await counts.kept() != await counts.recount()
    config = tmp_path / "plugins.toml"
    config.write_text(f'[relaydesk]\ndatabase = "{desk.settings.database}"\n\n[plugins]\nenabled = []\n')
    # its own process, as an operator runs it (in this one it would rebind the test's database)
    done = await asyncio.create_subprocess_exec(sys.executable, "-m", "core.cli", "rebuild-counts", "--config",
                                                str(config), stdout=asyncio.subprocess.PIPE, stderr=asyncio.subprocess.STDOUT)
    output = (await done.communicate())[0].decode()
    assert done.returncode == 0, output
    assert "Recounted" in output
    repaired = await counts.kept()
    assert repaired == await counts.recount()
    assert {k: n for k, n in repaired.items() if k[0] != "due"} == {("open", ""): 3, ("channel", "api"): 3,
                                                                  ("unassigned", ""): 3}

"""CSAT % and NPS by agent, team, channel and week through the API."""

from __future__ import annotations

from datetime import datetime, timedelta, timezone
from typing import Any, Callable

from core.tables import Team
from plugins.csat.tables import CsatSurvey
from tests.helpers import auth, client_for, make_agent
from tests.plugins.csat.conftest import csat_desk

MONDAY = datetime(2026, 11, 16, 10, tzinfo=timezone.utc)  # ISO week 2026-W47


async def _rating(nonce: str, kind: str, score: int, agent: int | None, team: int | None, channel: str,
                  answered: datetime | None) -> None:
    await CsatSurvey.insert(CsatSurvey(
        ticket=1, customer=1, agent=agent, team=team, channel_type=channel, kind=kind, language="en", nonce=nonce,
        round=nonce, expires_at=MONDAY + timedelta(days=30), score=score if answered else None,
        answered_at=answered))


async def test_report_groups(make_desk: Callable[..., Any]) -> None:
    desk = await csat_desk(make_desk)
    ann, token = await make_agent(email="ann@example.com")
    bob, _ = await make_agent(email="bob@example.com")
    team = (await Team.insert(Team(name="Returns")).returning(Team.id))[0]["id"]
    week2 = MONDAY + timedelta(days=7)
    for i, (kind, score, agent, channel, when) in enumerate([
        ("csat", 5, ann, "email", MONDAY), ("csat", 4, ann, "email", MONDAY), ("csat", 2, ann, "api", week2),
        ("csat", 1, bob, "api", week2),
        ("nps", 10, ann, "email", MONDAY), ("nps", 9, bob, "api", week2), ("nps", 3, bob, "api", week2),
        ("nps", 8, bob, "email", week2),
    ]):
        await _rating(f"n{i}", kind, score, agent, team if agent == bob else None, channel, when)
    await _rating("unanswered", "csat", 0, ann, None, "email", None)  # not counted

    async with client_for(desk) as client:
        by_agent = (await client.get("/api/v1/plugins/csat/report?group=agent", headers=auth(token))).json()
        by_channel = (await client.get("/api/v1/plugins/csat/report?group=channel", headers=auth(token))).json()
        by_week = (await client.get("/api/v1/plugins/csat/report?group=week", headers=auth(token))).json()
        by_team = (await client.get("/api/v1/plugins/csat/report?group=team", headers=auth(token))).json()
        since = (await client.get("/api/v1/plugins/csat/report?group=week&since=2026-11-20",
                                  headers=auth(token))).json()
        bad = await client.get("/api/v1/plugins/csat/report?group=moon", headers=auth(token))
        anonymous = await client.get("/api/v1/plugins/csat/report")
    assert bad.status_code == 400 and "group must be one of" in bad.json()["error"]["message"]
    assert anonymous.status_code == 401

    total = by_agent["total"]
    assert total["csat_responses"] == 4 and total["csat_percent"] == 50.0
    assert total["nps_responses"] == 4 and total["nps"] == 25.0  # 2 promoters, 1 detractor, 1 passive
    agents = {g["key"]: g for g in by_agent["groups"]}
    assert agents[ann]["name"] == "Agent Agent"  # make_agent names every agent by role
    assert agents[ann]["csat_percent"] == 66.7 and agents[ann]["nps"] == 100.0
    assert agents[bob]["csat_percent"] == 0.0 and agents[bob]["nps"] == 0.0
    channels = {g["key"]: g for g in by_channel["groups"]}
    assert channels["email"]["csat_percent"] == 100.0 and channels["api"]["csat_percent"] == 0.0
    weeks = {g["key"]: g for g in by_week["groups"]}
    assert set(weeks) == {"2026-W47", "2026-W48"}
    assert weeks["2026-W47"]["csat_responses"] == 2 and weeks["2026-W48"]["nps_responses"] == 3
    teams = {g["key"]: g for g in by_team["groups"]}
    assert teams[team]["name"] == "Returns" and teams[team]["csat_percent"] == 0.0
    assert [g["key"] for g in since["groups"]] == ["2026-W48"]


async def test_hook_report_figures(make_desk: Callable[..., Any]) -> None:
    """The reports area shows CSAT % and NPS through the report_figures hook (the core imports no plugin)."""
    from datetime import date

    from core.reports import report

    desk = await csat_desk(make_desk)
    for i, (kind, score, when) in enumerate([("csat", 5, MONDAY), ("csat", 2, MONDAY), ("nps", 10, MONDAY),
                                             ("nps", 2, MONDAY - timedelta(days=7))]):
        await _rating(f"h{i}", kind, score, None, None, "email", when)
    built = await report.build(desk, date(2026, 11, 16), date(2026, 11, 22), timezone.utc)
    shown = {f["key"]: f for f in built["plugin_figures"]}
    assert (shown["csat.csat_percent"]["value"], shown["csat.csat_percent"]["count"]) == (50.0, 2)
    assert (shown["csat.nps"]["value"], shown["csat.nps"]["previous"]) == (100.0, -100.0)

"""Erlang C (core/reports/staffing.py) against published table values and an independent oracle
written here: Erlang B by its recursion, turned into Erlang C (C = N B / (N - A (1 - B)))."""

from __future__ import annotations

import math

import pytest

from core.reports import staffing


def erlang_c_oracle(agents: int, traffic: float) -> float:
    b = 1.0
    for n in range(1, agents + 1):
        b = traffic * b / (n + traffic * b)
    return agents * b / (agents - traffic * (1 - b))


@pytest.mark.parametrize("agents, traffic", [(1, 0.5), (2, 1.5), (11, 10.0), (15, 10.0), (55, 50.0), (230, 200.0),
                                             (600, 580.0)])
def test_erlang_c_equals_the_recursion_oracle(agents, traffic):
    assert staffing.erlang_c(agents, traffic) == pytest.approx(erlang_c_oracle(agents, traffic), rel=1e-9)


def test_published_values():
    # Erlang C tables, 10 erlangs of traffic: P(wait) with 11..15 agents
    published = {11: 0.6821, 12: 0.4494, 13: 0.2853, 14: 0.1741, 15: 0.1020}
    for agents, value in published.items():
        assert staffing.erlang_c(agents, 10.0) == pytest.approx(value, abs=5e-4)
    # M/M/1: P(wait) is the utilisation
    assert staffing.erlang_c(1, 0.7) == pytest.approx(0.7)
    # the often-quoted call-centre example: 360 calls in 30 min, 240 s each = 48 erlangs, 80% within
    # 20 s: 55 agents reach it (fewer, less)
    sl55 = staffing.service_level(55, 48.0, 240, 20)
    assert 0.85 < sl55 < 0.92 and staffing.service_level(52, 48.0, 240, 20) < sl55


def test_agents_needed_meets_the_target_and_no_fewer_would():
    target = staffing.Target(share=0.8, seconds=20, aht=240, shrinkage=0.0)
    needed = staffing.agents_needed(720, target)  # 48 erlangs
    assert staffing.service_level(needed, 48.0, 240, 20) >= 0.8 > staffing.service_level(needed - 1, 48.0, 240, 20)
    shrunk = staffing.agents_needed(720, staffing.Target(share=0.8, seconds=20, aht=240, shrinkage=0.3))
    assert shrunk == math.ceil(needed / 0.7)
    chat = staffing.agents_needed(720, staffing.Target(share=0.8, seconds=20, aht=240, shrinkage=0.0, concurrency=3))
    assert chat == math.ceil(needed / 3)
    assert staffing.agents_needed(0, target) == 0
    with pytest.raises(ValueError):
        staffing.agents_needed(10, staffing.Target(shrinkage=1.0))
    assert staffing.average_wait(11, 10.0, 180) == pytest.approx(erlang_c_oracle(11, 10.0) * 180)

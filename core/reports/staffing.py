"""Staffing from a forecast: Erlang C, and its variant for chat where one agent holds several
conversations at once.

Erlang C (M/M/N): contacts arrive at random at `rate` per hour and each takes `aht` seconds of an
agent; traffic A = rate * aht / 3600 erlangs. With N > A agents, the chance a contact waits is

    C(N, A) = (A^N / N!) * N / (N - A) / (sum_{k<N} A^k / k! + (A^N / N!) * N / (N - A))

and the share answered within t seconds is SL = 1 - C * exp(-(N - A) * t / aht). The terms are
computed as ratios of the previous one (A^k/k! = A^(k-1)/(k-1)! * A/k), never as powers and
factorials, so hundreds of agents do not overflow. The chat variant treats an agent who holds
`concurrency` conversations as that many servers (each conversation's handle time is the time
it occupies one slot), the usual approximation for chat desks. Agents needed on shift divide the
agents needed at the desk by (1 - shrinkage): breaks, meetings, training, absence.
"""

from __future__ import annotations

import math
from dataclasses import dataclass

MAX_AGENTS = 5000


def erlang_c(agents: int, traffic: float) -> float:
    """The probability that a contact waits, with `agents` servers and `traffic` erlangs."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return 1.0
    term, total = 1.0, 1.0  # A^0/0!
    for k in range(1, agents):
        term *= traffic / k
        total += term
    last = term * traffic / agents * agents / (agents - traffic)  # (A^N/N!) * N/(N-A)
    return last / (total + last)


def service_level(agents: int, traffic: float, aht: float, target_seconds: float) -> float:
    """The share of contacts answered within `target_seconds`."""
    if traffic <= 0:
        return 1.0
    if agents <= traffic:
        return 0.0
    return 1.0 - erlang_c(agents, traffic) * math.exp(-(agents - traffic) * target_seconds / aht)


def average_wait(agents: int, traffic: float, aht: float) -> float:
    """The mean wait in seconds (of all contacts)."""
    if traffic <= 0:
        return 0.0
    if agents <= traffic:
        return math.inf
    return erlang_c(agents, traffic) * aht / (agents - traffic)


@dataclass(frozen=True, slots=True)
class Target:
    """e.g. 80% of first replies within 2 hours (email) or 5 minutes (chat)."""

    share: float = 0.8
    seconds: float = 7200
    aht: float = 480.0  # seconds of an agent's time per contact
    concurrency: int = 1  # conversations one agent holds at once (chat)
    shrinkage: float = 0.3  # share of paid time not available for contacts


def agents_needed(rate_per_hour: float, target: Target) -> int:
    """Agents to schedule for one hour with `rate_per_hour` contacts arriving."""
    if rate_per_hour <= 0:
        return 0
    if not 0 <= target.shrinkage < 1 or not 0 < target.share < 1 or target.aht <= 0 or target.concurrency < 1:
        raise ValueError("shrinkage in [0, 1), share in (0, 1), aht > 0 and concurrency >= 1")
    traffic = rate_per_hour * target.aht / 3600
    servers = max(1, math.floor(traffic) + 1)
    while service_level(servers, traffic, target.aht, target.seconds) < target.share:
        servers += 1
        if servers > MAX_AGENTS * target.concurrency:
            raise ValueError("more than the largest desk this plans for")
    at_desk = math.ceil(servers / target.concurrency)
    return math.ceil(at_desk / (1 - target.shrinkage) - 1e-9)

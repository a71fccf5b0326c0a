"""Three months of past tickets for the demo's reports and forecast: weekly and daily rhythm, a
climb to 11.11 and a Black Friday bump, first responses, solves, a few reopens and SLA breaches.

Each ticket is stored as it arrived, then changed as an agent's work changes it (first reply,
solve, for some a reopen and a second solve, later the close), so the report facts come from the
same triggers a live desk's changes go through."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from typing import Any

DAYS = 100
PER_DAY = 10  # an ordinary weekday (more makes `relaydesk demo` slow to start)
WEEKLY = [1.15, 1.1, 1.0, 1.0, 0.95, 0.7, 0.6]
HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 9, 10, 11, 10, 9, 8, 8, 9, 10, 9, 6, 3]  # Shanghai, per hour
LANGUAGES = ["zh", "zh", "zh", "en", "en", "de"]
TAGS = ["物流", "退货", "refund", "shipping", "invoice"]


def _peak(day: date) -> float:
    from core.plugin_api import black_friday

    around_1111 = {-3: 1.4, -2: 1.8, -1: 2.4, 0: 4.0, 1: 2.2, 2: 1.5, 3: 1.2}
    lift = around_1111.get((day - date(day.year, 11, 11)).days, 1.0)
    return lift * (2.2 if day == black_friday(day.year) else 1.0)


async def add_history(desk: Any, now: datetime, seed: int = 11) -> int:
    """Store the past tickets, then rebuild the report facts and rollups; returns how many tickets."""
    from zoneinfo import ZoneInfo

    from core.plugin_api import report_rollups as rollups
    from core.plugin_api import Agent, Customer

    rng = random.Random(seed)
    zone = ZoneInfo(desk.settings.timezone or "UTC")
    accounts = [a for a in desk.registry.accounts.values() if a.plugin in ("demo", "api_channel")]
    agents = [r["id"] for r in await Agent.select(Agent.id).where(Agent.role != "readonly")]
    customers = [(await Customer.insert(Customer(name=f"Past customer {i}", email=f"past{i}@example.com"))
                  .returning(Customer.id))[0]["id"] for i in range(60)]
    today = now.astimezone(zone).date()
    made = 0
    for back in range(DAYS, 0, -1):
        day = today - timedelta(days=back)
        expected = PER_DAY * WEEKLY[day.weekday()] * _peak(day) * (1 + 0.002 * (DAYS - back))
        count = max(0, round(rng.gauss(expected, expected * 0.1)))
        hours = rng.choices(range(24), weights=HOURS, k=count)
        tickets, plans = [], []
        for hour in hours:
            created = datetime(day.year, day.month, day.day, hour, rng.randrange(60), tzinfo=zone).astimezone(timezone.utc)
            account = rng.choice(accounts)
            busy = _peak(day) > 1.5  # slower answers in the peak
            responded = created + timedelta(minutes=rng.expovariate(1 / (180 if busy else 45)))
            solved = responded + timedelta(hours=rng.expovariate(1 / (20 if busy else 8)))
            replies = 1 if rng.random() < 0.6 else rng.randint(2, 4)
            closed = solved + timedelta(days=4)
            fr_due = created + timedelta(hours=2)
            res_due = created + timedelta(hours=48)
            if solved > now:
                solved = now - timedelta(minutes=5)
            status = "closed" if closed < now else "solved"
            agent = rng.choice(agents)
            tickets.append((rng.choice(customers), account.id, account.channel_type, agent, rng.choice(LANGUAGES),
                            created, created, created, created, fr_due, res_due))
            reopen = solved + timedelta(hours=2) if rng.random() < 0.05 and solved + timedelta(hours=6) < now else None
            plans.append((created, responded, solved, replies, agent, account.id, fr_due, res_due, reopen, status, closed))
        if not tickets:
            continue
        ids = sorted(r["id"] for r in await _insert(
            "tickets", "customer, account, channel_type, assignee, language, created_at, updated_at, last_message_at, "
            "last_customer_message_at, first_response_due_at, resolution_due_at", tickets, returning=True))  # ids ascend in row order
        messages, tags = [], []
        for ticket_id, (created, responded, solved, replies, agent, account, *_) in zip(ids, plans):
            messages.append((ticket_id, account, "inbound", None, None, created))
            for n in range(replies):
                at = responded + (solved - responded) * n / max(1, replies - 1) if replies > 1 else responded
                messages.append((ticket_id, account, "outbound", agent, "delivered", at))
            if rng.random() < 0.5:
                tags.append((ticket_id, rng.choice(TAGS)))
        await _insert("messages", "ticket, account, direction, author, delivery_status, created_at", messages)
        await _insert("ticket_tags", "ticket, tag", tags)
        await _work(list(zip(ids, plans)))
        made += len(ids)
    await rollups.fold()
    return made


async def _insert(table: str, columns: str, rows: list[tuple], returning: bool = False) -> list[dict]:
    """Plain multi-row INSERTs (piccolo's row objects cost more than the database here)."""
    from core.plugin_api import db

    out: list[dict] = []
    for start in range(0, len(rows), 200):
        chunk = rows[start:start + 200]
        one = "(" + ", ".join("{}" for _ in chunk[0]) + ")"
        out += await db.fetch(f"INSERT INTO {table} ({columns}) VALUES {', '.join(one for _ in chunk)}"
                              + (" RETURNING id" if returning else ""), *[v for row in chunk for v in row])
    return out


async def _work(done: list[tuple[int, tuple]]) -> None:
    """What the agents did to the day's tickets, as the ticket updates the desk makes: a few
    statements per day (UPDATE ... FROM VALUES), each row still through the tickets' triggers."""
    from core.plugin_api import db

    sqlite = db.is_sqlite()

    async def update(assignments: str, rows: list[tuple], types: tuple[str, ...]) -> None:
        if not rows:
            return
        one = "(" + ", ".join("{}" if sqlite else f"CAST({{}} AS {t})" for t in types) + ")"
        await db.fetch(f"UPDATE tickets SET {assignments} FROM (VALUES {', '.join(one for _ in rows)}) AS v "
                       "WHERE tickets.id = v.column1", *[value for row in rows for value in row])

    first, solve, reopen, again, close = [], [], [], [], []
    for ticket_id, (created, responded, solved, _, _, _, fr_due, res_due, reopened, status, closed) in done:
        first.append((ticket_id, responded, responded > fr_due))
        solve.append((ticket_id, solved, solved > res_due))
        if reopened is not None:  # the customer wrote again; solved a second time
            reopen.append((ticket_id, reopened))
            again.append((ticket_id, reopened + timedelta(hours=3)))
        if status == "closed":
            close.append((ticket_id, closed))
    stamp = ("INTEGER", "TIMESTAMPTZ", "BOOLEAN")
    async with db.transaction():
        await update("status = 'open', first_responded_at = v.column2, first_response_due_at = NULL, "
                     "first_response_breached = v.column3, updated_at = v.column2", first, stamp)
        await update("status = 'solved', solved_at = v.column2, resolution_breached = v.column3, "
                     "updated_at = v.column2", solve, stamp)
        await update("status = 'open', updated_at = v.column2, last_customer_message_at = v.column2", reopen, stamp[:2])
        await update("status = 'solved', solved_at = v.column2, updated_at = v.column2", again, stamp[:2])
        await update("status = 'closed', closed_at = v.column2", close, stamp[:2])


async def add_shifts() -> None:
    """Shifts for the demo's agents (Asia/Shanghai), so the planning page has agents on shift."""
    from core.plugin_api import Agent, AgentShift

    weekdays = ("mon", "tue", "wed", "thu", "fri")
    plans = {0: {d: [["09:00", "18:00"]] for d in weekdays},
             1: {d: [["08:00", "17:00"]] for d in (*weekdays, "sat")},
             2: {d: [["13:00", "22:00"]] for d in (*weekdays, "sun")}}
    agents = await Agent.select(Agent.id).order_by(Agent.id)
    for i, agent in enumerate(agents):
        await Agent.update({Agent.timezone: "Asia/Shanghai"}).where(Agent.id == agent["id"])
        if not await AgentShift.exists().where(AgentShift.agent == agent["id"]):
            await AgentShift.insert(AgentShift(agent=agent["id"], hours=plans[i % 3]))

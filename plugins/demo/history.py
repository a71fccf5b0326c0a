"""Four months of past tickets for the demo's reports and forecast: weekly and daily rhythm, a
climb to 11.11 and a Black Friday bump, first responses, solves, a few reopens and SLA breaches.

The tickets are stored in their final state (solved or closed) with their messages, then the
report facts are taken from them and folded (`relaydesk reports rebuild --from-tickets` does the
same), so the history goes through the same code a desk's own upgrade does."""

from __future__ import annotations

import random
from datetime import date, datetime, timedelta, timezone
from typing import Any

DAYS = 120
PER_DAY = 24  # an ordinary weekday
WEEKLY = [1.15, 1.1, 1.0, 1.0, 0.95, 0.7, 0.6]
HOURS = [1, 1, 1, 1, 1, 2, 3, 5, 8, 10, 11, 11, 9, 10, 11, 10, 9, 8, 8, 9, 10, 9, 6, 3]  # Shanghai, per hour
LANGUAGES = ["zh", "zh", "zh", "en", "en", "de"]
TAGS = ["物流", "退货", "refund", "shipping", "invoice"]


def _peak(day: date) -> float:
    from core.reports.forecast import black_friday

    around_1111 = {-3: 1.4, -2: 1.8, -1: 2.4, 0: 4.0, 1: 2.2, 2: 1.5, 3: 1.2}
    lift = around_1111.get((day - date(day.year, 11, 11)).days, 1.0)
    return lift * (2.2 if day == black_friday(day.year) else 1.0)


async def add_history(desk: Any, now: datetime, seed: int = 11) -> int:
    """Store the past tickets, then rebuild the report facts and rollups; returns how many tickets."""
    from zoneinfo import ZoneInfo

    from core.reports import rollups
    from core.tables import Agent, Customer, Message, Ticket, TicketTag

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
            tickets.append(Ticket(
                subject="", status=status, customer=rng.choice(customers), account=account.id,
                channel_type=account.channel_type, assignee=agent, language=rng.choice(LANGUAGES),
                created_at=created, updated_at=solved, last_message_at=solved, last_customer_message_at=created,
                first_responded_at=responded, first_response_breached=responded > fr_due,
                resolution_due_at=res_due, resolution_breached=solved > res_due, solved_at=solved,
                closed_at=closed if status == "closed" else None))
            plans.append((created, responded, solved, replies, agent, account.id))
        if not tickets:
            continue
        ids = [r["id"] for r in await Ticket.insert(*tickets).returning(Ticket.id)]
        messages, tags = [], []
        for ticket_id, (created, responded, solved, replies, agent, account) in zip(ids, plans):
            messages.append(Message(ticket=ticket_id, account=account, direction="inbound", text="…", created_at=created))
            for n in range(replies):
                at = responded + (solved - responded) * n / max(1, replies - 1) if replies > 1 else responded
                messages.append(Message(ticket=ticket_id, account=account, direction="outbound", author=agent,
                                        text="…", delivery_status="delivered", created_at=at))
            if rng.random() < 0.5:
                tags.append(TicketTag(ticket=ticket_id, tag=rng.choice(TAGS)))
        await Message.insert(*messages)
        if tags:
            await TicketTag.insert(*tags)
        made += len(ids)
    await rollups.seed_from_tickets()
    await rollups.rebuild()
    return made


async def add_shifts() -> None:
    """Shifts for the demo's agents (Asia/Shanghai), so the planning page has agents on shift."""
    from core.tables import Agent, AgentShift

    weekdays = ("mon", "tue", "wed", "thu", "fri")
    plans = {0: {d: [["09:00", "18:00"]] for d in weekdays},
             1: {d: [["08:00", "17:00"]] for d in (*weekdays, "sat")},
             2: {d: [["13:00", "22:00"]] for d in (*weekdays, "sun")}}
    agents = await Agent.select(Agent.id).order_by(Agent.id)
    for i, agent in enumerate(agents):
        await Agent.update({Agent.timezone: "Asia/Shanghai"}).where(Agent.id == agent["id"])
        if not await AgentShift.exists().where(AgentShift.agent == agent["id"]):
            await AgentShift.insert(AgentShift(agent=agent["id"], hours=plans[i % 3]))

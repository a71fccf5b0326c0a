"""The admin's audit page: who changed what, filtered by actor, action and date, newest first."""

from __future__ import annotations

from datetime import datetime, time, timedelta

from litestar import Request, get
from litestar.response import Template

from core import audit
from core.bounds import parse_id
from core.tables import Agent
from web import i18n
from web.inbox.common import page
from web.sessions import page_guard

PAGE_SIZE = 50


def _day(value: str | None) -> datetime | None:
    """A date from the filter form (YYYY-MM-DD) as the start of that day in the agent's time zone."""
    if not value:
        return None
    try:
        day = datetime.strptime(value[:10], "%Y-%m-%d").date()
    except ValueError:
        return None
    return datetime.combine(day, time.min, tzinfo=i18n.zone())


@get("/inbox/admin/audit", include_in_schema=False, guards=[page_guard("admin")])
async def audit_page(request: Request, actor: str | None = None, action: str | None = None,
                     since: str | None = None, until: str | None = None, before: str | None = None) -> Template:
    actor, action = (actor or "").strip()[:100] or None, (action or "").strip()[:64] or None
    start, end = _day(since), _day(until)
    rows, more = await audit.entries(actor=actor, action=action, since=start,
                                     until=end + timedelta(days=1) if end else None,
                                     before_id=parse_id(before) if before else None, limit=PAGE_SIZE)
    names = {f"agent:{r['id']}": r["name"] for r in await Agent.select(Agent.id, Agent.name)}
    query = {k: v for k, v in {"actor": actor, "action": action, "since": since, "until": until}.items() if v}
    return await page(request, "admin/audit.html", entries=rows, more=more, names=names, actions=await audit.actions(),
                      filters=query, next_before=rows[-1]["id"] if more else None)


ROUTES = [audit_page]

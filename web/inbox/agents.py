"""The admin's agents page: invite, change roles, deactivate and reactivate, make reset links.

Everything goes through core.people, as the CLI and the API do. A new agent or a reset gets a
signed link that the page shows once for the admin to pass on (the desk does not mail it yet).
"""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Template

from core import people
from core.errors import RelaydeskError
from core.tables import Agent
from web import i18n
from web.inbox.common import form_value, page
from web.sessions import page_guard, session_agent

ADMIN = [page_guard("admin")]


async def _render(request: Request, *, status_code: int = 200, link: str | None = None, link_for: str | None = None,
                  error: str | None = None) -> Template:
    rows = await Agent.select(Agent.id, Agent.name, Agent.email, Agent.role, Agent.active, Agent.availability,
                              Agent.password_hash).order_by(Agent.active, Agent.name)
    agents = [{**r, "has_password": bool(r.pop("password_hash"))} for r in rows]
    agents.sort(key=lambda a: (not a["active"], a["name"].lower()))
    return await page(request, "admin/agents.html", status_code=status_code, agents=agents, roles=people.ROLES,
                      link=link, link_for=link_for, error=error)


def _link(request: Request, agent: dict, purpose: str) -> str:
    settings = request.app.state.desk.settings
    return people.link_url(settings.public_url, people.make_link_token(settings.secret, agent, purpose))


@get("/inbox/admin/agents", include_in_schema=False, guards=ADMIN)
async def agents_page(request: Request) -> Template:
    return await _render(request)


@post("/inbox/admin/agents", include_in_schema=False, guards=ADMIN)
async def invite(request: Request) -> Template:
    me = await session_agent(request)
    form = await request.form()
    try:
        agent = await people.add(form_value(form, "email"), form_value(form, "name"), form_value(form, "role") or "agent",
                                 actor=f"agent:{me['id']}")
    except RelaydeskError as exc:
        return await _render(request, status_code=exc.status_code, error=i18n.translate_error(exc))
    return await _render(request, status_code=201, link=_link(request, agent, "invite"), link_for=agent["email"])


@post("/inbox/admin/agents/{agent_id:int}", include_in_schema=False, guards=ADMIN)
async def change(request: Request, agent_id: int) -> Template:
    me = await session_agent(request)
    form = await request.form()
    action = form_value(form, "action")
    actor = f"agent:{me['id']}"
    agent = await Agent.select().where(Agent.id == agent_id).first()
    if agent is None:
        return await _render(request, status_code=404, error=i18n.gettext_("This agent does not exist."))
    try:
        if action == "role":
            await people.set_role(agent_id, form_value(form, "role"), actor=actor)
        elif action == "deactivate":
            await people.deactivate(request.app.state.desk, agent_id, actor=actor)
        elif action == "activate":
            await people.activate(agent_id, actor=actor)
        elif action == "reset":
            purpose = "reset" if agent["password_hash"] else "invite"
            return await _render(request, link=_link(request, agent, purpose), link_for=agent["email"])
        else:
            return await _render(request, status_code=400, error=i18n.gettext_("Unknown action."))
    except RelaydeskError as exc:
        return await _render(request, status_code=exc.status_code, error=i18n.translate_error(exc))
    return await _render(request)


ROUTES = [agents_page, invite, change]

"""The admin's agents page: invite, change roles, deactivate and reactivate, make reset links.

Everything goes through core.people, as the CLI and the API do. A new agent or a reset gets a
signed link, mailed to them when the desk has outgoing mail (web/people_mail.py); otherwise, or when
mailing fails, the page shows it once for the admin to pass on.
"""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Template

from core import desk_mail, people
from core.errors import RelaydeskError
from core.tables import Agent
from web import i18n, people_mail
from web.inbox.common import form_value, page
from web.sessions import page_guard, session_agent

ADMIN = [page_guard("admin")]


async def _render(request: Request, *, status_code: int = 200, link: str | None = None, link_for: str | None = None,
                  error: str | None = None, mailed: bool = False, mail_error: str | None = None) -> Template:
    rows = await Agent.select(Agent.id, Agent.name, Agent.email, Agent.role, Agent.active, Agent.availability,
                              Agent.password_hash).order_by(Agent.active, Agent.name)
    agents = [{**r, "has_password": bool(r.pop("password_hash"))} for r in rows]
    agents.sort(key=lambda a: (not a["active"], a["name"].lower()))
    return await page(request, "admin/agents.html", status_code=status_code, agents=agents, roles=people.ROLES,
                      link=link, link_for=link_for, error=error, mailed=mailed, mail_error=mail_error,
                      languages=i18n.LANGUAGE_NAMES)


async def _send_link(request: Request, agent_id: int, status_code: int = 200) -> Template:
    """Make the agent's password link, mail it when the desk can, and show what happened."""
    desk = request.app.state.desk
    agent = await Agent.select().where(Agent.id == agent_id).first()
    purpose, url = people_mail.link_for(desk, agent)
    mail_error = None
    if desk_mail.available(desk):
        mail_error = await people_mail.mail_link(desk, agent, purpose, url)
    return await _render(request, status_code=status_code, link=url, link_for=agent["email"],
                         mailed=desk_mail.available(desk) and mail_error is None, mail_error=mail_error)


@get("/inbox/admin/agents", include_in_schema=False, guards=ADMIN)
async def agents_page(request: Request) -> Template:
    return await _render(request)


@post("/inbox/admin/agents", include_in_schema=False, guards=ADMIN)
async def invite(request: Request) -> Template:
    me = await session_agent(request)
    form = await request.form()
    try:
        agent = await people.add(form_value(form, "email"), form_value(form, "name"), form_value(form, "role") or "agent",
                                 actor=f"agent:{me['id']}", locale=i18n.language_of(form_value(form, "locale")))
    except RelaydeskError as exc:
        return await _render(request, status_code=exc.status_code, error=i18n.translate_error(exc))
    return await _send_link(request, agent["id"], status_code=201)


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
            return await _send_link(request, agent_id)
        else:
            return await _render(request, status_code=400, error=i18n.gettext_("Unknown action."))
    except RelaydeskError as exc:
        return await _render(request, status_code=exc.status_code, error=i18n.translate_error(exc))
    return await _render(request)


ROUTES = [agents_page, invite, change]

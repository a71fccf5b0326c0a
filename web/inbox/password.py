"""Passwords from the inbox: the page behind an invitation or reset link, and changing your own.

Links come from core.people (signed, expiring, spent once the password is set); an admin makes them
with `relaydesk agents invite|reset-link` or on the agents page. Setting the password by link signs
the agent in; changing it in Settings asks for the current one and ends the agent's other sessions.
"""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core import audit, people
from core.auth import verify_password
from core.errors import N_, InvalidRequest
from core.tables import Agent
from web import i18n
from web.inbox.common import page
from web.sessions import page_guard, rotate_session, session_agent

_LINK_PROBLEMS = {
    "damaged": (400, N_("This link is damaged. Copy the whole link from the message, or ask an admin for a new one.")),
    "expired": (410, N_("This link has expired. Ask an admin for a new one.")),
    "used": (410, N_("This link was already used. Sign in, or ask an admin for a new one.")),
}


def _problem(password: str, repeated: str) -> str | None:
    if password != repeated:
        return i18n.gettext_("The two passwords are not the same.")
    try:
        people.check_password(password)
    except InvalidRequest:
        if len(password) < people.MIN_PASSWORD_LENGTH:
            return i18n.gettext_("Use at least %(count)s characters.") % {"count": people.MIN_PASSWORD_LENGTH}
        return i18n.gettext_("This password is too long.")
    return None


async def _speak_the_browsers_language(request: Request) -> None:
    from web.inbox.account import language_from_browser

    if await session_agent(request) is None:  # a newcomer has no settings yet
        language_from_browser(request)


async def _link_page(request: Request, token: str, *, error: str | None = None, status_code: int = 200) -> Template:
    try:
        link, agent = await people.read_link_token(request.app.state.desk.settings.secret, token)
    except people.LinkError as exc:
        status, message = _LINK_PROBLEMS[exc.reason]
        return await page(request, "password.html", status_code=status, link_error=i18n.gettext_(message))
    return await page(request, "password.html", status_code=status_code, token=token, purpose=link.purpose,
                      agent_name=agent["name"], agent_email=agent["email"], error=error)


@get("/password/{token:str}", include_in_schema=False)
async def password_link_form(request: Request, token: str) -> Template:
    await _speak_the_browsers_language(request)
    return await _link_page(request, token)


@post("/password/{token:str}", include_in_schema=False)
async def password_link_set(request: Request, token: str) -> Template | Redirect:
    await _speak_the_browsers_language(request)
    form = await request.form()
    password, repeated = str(form.get("password") or ""), str(form.get("repeat") or "")
    try:
        link, agent = await people.read_link_token(request.app.state.desk.settings.secret, token)
    except people.LinkError:
        return await _link_page(request, token)
    problem = _problem(password, repeated)
    if problem:
        return await _link_page(request, token, error=problem, status_code=400)
    await people.set_password(agent["id"], password, actor=f"link:{link.purpose}")
    fresh = await Agent.select(Agent.session_generation).where(Agent.id == agent["id"]).first()
    rotate_session(request)
    request.set_session({"agent_id": agent["id"], "generation": fresh["session_generation"]})
    await audit.record(f"agent:{agent['id']}", "sign_in", "agent", agent["id"], {"via": link.purpose})
    return Redirect(path="/inbox")


@post("/settings/password", include_in_schema=False, guards=[page_guard("readonly")])
async def change_own_password(request: Request) -> Template | Redirect:
    from web.inbox.account import settings_form_context

    me = await session_agent(request)
    assert me is not None
    form = await request.form()
    current = str(form.get("current") or "")
    password, repeated = str(form.get("password") or ""), str(form.get("repeat") or "")
    stored = await Agent.select(Agent.password_hash).where(Agent.id == me["id"]).first()
    if not verify_password(stored["password_hash"], current):
        problem = i18n.gettext_("Your current password is not right.")
    else:
        problem = _problem(password, repeated)
    if problem:
        return await page(request, "settings.html", status_code=400, password_error=problem,
                          **settings_form_context())
    await people.set_password(me["id"], password, actor=f"agent:{me['id']}")
    fresh = await Agent.select(Agent.session_generation).where(Agent.id == me["id"]).first()
    rotate_session(request)  # this session stays signed in; every other one ended with the change
    request.set_session({"agent_id": me["id"], "generation": fresh["session_generation"]})
    return Redirect(path="/settings?password_changed=true")


ROUTES = [password_link_form, password_link_set, change_own_password]

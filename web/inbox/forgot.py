""""Forgot your password?": an agent asks for a reset link by mail, from the sign-in page.

The answer is the same whether or not the address belongs to an agent, and the mail goes out after
the answer, so neither the page nor its timing tells who works here. Requests are throttled per
account and per address (web.sessions.reset_request_allowed). A desk without outgoing mail says so:
an admin makes the link on the agents page instead.
"""

from __future__ import annotations

import asyncio
import logging

from litestar import Request, get, post
from litestar.response import Template

from core import audit, desk_mail
from core.tables import Agent
from web import people_mail
from web.client_address import client_address
from web.inbox.account import language_from_browser
from web.inbox.common import form_value, page
from web.sessions import reset_request_allowed

log = logging.getLogger("relaydesk.web.forgot")
_sending: set[asyncio.Task] = set()  # kept so a mail in flight is not garbage-collected


@get("/forgot-password", include_in_schema=False)
async def forgot_form(request: Request) -> Template:
    language_from_browser(request)
    return await page(request, "forgot.html", can_mail=desk_mail.available(request.app.state.desk), sent=False)


@post("/forgot-password", include_in_schema=False)
async def forgot(request: Request) -> Template:
    language_from_browser(request)
    desk = request.app.state.desk
    if not desk_mail.available(desk):
        return await page(request, "forgot.html", can_mail=False, sent=False)
    email = form_value(await request.form(), "email").strip().lower()[:254]
    ip = client_address(request, desk.settings.trusted_proxies)
    if email and await reset_request_allowed(email, ip):
        agent = await Agent.select().where(Agent.email == email).first()
        if agent is not None and agent["active"]:
            task = asyncio.create_task(_mail(desk, agent, ip))
            _sending.add(task)
            task.add_done_callback(_sending.discard)
    return await page(request, "forgot.html", can_mail=True, sent=True, email=email)


async def _mail(desk, agent: dict, ip: str) -> None:
    purpose, url = people_mail.link_for(desk, agent)
    problem = await people_mail.mail_link(desk, agent, purpose, url)
    await audit.record(f"agent:{agent['id']}", "password_link", "agent", agent["id"],
                       {"purpose": purpose, "via": "forgot_password", "ip": ip, "mailed": problem is None})
    if problem:
        log.warning("could not mail a password link to agent %s: %s", agent["id"], problem)


ROUTES = [forgot_form, forgot]

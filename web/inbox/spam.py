"""Spam from the inbox: mark a ticket (its sender is blocked) or take it back, and the blocklist page
where supervisors block and unblock senders, e-mail domains and phone numbers (core.spam)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core import spam
from core.errors import RelaydeskError
from web import i18n
from web.inbox.common import form_value, page
from web.sessions import page_guard, session_agent

SUPERVISOR = [page_guard("supervisor")]


@post("/inbox/t/{ticket_id:int}/spam", include_in_schema=False, guards=[page_guard("agent")])
async def mark_spam(request: Request, ticket_id: int) -> Redirect:
    me = await session_agent(request)
    await spam.mark_spam(request.app.state.desk, ticket_id, actor=f"agent:{me['id']}")
    return Redirect(path="/inbox/q/open")


@post("/inbox/t/{ticket_id:int}/not-spam", include_in_schema=False, guards=[page_guard("agent")])
async def not_spam(request: Request, ticket_id: int) -> Redirect:
    me = await session_agent(request)
    await spam.not_spam(request.app.state.desk, ticket_id, actor=f"agent:{me['id']}")
    return Redirect(path=f"/inbox/t/{ticket_id}")


async def _render(request: Request, status_code: int = 200, error: str | None = None) -> Template:
    return await page(request, "admin/blocklist.html", status_code=status_code, entries=await spam.entries(),
                      kinds=spam.KINDS, error=error)


@get("/inbox/admin/blocklist", include_in_schema=False, guards=SUPERVISOR)
async def blocklist(request: Request) -> Template:
    return await _render(request)


@post("/inbox/admin/blocklist", include_in_schema=False, guards=SUPERVISOR)
async def blocklist_change(request: Request) -> Template | Redirect:
    me = await session_agent(request)
    form = await request.form()
    kind, value = form_value(form, "kind"), form_value(form, "value")
    try:
        if form_value(form, "action") == "unblock":
            await spam.unblock(kind, value, actor=f"agent:{me['id']}")
        else:
            await spam.block(kind, value, actor=f"agent:{me['id']}")
    except RelaydeskError as exc:
        return await _render(request, status_code=exc.status_code, error=i18n.translate_error(exc))
    return Redirect(path="/inbox/admin/blocklist")


ROUTES = [mark_spam, not_spam, blocklist, blocklist_change]

"""The reply box's message templates for a closed messaging window (WhatsApp's approved templates):
pick one, fill its variables with a live preview rendered here, send it, refresh the list.

The panel (ticket/_channel_templates.html) is a form of its own beside the reply form, so the
agent's draft is never touched; sending goes through core.reply_templates.compose (the same
checks as the API) and core.outbound.reply with the reply form's collision guard."""

from __future__ import annotations

from typing import Any

from litestar import Request, post
from litestar.response import Redirect, Template

from core import outbound
from core import reply_templates as core_templates
from core.errors import N_, DraftRejected, InvalidRequest, ReplyCollision
from web import i18n
from web.inbox.common import form_value, is_htmx, page
from web.inbox.ticket import _collision, _ticket, last_seen, timeline
from web.sessions import page_guard, session_agent
from web.visibility import viewer

VALUE_PREFIX = "var_"


def _values(form: Any) -> dict[str, str]:
    return {k[len(VALUE_PREFIX):]: form_value(form, k) for k in form if k.startswith(VALUE_PREFIX)}


async def _chosen(request: Request, ticket: dict[str, Any], form: Any) -> tuple[dict[str, Any], dict[str, Any] | None]:
    limits, templates = await core_templates.offered(request.app.state.desk, ticket)
    chosen = form_value(form, "template")
    found = next((t for t in templates if core_templates.key(t) == chosen), None) if chosen else None
    return limits, found


async def _panel(request: Request, ticket: dict[str, Any], status_code: int = 200, **extra: Any) -> Template:
    limits, _ = await core_templates.offered(request.app.state.desk, ticket)
    return await page(request, "ticket/_channel_templates.html", status_code=status_code, ticket=ticket,
                      limits=limits, **extra)


@post("/inbox/t/{ticket_id:int}/channel-templates/refresh", include_in_schema=False, guards=[page_guard("agent")])
async def refresh(request: Request, ticket_id: int) -> Template:
    ticket = await _ticket(ticket_id)
    await core_templates.refresh(request.app.state.desk, ticket)
    return await _panel(request, ticket)


@post("/inbox/t/{ticket_id:int}/channel-templates/fields", include_in_schema=False, guards=[page_guard("agent")])
async def fields(request: Request, ticket_id: int) -> Template:
    """The chosen template's inputs, one per variable, and its preview."""
    ticket = await _ticket(ticket_id)
    form = await request.form()
    _, template = await _chosen(request, ticket, form)
    return await page(request, "ticket/_channel_template_fields.html", ticket=ticket, chosen=template,
                      preview=core_templates.render(template, {}) if template else "")


@post("/inbox/t/{ticket_id:int}/channel-templates/preview", include_in_schema=False, guards=[page_guard("agent")])
async def preview(request: Request, ticket_id: int) -> Template:
    ticket = await _ticket(ticket_id)
    form = await request.form()
    _, template = await _chosen(request, ticket, form)
    values = {k: v[:core_templates.MAX_VALUE] for k, v in _values(form).items()}
    # out of band: an earlier refusal ("fill in variable ...") no longer applies once the agent types
    return await page(request, "ticket/_channel_template_preview.html", clear_problems=True,
                      preview=core_templates.render(template, values) if template else "")


@post("/inbox/t/{ticket_id:int}/channel-templates/send", include_in_schema=False, guards=[page_guard("agent")])
async def send(request: Request, ticket_id: int) -> Template | Redirect:
    agent = await session_agent(request)
    ticket = await _ticket(ticket_id)
    form = await request.form()
    desk = request.app.state.desk
    seen = form_value(form, "last_seen")
    name, _, language = form_value(form, "template").partition(":")
    try:
        if not name:
            raise core_templates.refusal(N_("choose a template to send"))
        text, metadata = await core_templates.compose(desk, ticket, name, language, _values(form))
        await outbound.reply(desk, ticket_id, author_id=agent["id"], text=text, metadata=metadata,
                             seen_up_to=int(seen) if seen.isdigit() and len(seen) < 19 else None)
    except ReplyCollision as exc:
        return await _collision(request, ticket_id, exc)
    except (InvalidRequest, DraftRejected) as exc:
        if not is_htmx(request):
            raise
        response = await page(request, "ticket/_channel_template_problem.html", status_code=422,
                              problem=i18n.translate_error(exc))
        response.headers.update({"HX-Retarget": "#tpl-problems", "HX-Reswap": "innerHTML"})
        return response
    if not is_htmx(request):
        return Redirect(path=f"/inbox/t/{ticket_id}")
    ticket = await _ticket(ticket_id)
    rows = await timeline(ticket["customer"], seen=await viewer(request, await session_agent(request)))
    limits, _ = await core_templates.offered(desk, ticket)
    # the timeline; out of band: the header, the collision guard's mark and an emptied template panel
    return await page(request, "ticket/_after_template.html", ticket=ticket, timeline=rows, limits=limits,
                      last_seen=last_seen(rows, ticket_id), queue=form_value(form, "queue") or "open")


ROUTES = [refresh, fields, preview, send]

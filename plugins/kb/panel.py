"""The ticket view's "Help articles" panel: the articles that best match the ticket (plugins.kb.suggest),
each with buttons that preview its help-center link or a passage; the preview's Insert button puts
it into the reply box (the inbox's own data-insert behaviour), and the choice is recorded on the
ticket (kb_uses) so reports can tell which articles answer customers."""

from __future__ import annotations

from pathlib import Path
from typing import Any

from litestar import Request, post
from litestar.response import Response

from core.plugin_api import InvalidRequest, NotFound
from core.plugin_api import Ticket
from plugins.kb import public, state, suggest
from plugins.kb.helpcenter import article_url
from plugins.kb.tables import KbUse
from web.plugin_api import form_value
from web.plugin_api import PluginTemplates
from web.plugin_api import page_guard, session_agent

templates = PluginTemplates(Path(__file__).parent)
_ = templates.translator


async def render(ticket: dict[str, Any], agent: dict[str, Any] | None) -> dict[str, str] | None:
    limit = state.settings().suggestions
    if not limit or not ticket.get("id"):
        return None
    found = await suggest.for_ticket(ticket, limit)
    can_write = bool(agent) and agent.get("role") != "readonly"
    title = _("Help articles")
    return {"title": title, "html": templates.render("panel.html", articles=found, ticket=ticket, can_write=can_write)}


async def _link(desk: Any, article: dict[str, Any]) -> str | None:
    if article["visibility"] != "public":
        return None
    keys = article["brands"] or await public.brand_keys()
    for key in keys:
        brand = await public.brand(key)
        if brand and article["language"] in brand["languages"]:
            base = (getattr(desk.settings, "public_url", "") or "").rstrip("/")
            return base + article_url(key, article["language"], {"id": article["article"], "slug": article["slug"]})
    return None


@post("/inbox/plugins/kb/use", include_in_schema=False, guards=[page_guard("agent")], status_code=200)
async def use_article(request: Request) -> Response:
    """Preview a suggested article's link or passage for the reply box, and record the use."""
    agent = await session_agent(request)
    form = await request.form()
    ticket_id, article_id = form_value(form, "ticket"), form_value(form, "article")
    mode, language = form_value(form, "mode"), form_value(form, "language")
    if not ticket_id.isdigit() or not article_id.isdigit() or mode not in ("link", "passage"):
        raise InvalidRequest("ticket, article and mode (link or passage) are required")
    ticket = await Ticket.select(Ticket.id, Ticket.subject, Ticket.language).where(Ticket.id == int(ticket_id)).first()
    if ticket is None:
        raise NotFound("no such ticket")
    texts = await suggest._texts(language)
    article = next(({**t, "article": t["article"], "language": language} for t in texts.values()
                    if t["article"] == int(article_id)), None)
    if article is None:
        raise NotFound("no such published article in that language")
    if mode == "link":
        text = await _link(request.app.state.desk, article)
        if text is None:
            return Response(f'<p class="muted">{_("This article has no public page to link to.")}</p>',
                            media_type="text/html")
        text = f"{article['title']}: {text}"
    else:
        from plugins.kb.content import plain_text

        text = plain_text(article["body_html"])[:2000]
    await KbUse.insert(KbUse(ticket=int(ticket_id), article=int(article_id), language=language,
                             agent=agent["id"] if agent else None, mode=mode))
    return Response(templates.render("insert.html", text=text), media_type="text/html")

"""Shared pieces of the inbox pages: rendering with the signed-in agent, htmx detection, errors."""

from __future__ import annotations

from typing import Any
from urllib.parse import quote

from litestar import Request, Response
from litestar.response import Redirect, Template

from core.bounds import parse_id
from core.errors import InvalidRequest, RelaydeskError
from web import i18n
from web.sessions import SignInRequired, can, session_agent


def is_htmx(request: Request) -> bool:
    return request.headers.get("hx-request") == "true"


async def page(request: Request, template: str, status_code: int = 200, **context: Any) -> Template:
    agent = await session_agent(request)
    from core.notifications import unread_count

    from web.visibility import viewer

    unread = await unread_count(agent["id"], await viewer(request, agent)) if agent else 0
    return Template(template_name=template, status_code=status_code, context={
        "me": agent, "unread_notifications": unread, "can_write": can(agent, "agent"), "is_admin": can(agent, "admin"), "is_supervisor": can(agent, "supervisor"),
        "path": request.url.path, "htmx": is_htmx(request),
        "url": request.url.path + (f"?{request.url.query}" if request.url.query else ""), **context,
    })


def form_value(form: Any, key: str, default: str = "") -> str:
    value = form.get(key, default)
    if isinstance(value, list):
        value = value[-1] if value else default
    return str(value or default).strip()


def chosen_id(value: str) -> int | None:
    """An id picked in a form: None when nothing was picked, 400 when the value names no row
    (not digits, or beyond the column's range: core.bounds)."""
    if not value:
        return None
    chosen = parse_id(value)
    if chosen is None:
        raise InvalidRequest(f"{value[:40]!r} is not an id")
    return chosen


def form_list(form: Any, key: str) -> list[str]:
    if hasattr(form, "getall"):
        return [str(v) for v in form.getall(key, [])]
    value = form.get(key)
    return value if isinstance(value, list) else ([value] if value else [])


def inbox_error(request: Request, exc: Exception) -> Response:
    """Inbox errors as people see them: sign-in redirects, a page for 403/404, a message for htmx."""
    from web.errors import as_unavailable

    unavailable = as_unavailable(exc) if not isinstance(exc, RelaydeskError) or exc.status_code == 503 else None
    if unavailable is not None:
        return _unavailable_page(request, unavailable)
    if isinstance(exc, SignInRequired):
        target = "/login?next=" + quote(request.url.path)
        if is_htmx(request):
            return Response(content="", status_code=401, headers={"HX-Redirect": target})
        return Redirect(path=target)
    status = getattr(exc, "status_code", 500)
    message = getattr(exc, "message", None) or getattr(exc, "detail", None) or i18n.gettext_("Something went wrong.")
    if isinstance(exc, RelaydeskError):
        message = i18n.translate_error(exc)  # the agent's language where the error has a catalog template
    if status >= 500 and not isinstance(exc, RelaydeskError):
        import logging

        logging.getLogger("relaydesk.web").exception("inbox error on %s", request.url.path, exc_info=exc)
        message = i18n.gettext_("Something went wrong.")
    if is_htmx(request):
        return Response(content=f'<div class="flash error" role="alert">{_escape(message)}</div>', status_code=status,
                        media_type="text/html", headers={"HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    return Template(template_name="error.html", status_code=status,
                    context={"status": status, "message": message, "me": request.scope.get("relaydesk_session_agent")})


def _unavailable_page(request: Request, exc: Any) -> Response:
    message = i18n.gettext_("The desk cannot reach a service it depends on right now. Please try again in a moment.")
    headers = {"retry-after": str(exc.retry_after)}
    if is_htmx(request):
        return Response(content=f'<div class="flash error" role="alert">{_escape(message)}</div>', status_code=503,
                        media_type="text/html", headers={**headers, "HX-Retarget": "#flash", "HX-Reswap": "innerHTML"})
    return Template(template_name="error.html", status_code=503, headers=headers,
                    context={"status": 503, "message": message, "me": request.scope.get("relaydesk_session_agent")})


def _escape(text: str) -> str:
    from markupsafe import escape

    return str(escape(text))

"""Sign in, sign out, sign out everywhere, and the agent's own settings."""

from __future__ import annotations

from typing import Any
from zoneinfo import available_timezones

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core import audit
from core.tables import AVAILABILITY, Agent
from web import i18n
from web.client_address import client_address
from web.inbox.common import form_value, page
from web.sessions import Throttled, page_guard, rotate_session, session_agent, sign_in, sign_out_everywhere


def _safe_next(value: str | None) -> str:
    # only local paths: never redirect to another site after sign-in
    if value and value.startswith("/") and not value.startswith("//") and "\\" not in value:
        return value
    return "/inbox"


@get("/login", include_in_schema=False)
async def login_form(request: Request, next: str | None = None) -> Template | Redirect:
    if await session_agent(request):
        return Redirect(path=_safe_next(next))
    language_from_browser(request)
    return await page(request, "login.html", next=_safe_next(next), error=None)


@post("/login", include_in_schema=False)
async def login(request: Request) -> Template | Redirect:
    form = await request.form()
    email, password = form_value(form, "email"), form.get("password") or ""
    target = _safe_next(form_value(form, "next"))
    language_from_browser(request)
    ip = client_address(request, request.app.state.desk.settings.trusted_proxies)
    try:
        agent = await sign_in(email, str(password), ip)
    except Throttled as exc:
        return await page(request, "login.html", status_code=429, next=target, error=exc.message, email=email)
    if agent is None:
        return await page(request, "login.html", status_code=401, next=target, email=email,
                          error=i18n.gettext_("The email or password is not right."))
    rotate_session(request)  # a session id planted before sign-in must not become a signed-in one
    request.set_session({"agent_id": agent["id"], "generation": agent["session_generation"]})
    await audit.record(f"agent:{agent['id']}", "sign_in", "agent", agent["id"], {"ip": ip})
    return Redirect(path=target)


@post("/logout", include_in_schema=False, guards=[page_guard("readonly")])
async def logout(request: Request) -> Redirect:
    request.clear_session()
    return Redirect(path="/login")


@post("/logout/everywhere", include_in_schema=False, guards=[page_guard("readonly")])
async def logout_everywhere(request: Request) -> Redirect:
    agent = await session_agent(request)
    assert agent is not None
    await sign_out_everywhere(agent["id"])
    await audit.record(f"agent:{agent['id']}", "sign_out_everywhere", "agent", agent["id"])
    request.clear_session()
    return Redirect(path="/login")


_ZONES = sorted(z for z in available_timezones() if "/" in z and not z.startswith(("Etc/", "SystemV/", "posix/", "right/")))


def settings_form_context() -> dict[str, Any]:
    return {"zones": ["UTC", *_ZONES], "availability": AVAILABILITY}


@get("/settings", include_in_schema=False, guards=[page_guard("readonly")])
async def settings_form(request: Request, saved: bool = False, password_changed: bool = False) -> Template:
    return await page(request, "settings.html", saved=saved, password_changed=password_changed,
                      **settings_form_context())


@post("/settings", include_in_schema=False, guards=[page_guard("readonly")])
async def settings_save(request: Request) -> Template | Redirect:
    agent = await session_agent(request)
    assert agent is not None
    form = await request.form()
    values: dict[Any, Any] = {}
    language = form_value(form, "locale")
    if language in i18n.LANGUAGES:
        values[Agent.locale] = language
    zone = form_value(form, "timezone")
    if zone == "UTC" or zone in _ZONES:
        values[Agent.timezone] = zone
    availability = form_value(form, "availability")
    if availability in AVAILABILITY:
        values[Agent.availability] = availability
    if values:
        await Agent.update(values).where(Agent.id == agent["id"])
        await audit.record(f"agent:{agent['id']}", "settings", "agent", agent["id"],
                           {c._meta.name: v for c, v in values.items()})
    return Redirect(path="/settings?saved=true")


def language_from_browser(request: Request) -> None:
    """Before sign-in, speak the browser's language (Accept-Language), Chinese or English."""
    accepted = request.headers.get("accept-language", "").lower()
    first = accepted.split(",")[0].strip()
    i18n.current_language.set("zh" if first.startswith("zh") else "en")


ROUTES = [login_form, login, logout, logout_everywhere, settings_form, settings_save]

"""Admin pages: reply templates (macros)."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Template

from core import macros as core_macros
from core.bounds import parse_id
from core.tables import Macro
from web.inbox.common import form_value, page
from web.sessions import page_guard, session_agent


@get("/inbox/admin/macros", include_in_schema=False, guards=[page_guard("supervisor")])
async def macro_list(request: Request, edit: int | None = None) -> Template:
    rows = await Macro.select().order_by(Macro.shortcut, Macro.channel_type, Macro.language)
    current = next((r for r in rows if r["id"] == edit), None)
    channels = sorted(request.app.state.desk.registry.channels)
    return await page(request, "admin/macros.html", macros=rows, current=current, channels=channels)


@post("/inbox/admin/macros", include_in_schema=False, guards=[page_guard("supervisor")])
async def macro_save(request: Request) -> Redirect:
    agent = await session_agent(request)
    form = await request.form()
    macro_id = form_value(form, "id")
    await core_macros.save(
        f"agent:{agent['id']}", macro_id=parse_id(macro_id),
        name=form_value(form, "name"), shortcut=form_value(form, "shortcut"), body=str(form.get("body") or ""),
        channel_type=form_value(form, "channel_type") or None, language=form_value(form, "language") or None,
    )
    return Redirect(path="/inbox/admin/macros")


@post("/inbox/admin/macros/{macro_id:int}/delete", include_in_schema=False, guards=[page_guard("supervisor")])
async def macro_delete(request: Request, macro_id: int) -> Redirect:
    agent = await session_agent(request)
    await core_macros.delete(f"agent:{agent['id']}", macro_id)
    return Redirect(path="/inbox/admin/macros")


ROUTES = [macro_list, macro_save, macro_delete]

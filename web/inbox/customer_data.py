"""Export and erase a customer from the customer panel (admins): the zip download, and an erase
that first shows what will go and asks to confirm."""

from __future__ import annotations

from litestar import Request, get, post
from litestar.response import Redirect, Stream, Template

from web import customer_data
from web.inbox.common import form_value, page
from web.sessions import page_guard, session_agent  # noqa: F401

ADMIN = [page_guard("admin")]


@get("/inbox/customers/{customer_id:int}/export", include_in_schema=False, guards=ADMIN)
async def export_customer(request: Request, customer_id: int) -> Stream:
    me = await session_agent(request)
    return await customer_data.export_response(request, customer_id, f"agent:{me['id']}")


@get("/inbox/customers/{customer_id:int}/erase", include_in_schema=False, guards=ADMIN)
async def erase_confirmation(request: Request, customer_id: int) -> Template:
    customer = await customer_data.require_customer(customer_id)
    return await page(request, "customer_erase.html", customer=customer,
                      counts=await customer_data.erase_preview(customer_id))


@post("/inbox/customers/{customer_id:int}/erase", include_in_schema=False, guards=ADMIN)
async def erase_customer(request: Request, customer_id: int) -> Template | Redirect:
    me = await session_agent(request)
    form = await request.form()
    customer = await customer_data.require_customer(customer_id)
    if form_value(form, "confirm") != "erase":
        return await page(request, "customer_erase.html", status_code=400, customer=customer,
                          counts=await customer_data.erase_preview(customer_id), unconfirmed=True)
    reason = form_value(form, "reason")[:200] or "erased on request"
    await customer_data.erase(request, customer_id, f"agent:{me['id']}", reason)
    return Redirect(path="/inbox/q/open")


@post("/inbox/customers/{customer_id:int}/split", include_in_schema=False, guards=[page_guard("agent")])
async def split_customer(request: Request, customer_id: int) -> Redirect:
    """Undo a merge from the panel of the customer it went into."""
    from core.merge import split

    me = await session_agent(request)
    form = await request.form()
    back = form_value(form, "back")
    await split(customer_id, actor=f"agent:{me['id']}")
    return Redirect(path=back if back.startswith("/inbox/") and not back.startswith("//") else "/inbox/q/open")


ROUTES = [export_customer, erase_confirmation, erase_customer, split_customer]
